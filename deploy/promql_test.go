package deploy_test

import (
	"fmt"
	"reflect"
	"regexp"
	"strings"
	"testing"
)

// selector is one series selector in a PromQL expression.
type selector struct {
	metric   string    // empty for a bare {…} selector
	matchers []matcher // label matchers inside {…}
}

type matcher struct{ label, op, value string }

// promExpr is what the deploy tests need from a PromQL expression: the
// series it selects, the labels it groups by, and the Grafana variables
// ($name) it uses. It is a lexer, not a parser: enough to find names.
type promExpr struct {
	selectors []selector
	grouping  []string // labels in by/without/on/ignoring/group_left/group_right (…)
	variables []string // Grafana variables ($name, ${name}), without the $, quoted ones too
}

var grafanaVariable = regexp.MustCompile(`\$\{?([A-Za-z_][A-Za-z0-9_]*)`)

var (
	promAggregations = set("sum", "min", "max", "avg", "group", "stddev", "stdvar", "count", "count_values",
		"bottomk", "topk", "quantile", "limitk", "limit_ratio")
	promKeywords = set("and", "or", "unless", "bool", "offset", "by", "without", "on", "ignoring",
		"group_left", "group_right", "atan2", "start", "end", "inf", "nan")
	promGrouping = set("by", "without", "on", "ignoring", "group_left", "group_right")
)

func set(s ...string) map[string]bool {
	m := map[string]bool{}
	for _, v := range s {
		m[strings.ToLower(v)] = true
	}
	return m
}

func isIdentStart(c byte) bool {
	return c == '_' || c == ':' || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')
}

func isIdentChar(c byte) bool { return isIdentStart(c) || (c >= '0' && c <= '9') }

func isSpace(c byte) bool { return c == ' ' || c == '\t' || c == '\n' || c == '\r' }

// parsePromQL lexes expr. It returns an error for unbalanced quotes,
// brackets or braces.
func parsePromQL(expr string) (promExpr, error) {
	var out promExpr
	for _, m := range grafanaVariable.FindAllStringSubmatch(expr, -1) {
		out.variables = append(out.variables, m[1])
	}
	s := expr
	i := 0
	skipSpace := func() {
		for i < len(s) && isSpace(s[i]) {
			i++
		}
	}
	ident := func() string {
		start := i
		for i < len(s) && isIdentChar(s[i]) {
			i++
		}
		return s[start:i]
	}
	quoted := func() (string, error) {
		q := s[i]
		i++
		var b strings.Builder
		for i < len(s) && s[i] != q {
			if s[i] == '\\' && q != '`' && i+1 < len(s) {
				i++
			}
			b.WriteByte(s[i])
			i++
		}
		if i >= len(s) {
			return "", fmt.Errorf("unterminated string in %q", expr)
		}
		i++
		return b.String(), nil
	}
	matchers := func() ([]matcher, error) {
		i++ // {
		var ms []matcher
		for {
			skipSpace()
			if i >= len(s) {
				return nil, fmt.Errorf("unbalanced { in %q", expr)
			}
			if s[i] == '}' {
				i++
				return ms, nil
			}
			if s[i] == ',' {
				i++
				continue
			}
			var m matcher
			if s[i] == '"' || s[i] == '\'' {
				v, err := quoted() // {"metric_name"} form (Prometheus 3)
				if err != nil {
					return nil, err
				}
				m = matcher{label: "__name__", op: "=", value: v}
				ms = append(ms, m)
				continue
			}
			if !isIdentStart(s[i]) {
				return nil, fmt.Errorf("unexpected %q in matchers of %q", s[i], expr)
			}
			m.label = ident()
			skipSpace()
			for i < len(s) && strings.IndexByte("=!~", s[i]) >= 0 {
				m.op += string(s[i])
				i++
			}
			skipSpace()
			if m.op == "" || i >= len(s) || (s[i] != '"' && s[i] != '\'' && s[i] != '`') {
				return nil, fmt.Errorf("bad matcher for %s in %q", m.label, expr)
			}
			v, err := quoted()
			if err != nil {
				return nil, err
			}
			m.value = v
			ms = append(ms, m)
		}
	}
	for i < len(s) {
		c := s[i]
		switch {
		case isSpace(c) || strings.IndexByte("()+-*/%^,=!<>@", c) >= 0:
			i++
		case c == '#':
			for i < len(s) && s[i] != '\n' {
				i++
			}
		case c == '"' || c == '\'' || c == '`':
			if _, err := quoted(); err != nil {
				return out, err
			}
		case c == '[':
			end := strings.IndexByte(s[i:], ']')
			if end < 0 {
				return out, fmt.Errorf("unbalanced [ in %q", expr)
			}
			i += end + 1
		case c == '{':
			ms, err := matchers()
			if err != nil {
				return out, err
			}
			out.selectors = append(out.selectors, selector{matchers: ms})
		case c == '$': // a Grafana variable, collected above
			i++
			if i < len(s) && s[i] == '{' {
				end := strings.IndexByte(s[i:], '}')
				if end < 0 {
					return out, fmt.Errorf("unbalanced ${ in %q", expr)
				}
				i += end + 1
			} else {
				ident()
			}
		case c >= '0' && c <= '9' || c == '.':
			for i < len(s) && (isIdentChar(s[i]) || s[i] == '.') {
				if (s[i] == 'e' || s[i] == 'E') && i+1 < len(s) && (s[i+1] == '+' || s[i+1] == '-') {
					i++
				}
				i++
			}
		case isIdentStart(c):
			name := ident()
			skipSpace()
			lower := strings.ToLower(name)
			switch {
			case promGrouping[lower]:
				if i < len(s) && s[i] == '(' {
					end := strings.IndexByte(s[i:], ')')
					if end < 0 {
						return out, fmt.Errorf("unbalanced ( after %s in %q", name, expr)
					}
					for _, l := range strings.Split(s[i+1:i+end], ",") {
						if l = strings.TrimSpace(l); l != "" {
							out.grouping = append(out.grouping, l)
						}
					}
					i += end + 1
				}
			case promKeywords[lower] || promAggregations[lower]:
			case i < len(s) && s[i] == '(':
				// a function call
			default:
				sel := selector{metric: name}
				if i < len(s) && s[i] == '{' {
					ms, err := matchers()
					if err != nil {
						return out, err
					}
					sel.matchers = ms
				}
				out.selectors = append(out.selectors, sel)
			}
		default:
			return out, fmt.Errorf("unexpected %q in %q", c, expr)
		}
	}
	return out, nil
}

func TestParsePromQL(t *testing.T) {
	tests := []struct {
		expr      string
		metrics   []string
		grouping  []string
		variables []string
	}{
		{`up{job="sluice"} == 0`, []string{"up"}, nil, nil},
		{`sum by (le) (rate(sluice_x_bucket[$__rate_interval]))`, []string{"sluice_x_bucket"}, []string{"le"}, []string{"__rate_interval"}},
		{`histogram_quantile(0.99, sum(rate(a_bucket[5m])) by (le, job))`, []string{"a_bucket"}, []string{"le", "job"}, nil},
		{"sum(rate(a[5m])) / clamp_min(sum(rate(b[5m])), 1e-9) > 0.01", []string{"a", "b"}, nil, nil},
		{`count by (model) (count by (model, version) (m == 1)) > 1`, []string{"m"}, []string{"model", "model", "version"}, nil},
		{`max by (f) (d{test="$drift_test", x!~"a}b"})`, []string{"d"}, []string{"f"}, []string{"drift_test"}},
		{`a and on (x) group_left (y) b offset 5m`, []string{"a", "b"}, []string{"x", "y"}, nil},
		{"sum(x) # a comment naming not_a_metric\n", []string{"x"}, nil, nil},
		{`rate(x[${interval}]) * $scale`, []string{"x"}, nil, []string{"interval", "scale"}},
	}
	for _, tt := range tests {
		t.Run(tt.expr, func(t *testing.T) {
			e, err := parsePromQL(tt.expr)
			if err != nil {
				t.Fatal(err)
			}
			var metrics []string
			for _, s := range e.selectors {
				metrics = append(metrics, s.metric)
			}
			if !reflect.DeepEqual(metrics, tt.metrics) || !reflect.DeepEqual(e.grouping, tt.grouping) {
				t.Errorf("metrics %v grouping %v, want %v %v", metrics, e.grouping, tt.metrics, tt.grouping)
			}
			if !reflect.DeepEqual(e.variables, tt.variables) {
				t.Errorf("variables %v, want %v", e.variables, tt.variables)
			}
		})
	}
	for _, bad := range []string{`a{job="x}`, `rate(a[5m)`, `a{job}`} {
		if _, err := parsePromQL(bad); err == nil {
			t.Errorf("parsePromQL(%q) accepted it", bad)
		}
	}
}
