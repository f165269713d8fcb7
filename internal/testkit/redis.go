package testkit

import (
	"bufio"
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
)

// Redis is a real redis-server child process on a free loopback port.
type Redis struct {
	Addr string
	// URL is redis://[:password@]addr/0.
	URL string

	t        testing.TB
	dir      string
	port     int
	password string
	cmd      *exec.Cmd
}

// RedisOption changes how StartRedis runs the server.
type RedisOption func(*Redis)

// WithPassword sets requirepass on the server and puts it in URL.
func WithPassword(p string) RedisOption { return func(r *Redis) { r.password = p } }

// StartRedis starts redis-server on a free port with its data in a temporary
// directory and stops it when the test ends. It fails the test with a clear
// message when redis-server is not installed (`make test` installs it).
func StartRedis(t testing.TB, opts ...RedisOption) *Redis {
	t.Helper()
	if _, err := exec.LookPath("redis-server"); err != nil {
		t.Fatalf("testkit: redis-server is not installed (make test installs it with apt-get as root; or apt-get install redis-server)")
	}
	r := &Redis{t: t, dir: t.TempDir(), port: FreePort(t)}
	for _, o := range opts {
		o(r)
	}
	r.Addr = net.JoinHostPort("127.0.0.1", strconv.Itoa(r.port))
	if r.password != "" {
		r.URL = fmt.Sprintf("redis://:%s@%s/0", r.password, r.Addr)
	} else {
		r.URL = fmt.Sprintf("redis://%s/0", r.Addr)
	}
	r.Start()
	t.Cleanup(r.Stop)
	return r
}

// Start starts the server process (again, after Kill or Stop) and waits
// until it answers PING.
func (r *Redis) Start() {
	r.t.Helper()
	args := []string{
		"--port", strconv.Itoa(r.port), "--bind", "127.0.0.1", "--dir", r.dir,
		"--save", "", "--appendonly", "no", "--protected-mode", "no", "--daemonize", "no",
	}
	if r.password != "" {
		args = append(args, "--requirepass", r.password)
	}
	cmd := exec.Command("redis-server", args...)
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	logf, err := os.Create(filepath.Join(r.dir, "redis.log"))
	if err != nil {
		r.t.Fatalf("testkit: %v", err)
	}
	cmd.Stdout, cmd.Stderr = logf, logf
	if err := cmd.Start(); err != nil {
		r.t.Fatalf("testkit: starting redis-server: %v", err)
	}
	r.cmd = cmd
	go func() { _ = cmd.Wait(); logf.Close() }()
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		if r.ping() == nil {
			return
		}
		time.Sleep(20 * time.Millisecond)
	}
	b, _ := os.ReadFile(filepath.Join(r.dir, "redis.log"))
	r.t.Fatalf("testkit: redis-server did not answer on %s: %s", r.Addr, b)
}

func (r *Redis) ping() error {
	c, err := net.DialTimeout("tcp", r.Addr, 200*time.Millisecond)
	if err != nil {
		return err
	}
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(time.Second))
	if r.password != "" {
		fmt.Fprintf(c, "AUTH %s\r\n", r.password)
		if _, err := bufio.NewReader(c).ReadString('\n'); err != nil {
			return err
		}
	}
	if _, err := c.Write([]byte("PING\r\n")); err != nil {
		return err
	}
	line, err := bufio.NewReader(c).ReadString('\n')
	if err != nil {
		return err
	}
	if !strings.HasPrefix(line, "+PONG") {
		return fmt.Errorf("unexpected reply %q", line)
	}
	return nil
}

// Kill sends SIGKILL to the server and waits until the port is closed.
func (r *Redis) Kill() {
	if r.cmd == nil || r.cmd.Process == nil {
		return
	}
	_ = r.cmd.Process.Kill()
	for i := 0; i < 200 && r.ping() == nil; i++ {
		time.Sleep(10 * time.Millisecond)
	}
	r.cmd = nil
}

// Stop kills the server; it is registered as test cleanup.
func (r *Redis) Stop() { r.Kill() }

// Client returns a go-redis client for the server, closed when the test ends.
func (r *Redis) Client() *redis.Client {
	opt, err := redis.ParseURL(r.URL)
	if err != nil {
		r.t.Fatalf("testkit: %v", err)
	}
	c := redis.NewClient(opt)
	r.t.Cleanup(func() { c.Close() })
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := c.Ping(ctx).Err(); err != nil {
		r.t.Fatalf("testkit: redis ping: %v", err)
	}
	return c
}
