package schemas

import (
	"errors"
	"net/http"
	"net/http/httptest"
	"slices"
	"strconv"
	"sync/atomic"
	"testing"
	"time"

	"github.com/sluice-ml/sluice/internal/testkit"
)

func TestClientAgainstServer(t *testing.T) {
	reg := startRegistry(t)
	c := reg.client
	ctx := t.Context()

	txID, err := c.Register(ctx, Subject("features"), TransactionSchema())
	if err != nil {
		t.Fatal(err)
	}
	predID, err := c.Register(ctx, Subject("predictions"), PredictionSchema())
	if err != nil {
		t.Fatal(err)
	}
	if txID == predID || txID < 1 || predID < 1 {
		t.Fatalf("ids %d and %d", txID, predID)
	}
	// The same schema again, with other whitespace, gets the same id.
	again, err := c.Register(ctx, Subject("features"), "  "+TransactionSchema()+"\n")
	if err != nil || again != txID {
		t.Fatalf("re-register: id %d err %v, want %d", again, err, txID)
	}
	// The same schema under another subject shares the id.
	shared, err := c.Register(ctx, "other-value", TransactionSchema())
	if err != nil || shared != txID {
		t.Fatalf("other subject: id %d err %v, want %d", shared, err, txID)
	}

	subjects, err := c.Subjects(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{"features-value", "other-value", "predictions-value"}; !slices.Equal(subjects, want) {
		t.Fatalf("subjects %v, want %v", subjects, want)
	}

	versions, err := c.Versions(ctx, Subject("features"))
	if err != nil || !slices.Equal(versions, []int{1}) {
		t.Fatalf("versions %v err %v", versions, err)
	}

	// A fresh client (no cache) reads the schema back by id.
	fresh := newTestClient(t, reg.http.URL)
	text, err := fresh.SchemaByID(ctx, txID)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := parseSchema(text); err != nil {
		t.Fatalf("schema by id is not a schema: %v", err)
	}

	for _, v := range []string{"1", "latest", "-1"} {
		sv, err := fresh.Version(ctx, Subject("predictions"), v)
		if err != nil {
			t.Fatalf("version %s: %v", v, err)
		}
		if sv.Subject != "predictions-value" || sv.Version != 1 || sv.ID != predID || sv.Schema == "" {
			t.Fatalf("version %s: %+v", v, sv)
		}
	}
}

func TestClientUnknown(t *testing.T) {
	reg := startRegistry(t)
	ctx := t.Context()
	if _, err := reg.client.Register(ctx, "s-value", TransactionSchema()); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		call func() error
		code int
	}{
		{"schema id", func() error { _, err := reg.client.SchemaByID(ctx, 999); return err }, 40403},
		{"subject versions", func() error { _, err := reg.client.Versions(ctx, "nope"); return err }, 40401},
		{"subject version", func() error { _, err := reg.client.Version(ctx, "nope", "latest"); return err }, 40401},
		{"version", func() error { _, err := reg.client.Version(ctx, "s-value", "7"); return err }, 40402},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.call()
			if !errors.Is(err, ErrUnknownSchema) || errors.Is(err, ErrRegistryUnavailable) {
				t.Fatalf("err = %v, want ErrUnknownSchema only", err)
			}
			var apiErr *APIError
			if !errors.As(err, &apiErr) || apiErr.ErrorCode != tt.code || apiErr.StatusCode != 404 {
				t.Fatalf("err = %#v, want error code %d", apiErr, tt.code)
			}
		})
	}
}

func TestClientUnavailable(t *testing.T) {
	ctx := t.Context()
	flaky := func(status int) string {
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
			w.WriteHeader(status)
			_, _ = w.Write([]byte(`{"error_code":50001,"message":"down"}`))
		}))
		t.Cleanup(srv.Close)
		return srv.URL
	}
	stop := make(chan struct{})
	slow := httptest.NewServer(http.HandlerFunc(func(_ http.ResponseWriter, r *http.Request) {
		select {
		case <-r.Context().Done():
		case <-stop:
		}
	}))
	t.Cleanup(slow.Close)
	t.Cleanup(func() { close(stop) })
	garbage := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		_, _ = w.Write([]byte(`<html>proxy</html>`))
	}))
	t.Cleanup(garbage.Close)

	tests := []struct {
		name string
		c    *Client
	}{
		{"connection refused", newTestClient(t, "http://127.0.0.1:"+strconv.Itoa(testkit.FreePort(t)))},
		{"500", newTestClient(t, flaky(500))},
		{"503", newTestClient(t, flaky(503))},
		{"429", newTestClient(t, flaky(429))},
		{"401", newTestClient(t, flaky(401))},
		{"timeout", NewClient(slow.URL, &http.Client{Timeout: 100 * time.Millisecond})},
		{"not json", newTestClient(t, garbage.URL)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := tt.c.SchemaByID(ctx, 1)
			if !errors.Is(err, ErrRegistryUnavailable) || errors.Is(err, ErrUnknownSchema) {
				t.Fatalf("err = %v, want ErrRegistryUnavailable only", err)
			}
			if _, err := tt.c.Register(ctx, "s", TransactionSchema()); !errors.Is(err, ErrRegistryUnavailable) {
				t.Fatalf("register err = %v", err)
			}
		})
	}
}

func TestClientCachesAndSharesFetches(t *testing.T) {
	var hits atomic.Int32
	release := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		hits.Add(1)
		<-release
		w.Header().Set("Content-Type", ContentType)
		_, _ = w.Write([]byte(`{"schema":"\"string\""}`))
	}))
	t.Cleanup(srv.Close)
	c := newTestClient(t, srv.URL)
	errs := make(chan error, 20)
	for range 20 {
		go func() {
			s, err := c.SchemaByID(t.Context(), 5)
			if err == nil && s != `"string"` {
				err = errors.New("wrong schema " + s)
			}
			errs <- err
		}()
	}
	time.Sleep(50 * time.Millisecond)
	close(release)
	for range 20 {
		if err := <-errs; err != nil {
			t.Fatal(err)
		}
	}
	if _, err := c.SchemaByID(t.Context(), 5); err != nil {
		t.Fatal(err)
	}
	if n := hits.Load(); n != 1 {
		t.Fatalf("%d requests for one id, want 1", n)
	}
}

func TestClientBasicAuth(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if u, p, ok := r.BasicAuth(); !ok || u != "key" || p != "secret" {
			w.WriteHeader(http.StatusUnauthorized)
			return
		}
		_, _ = w.Write([]byte(`["a"]`))
	}))
	t.Cleanup(srv.Close)
	u := "http://key:secret@" + srv.Listener.Addr().String()
	got, err := newTestClient(t, u).Subjects(t.Context())
	if err != nil || !slices.Equal(got, []string{"a"}) {
		t.Fatalf("subjects %v err %v", got, err)
	}
}
