package schemas

import (
	"strings"
	"testing"
)

func TestCanRead(t *testing.T) {
	rec := func(fields string) string {
		return `{"type":"record","name":"R","namespace":"n","fields":[` + fields + `]}`
	}
	tests := []struct {
		name           string
		reader, writer string
		ok             bool
	}{
		{"same", rec(`{"name":"a","type":"int"}`), rec(`{"name":"a","type":"int"}`), true},
		{"promote int to double", rec(`{"name":"a","type":"double"}`), rec(`{"name":"a","type":"int"}`), true},
		{"no demotion", rec(`{"name":"a","type":"int"}`), rec(`{"name":"a","type":"long"}`), false},
		{"string and bytes", rec(`{"name":"a","type":"bytes"}`), rec(`{"name":"a","type":"string"}`), true},
		{"new field with default", rec(`{"name":"a","type":"int"},{"name":"b","type":"int","default":1}`), rec(`{"name":"a","type":"int"}`), true},
		{"new field without default", rec(`{"name":"a","type":"int"},{"name":"b","type":"int"}`), rec(`{"name":"a","type":"int"}`), false},
		{"dropped field", rec(`{"name":"a","type":"int"}`), rec(`{"name":"a","type":"int"},{"name":"b","type":"int"}`), true},
		{"field alias", rec(`{"name":"b","aliases":["a"],"type":"int"}`), rec(`{"name":"a","type":"int"}`), true},
		{"renamed record", `{"type":"record","name":"S","fields":[]}`, `{"type":"record","name":"R","fields":[]}`, false},
		{"record alias", `{"type":"record","name":"S","aliases":["R"],"fields":[]}`, `{"type":"record","name":"R","fields":[]}`, true},
		{"made nullable", rec(`{"name":"a","type":["null","int"]}`), rec(`{"name":"a","type":"int"}`), true},
		{"made required", rec(`{"name":"a","type":"int"}`), rec(`{"name":"a","type":["null","int"]}`), false},
		{"union widened", `["null","int","string"]`, `["null","int"]`, true},
		{"union narrowed", `["null","int"]`, `["null","int","string"]`, false},
		{"enum symbol added", `{"type":"enum","name":"E","symbols":["A","B","C"]}`, `{"type":"enum","name":"E","symbols":["A","B"]}`, true},
		{"enum symbol removed", `{"type":"enum","name":"E","symbols":["A"]}`, `{"type":"enum","name":"E","symbols":["A","B"]}`, false},
		{"enum default", `{"type":"enum","name":"E","symbols":["A"],"default":"A"}`, `{"type":"enum","name":"E","symbols":["A","B"]}`, true},
		{"fixed size", `{"type":"fixed","name":"F","size":4}`, `{"type":"fixed","name":"F","size":8}`, false},
		{"array items promote", `{"type":"array","items":"long"}`, `{"type":"array","items":"int"}`, true},
		{"map values", `{"type":"map","values":"int"}`, `{"type":"map","values":"string"}`, false},
		{"recursive", `{"type":"record","name":"L","fields":[{"name":"next","type":["null","L"]}]}`, `{"type":"record","name":"L","fields":[{"name":"next","type":["null","L"]}]}`, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r, err := parseSchema(tt.reader)
			if err != nil {
				t.Fatal(err)
			}
			w, err := parseSchema(tt.writer)
			if err != nil {
				t.Fatal(err)
			}
			problems := canRead(r, w, map[[2]*node]bool{})
			if (len(problems) == 0) != tt.ok {
				t.Fatalf("problems %v, want ok=%v", problems, tt.ok)
			}
		})
	}
}

func TestCheckCompatLevels(t *testing.T) {
	v1 := mustParse(t, userV1)
	v2 := mustParse(t, userV2)             // adds a field with a default
	breaking := mustParse(t, userBreaking) // adds a field without one
	tests := []struct {
		level string
		next  *node
		prev  []*node
		ok    bool
	}{
		{CompatNone, breaking, []*node{v1}, true},
		{CompatBackward, v2, []*node{v1}, true},
		{CompatBackward, breaking, []*node{v1}, false},
		{CompatForward, breaking, []*node{v1}, true},
		{CompatFull, breaking, []*node{v1}, false},
		{CompatFull, v2, []*node{v1}, true},
		{CompatBackward, v2, []*node{breaking, v1}, true},
		{CompatBackwardTransitive, v1, []*node{breaking, v2}, true},
		{CompatForwardTransitive, v1, []*node{breaking, v2}, false},
	}
	for _, tt := range tests {
		problems := checkCompat(tt.level, tt.next, tt.prev)
		if (len(problems) == 0) != tt.ok {
			t.Errorf("%s: problems %v, want ok=%v", tt.level, problems, tt.ok)
		}
	}
}

func mustParse(t *testing.T, s string) *node {
	t.Helper()
	n, err := parseSchema(s)
	if err != nil {
		t.Fatal(err)
	}
	return n
}

func TestParseSchemaNames(t *testing.T) {
	n := mustParse(t, `{"type":"record","name":"A","namespace":"x.y","fields":[
		{"name":"b","type":{"type":"record","name":"B","fields":[{"name":"c","type":{"type":"enum","name":"z.C","symbols":["S"]}}]}},
		{"name":"b2","type":"B"},
		{"name":"b3","type":"x.y.B"},
		{"name":"c2","type":"z.C"},
		{"name":"u","type":["null","B"]}
	]}`)
	b := n.fields[0].node
	if b.name != "x.y.B" || n.fields[1].node != b || n.fields[2].node != b {
		t.Fatalf("named references: %s %p %p %p", b.name, b, n.fields[1].node, n.fields[2].node)
	}
	if c := n.fields[3].node; c.name != "z.C" || c != b.fields[0].node {
		t.Fatalf("enum %s", c.name)
	}
	if u := n.fields[4].node; u.nullable != 1 || u.branches[1].unionName() != "x.y.B" {
		t.Fatalf("union %+v", u)
	}
	for _, bad := range []string{`{"type":"record","name":"R","fields":[{"name":"a","type":"Missing"}]}`, `{`, `5`} {
		if _, err := parseSchema(bad); err == nil || strings.Contains(err.Error(), "panic") {
			t.Errorf("parseSchema(%s) = %v", bad, err)
		}
	}
}
