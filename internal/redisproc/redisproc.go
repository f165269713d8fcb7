package redisproc

import (
	"bufio"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// ErrNotInstalled is returned by Start when there is no redis-server on
// the PATH.
var ErrNotInstalled = errors.New("redisproc: redis-server is not installed")

// Options say how Start runs the server.
type Options struct {
	// Dir holds the server's log (redis.log), pid file (redis.pid) and,
	// with Persist, its data. Required.
	Dir string
	// Port is the loopback port (0: a free one).
	Port int
	// Persist keeps the data across restarts: an append-only file synced
	// every second and a snapshot every minute with a write. Off, nothing
	// is written to disk.
	Persist bool
	// Password sets requirepass.
	Password string
	// ReplaceLeftover stops a redis-server that a crashed run left on
	// Dir's pid file first, so that the new one owns the files.
	ReplaceLeftover bool
	// StartTimeout bounds the wait for the first PING (default 15s).
	StartTimeout time.Duration
	// Logger, if set, is told when a leftover server is replaced.
	Logger *slog.Logger
	// TLS, if set, serves TLS only, on Port.
	TLS *TLS
}

// TLS is a server that speaks TLS only (rediss://).
type TLS struct {
	CertFile, KeyFile string // the server's certificate and key
	CAFile            string // the CA client certificates are checked against
	RequireClientCert bool   // mutual TLS
	// Client is how Start and Ping reach the server (its CA, and a client
	// certificate for mutual TLS).
	Client *tls.Config
}

// Server is a running redis-server child.
type Server struct {
	// Addr is 127.0.0.1:port; URL is redis[s]://[:password@]addr/0.
	Addr, URL string

	o      Options
	cmd    *exec.Cmd
	exited chan struct{}
}

// Installed reports whether redis-server is on the PATH.
func Installed() bool {
	_, err := exec.LookPath("redis-server")
	return err == nil
}

// Start runs redis-server with o and returns once it answers PING (or
// ctx ends, or it exits, or StartTimeout passes: the error then names its
// log).
func Start(ctx context.Context, o Options) (*Server, error) {
	bin, err := exec.LookPath("redis-server")
	if err != nil {
		return nil, ErrNotInstalled
	}
	if o.Dir == "" {
		return nil, errors.New("redisproc: Options.Dir is required")
	}
	if o.StartTimeout == 0 {
		o.StartTimeout = 15 * time.Second
	}
	// redis-server enters --dir before it opens --logfile: with a relative
	// data dir (sluice dev's default .sluice) the log path would not
	// resolve.
	if o.Dir, err = filepath.Abs(o.Dir); err != nil {
		return nil, fmt.Errorf("redis data dir: %w", err)
	}
	if err := os.MkdirAll(o.Dir, 0o755); err != nil {
		return nil, fmt.Errorf("creating redis data dir: %w", err)
	}
	pidfile := filepath.Join(o.Dir, "redis.pid")
	if o.ReplaceLeftover {
		replaceLeftover(pidfile, o.Logger)
	}
	if o.Port == 0 {
		if o.Port, err = FreePort(); err != nil {
			return nil, err
		}
	}
	s := &Server{o: o, Addr: net.JoinHostPort("127.0.0.1", strconv.Itoa(o.Port))}
	scheme := "redis"
	if o.TLS != nil {
		scheme = "rediss"
	}
	if o.Password != "" {
		s.URL = fmt.Sprintf("%s://:%s@%s/0", scheme, o.Password, s.Addr)
	} else {
		s.URL = scheme + "://" + s.Addr + "/0"
	}
	port := []string{"--port", strconv.Itoa(o.Port)}
	if t := o.TLS; t != nil {
		auth := "no"
		if t.RequireClientCert {
			auth = "yes"
		}
		port = []string{"--port", "0", "--tls-port", strconv.Itoa(o.Port), "--tls-cert-file", t.CertFile,
			"--tls-key-file", t.KeyFile, "--tls-ca-cert-file", t.CAFile, "--tls-auth-clients", auth}
	}
	args := append(port, "--bind", "127.0.0.1", "--dir", o.Dir,
		"--pidfile", pidfile, "--daemonize", "no", "--loglevel", "warning",
		"--logfile", filepath.Join(o.Dir, "redis.log"))
	if o.Persist {
		args = append(args, "--appendonly", "yes", "--appendfsync", "everysec", "--save", "60 1", "--protected-mode", "yes")
	} else {
		args = append(args, "--appendonly", "no", "--save", "", "--protected-mode", "no")
	}
	if o.Password != "" {
		args = append(args, "--requirepass", o.Password)
	}
	cmd := exec.Command(bin, args...)
	// The child dies with us, even when we are SIGKILLed; in a process
	// group of its own, a terminal's ^C reaches us, not it.
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL, Setpgid: true}
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("starting redis-server: %w", err)
	}
	s.cmd, s.exited = cmd, make(chan struct{})
	go func() { _ = cmd.Wait(); close(s.exited) }()
	deadline := time.Now().Add(o.StartTimeout)
	for s.Ping() != nil {
		select {
		case <-s.exited:
			return nil, fmt.Errorf("redis-server exited at start; see %s", filepath.Join(o.Dir, "redis.log"))
		case <-ctx.Done():
			s.Kill()
			return nil, ctx.Err()
		case <-time.After(20 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			s.Kill()
			log, _ := os.ReadFile(filepath.Join(o.Dir, "redis.log"))
			return nil, fmt.Errorf("redis-server did not answer on %s: %s", s.Addr, strings.TrimSpace(string(log)))
		}
	}
	return s, nil
}

// PID is the server's process id.
func (s *Server) PID() int { return s.cmd.Process.Pid }

// Restart starts the server again on the same port and directory after
// Kill or Stop (a test's Redis outage ends).
func (s *Server) Restart(ctx context.Context) error {
	o := s.o
	o.ReplaceLeftover = false
	n, err := Start(ctx, o)
	if err != nil {
		return err
	}
	*s = *n
	return nil
}

// Stop asks the server to save and exit (SIGTERM) and waits for it, at
// most 5s before it kills it.
func (s *Server) Stop() {
	_ = s.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-s.exited:
	case <-time.After(5 * time.Second):
		s.Kill()
	}
}

// Kill kills the server (SIGKILL) and waits until it has exited.
func (s *Server) Kill() {
	_ = s.cmd.Process.Kill()
	<-s.exited
}

// Ping sends PING (after AUTH, with a password) and reports whether the
// server answered PONG.
func (s *Server) Ping() error {
	var c net.Conn
	var err error
	if s.o.TLS != nil {
		c, err = tls.DialWithDialer(&net.Dialer{Timeout: 200 * time.Millisecond}, "tcp", s.Addr, s.o.TLS.Client)
	} else {
		c, err = net.DialTimeout("tcp", s.Addr, 200*time.Millisecond)
	}
	if err != nil {
		return err
	}
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(time.Second))
	r := bufio.NewReader(c)
	if s.o.Password != "" {
		fmt.Fprintf(c, "AUTH %s\r\n", s.o.Password)
		if _, err := r.ReadString('\n'); err != nil {
			return err
		}
	}
	if _, err := c.Write([]byte("PING\r\n")); err != nil {
		return err
	}
	line, err := r.ReadString('\n')
	if err != nil {
		return err
	}
	if !strings.HasPrefix(line, "+PONG") {
		return errors.New(strings.TrimSpace(line))
	}
	return nil
}

// replaceLeftover stops a redis-server that a crashed run left behind on
// the same data directory, so the new one owns the files.
func replaceLeftover(pidfile string, log *slog.Logger) {
	b, err := os.ReadFile(pidfile)
	if err != nil {
		return
	}
	pid, err := strconv.Atoi(strings.TrimSpace(string(b)))
	if err != nil || pid <= 1 {
		return
	}
	comm, err := os.ReadFile(fmt.Sprintf("/proc/%d/comm", pid))
	if err != nil || !strings.HasPrefix(string(comm), "redis-server") {
		return
	}
	if log != nil {
		log.Warn("replacing a redis-server left behind by an earlier run", "pid", pid)
	}
	_ = syscall.Kill(pid, syscall.SIGTERM)
	for range 100 {
		if syscall.Kill(pid, 0) != nil {
			return
		}
		time.Sleep(50 * time.Millisecond)
	}
	_ = syscall.Kill(pid, syscall.SIGKILL)
}

// FreePort returns a loopback TCP port that was free a moment ago, for a
// server the caller is about to start (a redis-server child here, the dev
// stack's broker).
func FreePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, fmt.Errorf("finding a free port: %w", err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}
