package redisproc

import (
	"bufio"
	"fmt"
	"net"
	"strings"
	"testing"
	"time"

	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// do sends one inline command and returns the first line of the reply.
func do(t *testing.T, s *Server, cmd string) string {
	t.Helper()
	c, err := net.DialTimeout("tcp", s.Addr, time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(2 * time.Second))
	fmt.Fprintf(c, "%s\r\n", cmd)
	r := bufio.NewReader(c)
	line, err := r.ReadString('\n')
	if err != nil {
		t.Fatal(err)
	}
	if strings.HasPrefix(line, "$") && !strings.HasPrefix(line, "$-1") {
		if line, err = r.ReadString('\n'); err != nil {
			t.Fatal(err)
		}
	}
	return strings.TrimSpace(line)
}

func need(t *testing.T) {
	if !Installed() {
		t.Fatal("redis-server is not installed (make test installs it)")
	}
}

// A server without persistence starts empty again after Kill and Restart,
// on the same port; a persistent one keeps its data across Stop and a new
// Start on its directory.
func TestRestartAndPersistence(t *testing.T) {
	need(t)
	s, err := Start(t.Context(), Options{Dir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	addr := s.Addr
	if got := do(t, s, "SET k v"); got != "+OK" {
		t.Fatalf("SET: %s", got)
	}
	s.Kill()
	if s.Ping() == nil {
		t.Fatal("the server answers after Kill")
	}
	if err := s.Restart(t.Context()); err != nil {
		t.Fatal(err)
	}
	if s.Addr != addr || do(t, s, "GET k") != "$-1" {
		t.Fatalf("after Restart: %s, GET k = %s; want %s and nothing kept", s.Addr, do(t, s, "GET k"), addr)
	}
	s.Kill()

	dir := t.TempDir()
	p, err := Start(t.Context(), Options{Dir: dir, Persist: true})
	if err != nil {
		t.Fatal(err)
	}
	do(t, p, "SET kept yes")
	p.Stop() // SIGTERM: saves
	p2, err := Start(t.Context(), Options{Dir: dir, Persist: true})
	if err != nil {
		t.Fatal(err)
	}
	defer p2.Stop()
	if got := do(t, p2, "GET kept"); got != "yes" {
		t.Fatalf("GET kept after a restart on the same dir = %q, want yes", got)
	}
}

// A server a crashed run left on the data directory is replaced: the new
// one owns the directory and the old one is gone.
func TestReplaceLeftover(t *testing.T) {
	need(t)
	dir := t.TempDir()
	old, err := Start(t.Context(), Options{Dir: dir, Persist: true})
	if err != nil {
		t.Fatal(err)
	}
	s, err := Start(t.Context(), Options{Dir: dir, Persist: true, ReplaceLeftover: true})
	if err != nil {
		old.Kill()
		t.Fatal(err)
	}
	defer s.Stop()
	select {
	case <-old.exited:
	case <-time.After(10 * time.Second):
		old.Kill()
		t.Fatal("the leftover server still runs")
	}
	if err := s.Ping(); err != nil {
		t.Fatalf("the new server: %v", err)
	}
}

// With a password, Ping authenticates and the URL carries it.
func TestPassword(t *testing.T) {
	need(t)
	s, err := Start(t.Context(), Options{Dir: t.TempDir(), Password: "sekret"})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Kill()
	if !strings.HasPrefix(s.URL, "redis://:sekret@127.0.0.1:") || s.Ping() != nil {
		t.Fatalf("URL %s, Ping %v", s.URL, s.Ping())
	}
	if got := do(t, s, "GET x"); !strings.HasPrefix(got, "-NOAUTH") {
		t.Fatalf("GET without AUTH = %q, want NOAUTH", got)
	}
}
