package schemas

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/alicebob/miniredis/v2"
	"github.com/redis/go-redis/v9"

	"github.com/sluice-ml/sluice/internal/testkit"
)

// call sends a raw request to the registry and returns status and body.
func (r *registry) call(t *testing.T, method, path, body string) (int, string) {
	t.Helper()
	req, err := http.NewRequestWithContext(t.Context(), method, r.http.URL+path, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", ContentType)
	resp, err := r.http.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if ct := resp.Header.Get("Content-Type"); !strings.HasPrefix(ct, ContentType) {
		t.Errorf("%s %s: content type %q", method, path, ct)
	}
	return resp.StatusCode, string(b)
}

func schemaJSON(schema string) string {
	b, _ := json.Marshal(map[string]string{"schema": schema})
	return string(b)
}

const userV1 = `{"type":"record","name":"User","fields":[{"name":"id","type":"string"}]}`
const userV2 = `{"type":"record","name":"User","fields":[{"name":"id","type":"string"},{"name":"age","type":["null","int"],"default":null}]}`
const userBreaking = `{"type":"record","name":"User","fields":[{"name":"id","type":"string"},{"name":"email","type":"string"}]}`

func TestServerResponses(t *testing.T) {
	reg := startRegistry(t)
	steps := []struct {
		method, path, body string
		status             int
		want               string
	}{
		{"GET", "/", "", 200, `{}`},
		{"GET", "/subjects", "", 200, `[]`},
		{"POST", "/subjects/u-value/versions", schemaJSON(userV1), 200, `{"id":1}`},
		{"POST", "/subjects/u-value/versions", schemaJSON(userV1), 200, `{"id":1}`},
		{"POST", "/subjects/u-value/versions", schemaJSON(userV2), 200, `{"id":2}`},
		{"POST", "/subjects/u-value/versions", schemaJSON(userV1), 200, `{"id":1}`}, // older version: same id
		{"POST", "/subjects/u-value/versions", schemaJSON(userBreaking), 409, `"error_code":409`},
		{"POST", "/subjects/u-value/versions", schemaJSON(`{"type":"nope"}`), 422, `"error_code":42201`},
		{"POST", "/subjects/u-value/versions", schemaJSON(`not json`), 422, `"error_code":42201`},
		{"POST", "/subjects/u-value/versions", `{"schema":"\"string\"","schemaType":"PROTOBUF"}`, 422, `"error_code":42201`},
		{"POST", "/subjects/u-value/versions", `{`, 400, `"error_code":400`},
		{"GET", "/subjects", "", 200, `["u-value"]`},
		{"GET", "/subjects/u-value/versions", "", 200, `[1,2]`},
		{"GET", "/subjects/u-value/versions/1", "", 200, `{"subject":"u-value","version":1,"id":1,"schema":` + mustJSON(userV1) + `}`},
		{"GET", "/subjects/u-value/versions/latest", "", 200, `"version":2,"id":2`},
		{"GET", "/subjects/u-value/versions/-1", "", 200, `"version":2,"id":2`},
		{"GET", "/subjects/u-value/versions/2/schema", "", 200, userV2},
		{"GET", "/subjects/u-value/versions/3", "", 404, `{"error_code":40402,"message":"Version 3 not found."}`},
		{"GET", "/subjects/u-value/versions/0", "", 422, `"error_code":42202`},
		{"GET", "/subjects/u-value/versions/x", "", 422, `"error_code":42202`},
		{"GET", "/subjects/x/versions", "", 404, `{"error_code":40401,"message":"Subject 'x' not found."}`},
		{"GET", "/subjects/x/versions/latest", "", 404, `"error_code":40401`},
		{"GET", "/schemas/ids/2", "", 200, `{"schema":` + mustJSON(userV2) + `}`},
		{"GET", "/schemas/ids/9", "", 404, `{"error_code":40403,"message":"Schema 9 not found"}`},
		{"GET", "/schemas/ids/abc", "", 404, `"error_code":40403`},
		{"GET", "/schemas/ids/1/versions", "", 200, `[{"subject":"u-value","version":1}]`},
		{"GET", "/schemas/types", "", 200, `["AVRO"]`},
		{"POST", "/subjects/u-value", schemaJSON(userV2), 200, `"subject":"u-value","version":2,"id":2`},
		{"POST", "/subjects/u-value", schemaJSON(userBreaking), 404, `"error_code":40403`},
		{"POST", "/subjects/x", schemaJSON(userV1), 404, `"error_code":40401`},
		{"GET", "/config", "", 200, `{"compatibilityLevel":"BACKWARD"}`},
		{"GET", "/config/u-value", "", 404, `"error_code":40408`},
		{"GET", "/config/u-value?defaultToGlobal=true", "", 200, `{"compatibilityLevel":"BACKWARD"}`},
		{"POST", "/compatibility/subjects/u-value/versions/latest", schemaJSON(userBreaking), 200, `{"is_compatible":false}`},
		{"POST", "/compatibility/subjects/u-value/versions/latest", schemaJSON(userV2), 200, `{"is_compatible":true}`},
		{"PUT", "/config/u-value", `{"compatibility":"none"}`, 200, `{"compatibility":"NONE"}`},
		{"GET", "/config/u-value", "", 200, `{"compatibilityLevel":"NONE"}`},
		{"POST", "/subjects/u-value/versions", schemaJSON(userBreaking), 200, `{"id":3}`},
		{"PUT", "/config", `{"compatibility":"sideways"}`, 422, `"error_code":42203`},
		{"PUT", "/config", `{"compatibility":"FULL"}`, 200, `{"compatibility":"FULL"}`},
		{"GET", "/config", "", 200, `{"compatibilityLevel":"FULL"}`},
		{"DELETE", "/subjects/u-value/versions", "", 405, `{"error_code":405,"message":"HTTP 405 Method Not Allowed"}`},
		{"GET", "/nothing/here", "", 404, `{"error_code":404,"message":"HTTP 404 Not Found"}`},
	}
	for i, s := range steps {
		status, body := reg.call(t, s.method, s.path, s.body)
		if status != s.status || !strings.Contains(body, s.want) {
			t.Fatalf("step %d %s %s: %d %s, want %d containing %s", i, s.method, s.path, status, body, s.status, s.want)
		}
	}
}

func mustJSON(s string) string {
	b, _ := json.Marshal(s)
	return string(b)
}

func TestServerSubjectWithSlash(t *testing.T) {
	reg := startRegistry(t)
	id, err := reg.client.Register(t.Context(), "team/a-value", userV1)
	if err != nil {
		t.Fatal(err)
	}
	sv, err := reg.client.Version(t.Context(), "team/a-value", "latest")
	if err != nil || sv.ID != id || sv.Subject != "team/a-value" {
		t.Fatalf("version %+v err %v", sv, err)
	}
}

// TestServerIDsStableAcrossRestart starts a second server on the same Redis,
// as a restarted worker would, and expects the same ids and new ones after.
func TestServerIDsStableAcrossRestart(t *testing.T) {
	reg := startRegistry(t)
	ctx := t.Context()
	first, err := reg.client.Register(ctx, "features-value", TransactionSchema())
	if err != nil {
		t.Fatal(err)
	}
	second, err := reg.client.Register(ctx, "predictions-value", PredictionSchema())
	if err != nil {
		t.Fatal(err)
	}
	reg.http.Close()

	restarted := httptest.NewServer(NewServer(reg.redis.Client()))
	t.Cleanup(restarted.Close)
	c := newTestClient(t, restarted.URL)
	for _, tt := range []struct {
		subject, schema string
		id              int32
	}{{"features-value", TransactionSchema(), first}, {"predictions-value", PredictionSchema(), second}} {
		id, err := c.Register(ctx, tt.subject, tt.schema)
		if err != nil || id != tt.id {
			t.Fatalf("%s after restart: id %d err %v, want %d", tt.subject, id, err, tt.id)
		}
	}
	third, err := c.Register(ctx, "u-value", userV1)
	if err != nil || third <= second {
		t.Fatalf("new id %d after restart err %v, want > %d", third, err, second)
	}
}

// TestServerConcurrentRegistration has many workers, each with its own
// Server on one Redis, register at once.
func TestServerConcurrentRegistration(t *testing.T) {
	reg := startRegistry(t)
	const workers = 12
	clients := make([]*Client, workers)
	for i := range clients {
		srv := httptest.NewServer(NewServer(reg.redis.Client()))
		t.Cleanup(srv.Close)
		clients[i] = newTestClient(t, srv.URL)
	}

	t.Run("same schema one id", func(t *testing.T) {
		ids := make([]int32, workers)
		var wg sync.WaitGroup
		for i, c := range clients {
			wg.Go(func() {
				var err error
				if ids[i], err = c.Register(t.Context(), "same-value", TransactionSchema()); err != nil {
					t.Error(err)
				}
			})
		}
		wg.Wait()
		for _, id := range ids {
			if id != ids[0] {
				t.Fatalf("ids %v, want one", ids)
			}
		}
		if vs, err := clients[0].Versions(t.Context(), "same-value"); err != nil || len(vs) != 1 {
			t.Fatalf("versions %v err %v", vs, err)
		}
	})

	t.Run("distinct compatible schemas", func(t *testing.T) {
		ids := make([]int32, workers)
		var wg sync.WaitGroup
		for i, c := range clients {
			wg.Go(func() {
				schema := fmt.Sprintf(`{"type":"record","name":"R","fields":[{"name":"f%d","type":"int","default":0}]}`, i)
				var err error
				if ids[i], err = c.Register(t.Context(), "many-value", schema); err != nil {
					t.Error(err)
				}
			})
		}
		wg.Wait()
		slices.Sort(ids)
		if len(slices.Compact(ids)) != workers {
			t.Fatalf("ids %v, want %d distinct", ids, workers)
		}
		vs, err := clients[0].Versions(t.Context(), "many-value")
		if err != nil || len(vs) != workers || vs[workers-1] != workers {
			t.Fatalf("versions %v err %v", vs, err)
		}
	})
}

func TestServerRedisDown(t *testing.T) {
	rd := testkit.StartRedis(t)
	rdb := redis.NewClient(&redis.Options{Addr: rd.Addr, MaxRetries: -1, DialTimeout: time.Second})
	t.Cleanup(func() { rdb.Close() })
	srv := httptest.NewServer(NewServer(rdb))
	t.Cleanup(srv.Close)
	reg := &registry{redis: rd, http: srv, client: newTestClient(t, srv.URL)}
	if _, err := reg.client.Register(t.Context(), "s-value", userV1); err != nil {
		t.Fatal(err)
	}
	rd.Kill()
	_, err := reg.client.Register(t.Context(), "s-value", userV1)
	if !isUnavailable(err) {
		t.Fatalf("register with redis down: %v", err)
	}
	status, body := reg.call(t, "GET", "/subjects", "")
	if status != 500 || !strings.Contains(body, `"error_code":50001`) {
		t.Fatalf("got %d %s", status, body)
	}
}

// TestServerOnMiniredis runs the registry on the in-process Redis that
// `sluice dev` falls back to when no redis-server is installed.
func TestServerOnMiniredis(t *testing.T) {
	mr := miniredis.RunT(t)
	rdb := redis.NewClient(&redis.Options{Addr: mr.Addr()})
	t.Cleanup(func() { rdb.Close() })
	srv := httptest.NewServer(NewServer(rdb))
	t.Cleanup(srv.Close)
	c := newTestClient(t, srv.URL)
	ids := make([]int32, 0, 3)
	for _, s := range []string{userV1, userV2, userV1} {
		id, err := c.Register(t.Context(), "u-value", s)
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, id)
	}
	if !slices.Equal(ids, []int32{1, 2, 1}) {
		t.Fatalf("ids %v", ids)
	}
	if _, err := c.Register(t.Context(), "u-value", userBreaking); err == nil {
		t.Fatal("incompatible schema registered")
	}
	sv, err := c.Version(t.Context(), "u-value", "latest")
	if err != nil || sv.ID != 2 || sv.Version != 2 {
		t.Fatalf("latest %+v err %v", sv, err)
	}
}
