package config

import (
	"errors"
	"fmt"
	"regexp"
	"strconv"
	"strings"

	"gopkg.in/yaml.v3"
)

var (
	lineRE    = regexp.MustCompile(`line (\d+): (.*)`)
	unknownRE = regexp.MustCompile(`^field (\S+) not found`)
)

// nameFields rewrites yaml.v3's "line N: ..." errors so each names the
// dotted key found on that line of the document.
func nameFields(doc []byte, err error) error {
	var te *yaml.TypeError
	if !errors.As(err, &te) {
		return err
	}
	var root yaml.Node
	if yaml.Unmarshal(doc, &root) != nil {
		return err
	}
	msgs := make([]string, 0, len(te.Errors))
	for _, e := range te.Errors {
		m := lineRE.FindStringSubmatch(e)
		if m == nil {
			msgs = append(msgs, e)
			continue
		}
		line, _ := strconv.Atoi(m[1])
		want := ""
		if f := unknownRE.FindStringSubmatch(m[2]); f != nil {
			want = f[1]
		}
		if key := keyAtLine(&root, line, "", want); key != "" {
			msgs = append(msgs, fmt.Sprintf("%s (line %d): %s", key, line, m[2]))
			continue
		}
		msgs = append(msgs, e)
	}
	return errors.New(strings.Join(msgs, "; "))
}

// keyAtLine returns the dotted key on line of n: the one named want when
// several share the line (a flow mapping), else the first.
func keyAtLine(n *yaml.Node, line int, prefix, want string) string {
	switch n.Kind {
	case yaml.DocumentNode:
		for _, c := range n.Content {
			if k := keyAtLine(c, line, prefix, want); k != "" {
				return k
			}
		}
	case yaml.SequenceNode: // routes[1].input_topic
		for i, c := range n.Content {
			if k := keyAtLine(c, line, fmt.Sprintf("%s[%d]", prefix, i), want); k != "" {
				return k
			}
		}
	case yaml.MappingNode:
		first := ""
		for i := 0; i+1 < len(n.Content); i += 2 {
			key := n.Content[i].Value
			if prefix != "" {
				key = prefix + "." + key
			}
			if n.Content[i].Line == line {
				if want == "" || n.Content[i].Value == want {
					return key
				}
				if first == "" {
					first = key
				}
				continue
			}
			if k := keyAtLine(n.Content[i+1], line, key, want); k != "" {
				return k
			}
		}
		if first != "" {
			return first
		}
	}
	return ""
}
