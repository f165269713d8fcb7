package deploy_test

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"

	"github.com/sluice-ml/sluice/config"
	"github.com/sluice-ml/sluice/registry"
)

// repoRoot is the repository root; go test runs in deploy/.
const repoRoot = ".."

func readRepoFile(t *testing.T, rel string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(repoRoot, rel))
	if err != nil {
		t.Fatalf("reading %s: %v", rel, err)
	}
	return b
}

func exists(rel string) bool {
	_, err := os.Stat(filepath.Join(repoRoot, rel))
	return err == nil
}

// yamlDocs decodes every document of a (multi-document) YAML file.
func yamlDocs(b []byte) ([]any, error) {
	dec := yaml.NewDecoder(bytes.NewReader(b))
	var docs []any
	for {
		var v any
		err := dec.Decode(&v)
		if errors.Is(err, io.EOF) {
			return docs, nil
		}
		if err != nil {
			return nil, err
		}
		if v != nil {
			docs = append(docs, v)
		}
	}
}

// yamlMap decodes a one-document YAML file into a map.
func yamlMap(t *testing.T, rel string) map[string]any {
	t.Helper()
	docs, err := yamlDocs(readRepoFile(t, rel))
	if err != nil {
		t.Fatalf("%s: %v", rel, err)
	}
	if len(docs) != 1 {
		t.Fatalf("%s: %d YAML documents, want 1", rel, len(docs))
	}
	m, ok := docs[0].(map[string]any)
	if !ok {
		t.Fatalf("%s: top level is %T, want a mapping", rel, docs[0])
	}
	return m
}

// dig walks maps (string keys) and lists (int indexes); nil when absent.
func dig(v any, path ...any) any {
	for _, p := range path {
		switch k := p.(type) {
		case string:
			m, ok := v.(map[string]any)
			if !ok {
				return nil
			}
			v = m[k]
		case int:
			l, ok := v.([]any)
			if !ok || k >= len(l) {
				return nil
			}
			v = l[k]
		}
	}
	return v
}

func str(v any) string {
	if v == nil {
		return ""
	}
	return fmt.Sprint(v)
}

func list(v any) []any { l, _ := v.([]any); return l }

func mapOf(v any) map[string]any { m, _ := v.(map[string]any); return m }

// strList turns a YAML list (or a string, split on whitespace) into strings.
func strList(v any) []string {
	switch x := v.(type) {
	case string:
		return strings.Fields(x)
	case []any:
		out := make([]string, len(x))
		for i, e := range x {
			out[i] = str(e)
		}
		return out
	}
	return nil
}

func atoi(t *testing.T, what string, v any) int {
	t.Helper()
	n, err := strconv.Atoi(strings.TrimSpace(str(v)))
	if err != nil {
		t.Fatalf("%s: %q is not a number", what, str(v))
	}
	return n
}

// envFile reads KEY=VALUE lines, skipping blanks and # comments.
func envFile(t *testing.T, rel string) map[string]string {
	t.Helper()
	out := map[string]string{}
	sc := bufio.NewScanner(bytes.NewReader(readRepoFile(t, rel)))
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		k, v, ok := strings.Cut(line, "=")
		if !ok || strings.TrimSpace(k) == "" {
			t.Fatalf("%s:%d: not KEY=VALUE: %q", rel, n, line)
		}
		out[strings.TrimSpace(k)] = strings.Trim(strings.TrimSpace(v), `"'`)
	}
	return out
}

// loadConfig reads a sluice config with the real loader, applies env
// (NAME=value entries) and validates it.
func loadConfig(t *testing.T, rel string, env []string) config.Config {
	t.Helper()
	c, err := config.Load(filepath.Join(repoRoot, rel))
	if err != nil {
		t.Fatalf("config.Load(%s): %v", rel, err)
	}
	if err := c.ApplyEnv(env); err != nil {
		t.Fatalf("%s with %v: %v", rel, env, err)
	}
	if err := c.Validate(); err != nil {
		t.Fatalf("%s does not validate: %v", rel, err)
	}
	return c
}

// configValue returns the value of a dotted key as `sluice config` prints
// it, or "" when the config has no such key.
func configValue(c config.Config, key string) string {
	for _, kv := range c.Keys() {
		if kv[0] == key {
			return kv[1]
		}
	}
	return ""
}

// neededTopics are the topics a worker with config c reads or writes.
func neededTopics(c config.Config) []string {
	out := []string{registry.ModelEventsTopic}
	for _, r := range c.Effective() {
		out = append(out, r.Pipeline.InputTopic, r.Pipeline.OutputTopic, r.Pipeline.DLQTopic, r.Pipeline.ShadowTopic)
	}
	if configValue(c, "drift.enabled") == "true" {
		for _, k := range []string{"drift.reports_topic", "drift.retrain_topic"} {
			if v := configValue(c, k); v != "" {
				out = append(out, v)
			}
		}
	}
	return out
}

func portOf(t *testing.T, hostport string) string {
	t.Helper()
	_, port, err := net.SplitHostPort(hostport)
	if err != nil {
		t.Fatalf("%q: %v", hostport, err)
	}
	return port
}

// configEnvNames is every SLUICE_* variable the config understands.
func configEnvNames() map[string]bool {
	c := config.Default()
	out := map[string]bool{}
	for _, kv := range c.Keys() {
		out[config.EnvName(kv[0])] = true
	}
	return out
}

// dfInstr is one Dockerfile instruction with continuation lines joined.
type dfInstr struct {
	cmd  string // upper case: FROM, RUN, ...
	args string
	line int
}

func parseDockerfile(t *testing.T, rel string) []dfInstr {
	t.Helper()
	var out []dfInstr
	var cur strings.Builder
	start := 0
	sc := bufio.NewScanner(bytes.NewReader(readRepoFile(t, rel)))
	for n := 1; sc.Scan(); n++ {
		line := sc.Text()
		trimmed := strings.TrimSpace(line)
		if strings.HasPrefix(trimmed, "#") || (trimmed == "" && cur.Len() == 0) {
			continue // comments (also inside continuations) and blank lines
		}
		if cur.Len() == 0 {
			start = n
		}
		if cont, ok := strings.CutSuffix(trimmed, `\`); ok {
			cur.WriteString(cont + " ")
			continue
		}
		cur.WriteString(trimmed)
		cmd, args, _ := strings.Cut(strings.TrimSpace(cur.String()), " ")
		out = append(out, dfInstr{cmd: strings.ToUpper(cmd), args: strings.TrimSpace(args), line: start})
		cur.Reset()
	}
	if cur.Len() > 0 {
		t.Fatalf("%s: ends inside a continuation line", rel)
	}
	if len(out) == 0 {
		t.Fatalf("%s: no instructions", rel)
	}
	return out
}

// dockerIgnore is a .dockerignore: patterns matched in order, the last match
// wins, "!" re-includes. Patterns use Go's filepath.Match syntax plus "**".
type dockerIgnore []struct {
	re      *regexp.Regexp
	exclude bool
}

func parseDockerIgnore(t *testing.T, rel string) dockerIgnore {
	t.Helper()
	var out dockerIgnore
	for _, line := range strings.Split(string(readRepoFile(t, rel)), "\n") {
		line = strings.TrimSpace(line)
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		exclude := true
		if p, ok := strings.CutPrefix(line, "!"); ok {
			line, exclude = p, false
		}
		line = strings.Trim(filepath.ToSlash(filepath.Clean(line)), "/")
		var re strings.Builder
		re.WriteString("^")
		for i := 0; i < len(line); i++ {
			switch c := line[i]; {
			case strings.HasPrefix(line[i:], "**/"):
				re.WriteString("(.*/)?")
				i += 2
			case strings.HasPrefix(line[i:], "**"):
				re.WriteString(".*")
				i++
			case c == '*':
				re.WriteString("[^/]*")
			case c == '?':
				re.WriteString("[^/]")
			default:
				re.WriteString(regexp.QuoteMeta(string(c)))
			}
		}
		re.WriteString("$")
		out = append(out, struct {
			re      *regexp.Regexp
			exclude bool
		}{regexp.MustCompile(re.String()), exclude})
	}
	return out
}

// excluded says whether path (slash-separated, relative to the context) is
// left out of the build context: as Docker does, a pattern applies when it
// matches the path or a folder above it, and the last one that applies wins.
func (d dockerIgnore) excluded(path string) bool {
	path = strings.Trim(filepath.ToSlash(filepath.Clean(path)), "/")
	parts := strings.Split(path, "/")
	ex := false
	for _, p := range d {
		for i := 1; i <= len(parts); i++ {
			if p.re.MatchString(strings.Join(parts[:i], "/")) {
				ex = p.exclude
				break
			}
		}
	}
	return ex
}
