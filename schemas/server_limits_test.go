package schemas

import (
	"net/url"
	"strconv"
	"strings"
	"testing"
)

// Subject names that are blank, hold a control character or are too long
// are refused with Confluent's 42208 wherever a subject is written, and
// nothing is stored under them.
func TestServerRefusesMalformedSubjects(t *testing.T) {
	reg := startRegistry(t)
	bad := map[string]string{
		"empty after trim": "   ",
		"tab only":         "\t",
		"NUL":              "a\x00b-value",
		"newline":          "x\n-value",
		"DEL":              "x\x7f-value",
		"C1 control":       "x\u0085-value",
		"not UTF-8":        "x\xff-value",
		"256 bytes":        strings.Repeat("s", MaxSubjectLength+1),
		"100,000 bytes":    strings.Repeat("s", 100_000),
	}
	for name, subject := range bad {
		t.Run(name, func(t *testing.T) {
			p := url.PathEscape(subject)
			for _, c := range []struct{ method, path, body string }{
				{"POST", "/subjects/" + p + "/versions", schemaJSON(userV1)},
				{"POST", "/subjects/" + p, schemaJSON(userV1)},
				{"PUT", "/config/" + p, `{"compatibility":"NONE"}`},
				{"PUT", "/mode/" + p, `{"mode":"READONLY"}`},
			} {
				status, body := reg.call(t, c.method, c.path, c.body)
				if status != 422 || !strings.Contains(body, `"error_code":42208`) {
					t.Errorf("%s %.60s: %d %.200s, want 422 with 42208", c.method, c.path, status, body)
				}
				if len(body) > 400 {
					t.Errorf("%s: the error repeats the whole subject (%d bytes)", c.method, len(body))
				}
			}
		})
	}
	if status, body := reg.call(t, "GET", "/subjects", ""); status != 200 || body != "[]" {
		t.Fatalf("subjects after refusals: %d %s", status, body)
	}
	// The longest valid name, and names with spaces or unicode inside, work.
	for _, ok := range []string{strings.Repeat("s", MaxSubjectLength), "a b-value", "données-value"} {
		if status, body := reg.call(t, "POST", "/subjects/"+url.PathEscape(ok)+"/versions", schemaJSON(userV1)); status != 200 {
			t.Errorf("subject %.20q: %d %s", ok, status, body)
		}
	}
}

// A body over the 8 MiB bound is answered 413, not 400, on every endpoint
// that reads one.
func TestServerBodyTooLarge(t *testing.T) {
	reg := startRegistry(t)
	huge := `{"schema":"` + strings.Repeat(" ", maxRequest) + `"}`
	for _, c := range []struct{ method, path string }{
		{"POST", "/subjects/u-value/versions"},
		{"POST", "/subjects/u-value"},
		{"PUT", "/config"},
		{"PUT", "/mode"},
	} {
		status, body := reg.call(t, c.method, c.path, huge)
		if status != 413 || !strings.Contains(body, `"error_code":413`) {
			t.Errorf("%s %s with a %d-byte body: %d %.200s, want 413", c.method, c.path, len(huge), status, body)
		}
	}
	// Just under the bound is read (and refused for what it says).
	under := `{"schema":"` + strings.Repeat(" ", maxRequest-20) + `"}`
	if status, body := reg.call(t, "POST", "/subjects/u-value/versions", under); status != 422 {
		t.Errorf("a %d-byte body: %d %.200s, want 422 (read, not valid Avro)", len(under), status, body)
	}
}

// GET /schemas/ids/{id}/schema serves the schema text alone.
func TestServerSchemaTextByID(t *testing.T) {
	reg := startRegistry(t)
	id, err := reg.client.Register(t.Context(), "u-value", userV2)
	if err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		path   string
		status int
		want   string
	}{
		{"/schemas/ids/" + strconv.Itoa(int(id)) + "/schema", 200, userV2},
		{"/schemas/ids/99/schema", 404, `{"error_code":40403,"message":"Schema 99 not found"}`},
		{"/schemas/ids/x/schema", 404, `"error_code":40403`},
	} {
		status, body := reg.call(t, "GET", tt.path, "")
		if status != tt.status || (status == 200 && body != tt.want) || (status != 200 && !strings.Contains(body, tt.want)) {
			t.Errorf("GET %s: %d %s, want %d %s", tt.path, status, body, tt.status, tt.want)
		}
	}
}

// Modes as Confluent serves them: READWRITE by default, READONLY refusing
// registration globally or per subject with 42205, READONLY_OVERRIDE
// winning over a subject's own READWRITE, and reads unaffected.
func TestServerModes(t *testing.T) {
	reg := startRegistry(t)
	steps := []struct {
		method, path, body string
		status             int
		want               string
	}{
		{"GET", "/mode", "", 200, `{"mode":"READWRITE"}`},
		{"GET", "/mode/u-value", "", 404, `"error_code":40409`},
		{"GET", "/mode/u-value?defaultToGlobal=true", "", 200, `{"mode":"READWRITE"}`},
		{"POST", "/subjects/u-value/versions", schemaJSON(userV1), 200, `{"id":1}`},
		{"PUT", "/mode/u-value", `{"mode":"readonly"}`, 200, `{"mode":"READONLY"}`},
		{"GET", "/mode/u-value", "", 200, `{"mode":"READONLY"}`},
		{"GET", "/mode", "", 200, `{"mode":"READWRITE"}`},
		{"POST", "/subjects/u-value/versions", schemaJSON(userV2), 422, `{"error_code":42205,"message":"Subject 'u-value' is in read-only mode"}`},
		{"POST", "/subjects/u-value/versions", schemaJSON(userV1), 422, `"error_code":42205`},
		{"POST", "/subjects/other-value/versions", schemaJSON(userV2), 200, `{"id":2}`},
		{"GET", "/subjects/u-value/versions/latest", "", 200, `"version":1`},
		{"POST", "/subjects/u-value", schemaJSON(userV1), 200, `"version":1`},
		{"DELETE", "/mode/u-value", "", 200, `{"mode":"READONLY"}`},
		{"DELETE", "/mode/u-value", "", 404, `"error_code":40401`},
		{"POST", "/subjects/u-value/versions", schemaJSON(userV2), 200, `{"id":2}`},
		{"PUT", "/mode", `{"mode":"READONLY"}`, 200, `{"mode":"READONLY"}`},
		{"GET", "/mode/u-value?defaultToGlobal=true", "", 200, `{"mode":"READONLY"}`},
		{"POST", "/subjects/new-value/versions", schemaJSON(userV1), 422, `"error_code":42205`},
		{"PUT", "/mode/new-value", `{"mode":"READWRITE"}`, 200, `{"mode":"READWRITE"}`},
		{"POST", "/subjects/new-value/versions", schemaJSON(userV1), 200, `{"id":1}`},
		{"PUT", "/mode", `{"mode":"READONLY_OVERRIDE"}`, 200, `{"mode":"READONLY_OVERRIDE"}`},
		{"POST", "/subjects/new-value/versions", schemaJSON(userV2), 422, `"error_code":42205`},
		{"GET", "/mode/new-value?defaultToGlobal=true", "", 200, `{"mode":"READWRITE"}`},
		{"PUT", "/mode/new-value", `{"mode":"READONLY_OVERRIDE"}`, 422, `"error_code":42204`},
		{"PUT", "/mode", `{"mode":"IMPORT"}`, 422, `"error_code":42205`},
		{"PUT", "/mode", `{"mode":"sideways"}`, 422, `"error_code":42204`},
		{"PUT", "/mode", `{`, 400, `"error_code":400`},
		{"PUT", "/mode", `{"mode":"READWRITE"}`, 200, `{"mode":"READWRITE"}`},
		{"POST", "/subjects/new-value/versions", schemaJSON(userV2), 200, `{"id":2}`},
		{"POST", "/mode", "", 405, `"error_code":405`},
	}
	for i, s := range steps {
		status, body := reg.call(t, s.method, s.path, s.body)
		if status != s.status || !strings.Contains(body, s.want) {
			t.Fatalf("step %d %s %s: %d %s, want %d containing %s", i, s.method, s.path, status, body, s.status, s.want)
		}
	}
}
