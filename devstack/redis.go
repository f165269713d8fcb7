package devstack

import (
	"bufio"
	"context"
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

	"github.com/alicebob/miniredis/v2"
)

// redisChild is the Redis the dev stack owns.
type redisChild struct {
	URL  string
	stop func()
}

// startRedis runs redis-server with its data under dir, or an in-process
// stand-in (with a loud warning) when redis-server is not installed.
func startRedis(ctx context.Context, dir string, log *slog.Logger) (*redisChild, error) {
	bin, err := exec.LookPath("redis-server")
	if err != nil {
		mr := miniredis.NewMiniRedis()
		if err := mr.Start(); err != nil {
			return nil, fmt.Errorf("starting in-process redis: %w", err)
		}
		log.Warn("redis-server is not installed: using an IN-PROCESS Redis stand-in; schema ids and models will NOT survive a restart (apt-get install redis-server, or pass --redis-url)")
		return &redisChild{URL: "redis://" + mr.Addr() + "/0", stop: mr.Close}, nil
	}
	// redis-server enters --dir before it opens --logfile: with a relative
	// data dir (the default .sluice) the log path would not resolve.
	dir, err = filepath.Abs(dir)
	if err != nil {
		return nil, fmt.Errorf("redis data dir: %w", err)
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("creating redis data dir: %w", err)
	}
	pidfile := filepath.Join(dir, "redis.pid")
	replaceLeftover(pidfile, log)
	port, err := freePort()
	if err != nil {
		return nil, err
	}
	cmd := exec.Command(bin,
		"--bind", "127.0.0.1", "--port", strconv.Itoa(port), "--dir", dir,
		"--pidfile", pidfile, "--appendonly", "yes", "--appendfsync", "everysec",
		"--save", "60 1", "--protected-mode", "yes", "--daemonize", "no", "--loglevel", "warning",
		"--logfile", filepath.Join(dir, "redis.log"))
	// The child dies with us, even when we are SIGKILLed.
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL, Setpgid: true}
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("starting redis-server: %w", err)
	}
	exited := make(chan struct{})
	go func() { _ = cmd.Wait(); close(exited) }()
	addr := net.JoinHostPort("127.0.0.1", strconv.Itoa(port))
	deadline := time.Now().Add(15 * time.Second)
	for ping(addr) != nil {
		select {
		case <-exited:
			return nil, fmt.Errorf("redis-server exited at start; see %s", filepath.Join(dir, "redis.log"))
		case <-ctx.Done():
			_ = cmd.Process.Kill()
			return nil, ctx.Err()
		case <-time.After(20 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			_ = cmd.Process.Kill()
			return nil, fmt.Errorf("redis-server did not answer on %s; see %s", addr, filepath.Join(dir, "redis.log"))
		}
	}
	stop := func() {
		_ = cmd.Process.Signal(syscall.SIGTERM) // redis saves and exits
		select {
		case <-exited:
		case <-time.After(5 * time.Second):
			_ = cmd.Process.Kill()
			<-exited
		}
	}
	return &redisChild{URL: "redis://" + addr + "/0", stop: stop}, nil
}

// replaceLeftover kills a redis-server that a crashed run left behind on the
// same data directory, so the new one owns the files.
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
	log.Warn("replacing a redis-server left behind by an earlier run", "pid", pid)
	_ = syscall.Kill(pid, syscall.SIGTERM)
	for i := 0; i < 100; i++ {
		if syscall.Kill(pid, 0) != nil {
			return
		}
		time.Sleep(50 * time.Millisecond)
	}
	_ = syscall.Kill(pid, syscall.SIGKILL)
}

func ping(addr string) error {
	c, err := net.DialTimeout("tcp", addr, 200*time.Millisecond)
	if err != nil {
		return err
	}
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(time.Second))
	if _, err := c.Write([]byte("PING\r\n")); err != nil {
		return err
	}
	line, err := bufio.NewReader(c).ReadString('\n')
	if err != nil {
		return err
	}
	if !strings.HasPrefix(line, "+PONG") {
		return errors.New(strings.TrimSpace(line))
	}
	return nil
}

func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, fmt.Errorf("finding a free port: %w", err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}
