package soak

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// Child is a process the soak started.
type Child struct {
	Cmd    *exec.Cmd
	exited chan struct{}
	err    error
}

// start runs bin with args, its stderr appended to logPath, and returns
// its stdout.
func start(bin string, args []string, logPath string) (*Child, io.Reader, error) {
	logf, err := os.OpenFile(logPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return nil, nil, fmt.Errorf("opening %s: %w", logPath, err)
	}
	cmd := exec.Command(bin, args...)
	cmd.Stderr = logf
	// The children die with the soak, even when it is killed.
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	out, err := cmd.StdoutPipe()
	if err != nil {
		logf.Close()
		return nil, nil, err
	}
	if err := cmd.Start(); err != nil {
		logf.Close()
		return nil, nil, fmt.Errorf("starting %s %s: %w", bin, args[0], err)
	}
	c := &Child{Cmd: cmd, exited: make(chan struct{})}
	go func() {
		c.err = cmd.Wait()
		logf.Close()
		close(c.exited)
	}()
	return c, out, nil
}

// PID is the child's process id.
func (c *Child) PID() int { return c.Cmd.Process.Pid }

// Exited is closed once the child has exited.
func (c *Child) Exited() <-chan struct{} { return c.exited }

// Stop asks the child to stop (SIGTERM) and waits up to grace for it,
// then kills it. It returns how the child exited.
func (c *Child) Stop(grace time.Duration) error {
	select {
	case <-c.exited:
		return c.err
	default:
	}
	_ = c.Cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-c.exited:
	case <-time.After(grace):
		_ = c.Cmd.Process.Kill()
		<-c.exited
	}
	return c.err
}

// Dev is a running `sluice dev` and where its parts listen.
type Dev struct {
	*Child
	Kafka, RegistryURL, RedisURL, AdminURL string
	DataDir                                string
}

// StartDev runs `bin dev` on free ports with its data in dataDir, its log
// in dataDir/../dev.log, and waits (up to timeout) for the banner that
// says where everything listens.
func StartDev(ctx context.Context, bin, dataDir string, extra []string, timeout time.Duration) (*Dev, error) {
	args := append([]string{"dev", "--data-dir", dataDir, "--kafka-addr", "127.0.0.1:0",
		"--registry-addr", "127.0.0.1:0", "--http-addr", "127.0.0.1:0"}, extra...)
	c, out, err := start(bin, args, filepath.Join(filepath.Dir(dataDir), "dev.log"))
	if err != nil {
		return nil, err
	}
	d := &Dev{Child: c, DataDir: dataDir}
	lines := make(chan string)
	go func() {
		defer close(lines)
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			lines <- sc.Text()
		}
	}()
	deadline := time.After(timeout)
	for d.Kafka == "" || d.RegistryURL == "" || d.RedisURL == "" || d.AdminURL == "" {
		select {
		case line, ok := <-lines:
			if !ok {
				_ = c.Stop(5 * time.Second)
				return nil, fmt.Errorf("sluice dev exited before it was ready: %v (see its log beside %s)", c.err, dataDir)
			}
			parseBanner(d, line)
		case <-deadline:
			_ = c.Stop(5 * time.Second)
			return nil, fmt.Errorf("sluice dev not ready within %s", timeout)
		case <-ctx.Done():
			_ = c.Stop(5 * time.Second)
			return nil, ctx.Err()
		}
	}
	go func() { // keep draining what it prints
		for range lines {
		}
	}()
	return d, nil
}

// parseBanner reads one line of `sluice dev`'s banner ("  kafka  addr ...").
func parseBanner(d *Dev, line string) {
	f := strings.Fields(line)
	if len(f) < 2 {
		return
	}
	switch f[0] {
	case "kafka":
		d.Kafka = f[1]
	case "registry":
		d.RegistryURL = f[1]
	case "redis":
		d.RedisURL = f[1]
	case "admin":
		d.AdminURL = f[1]
	}
}

// RedisPID returns the pid of the redis-server the dev stack runs as a
// child (from its pid file), or an error when it runs none.
func (d *Dev) RedisPID() (int, error) {
	b, err := os.ReadFile(filepath.Join(d.DataDir, "redis", "redis.pid"))
	if err != nil {
		return 0, fmt.Errorf("the dev stack's redis-server: %w", err)
	}
	pid, err := strconv.Atoi(strings.TrimSpace(string(b)))
	if err != nil || pid <= 1 {
		return 0, errors.New("the dev stack's redis-server: bad pid file")
	}
	return pid, nil
}

// StartProducer runs `bin produce` publishing demo events and their labels
// to the dev stack at rate events a second until stopped, its output in
// logPath.
func StartProducer(bin string, d *Dev, rate float64, logPath string) (*Child, error) {
	c, out, err := start(bin, []string{"produce", "--brokers", d.Kafka, "--registry-url", d.RegistryURL,
		"--count", "0", "--rate", strconv.FormatFloat(rate, 'f', -1, 64), "--labels", "--seed", "1"}, logPath)
	if err != nil {
		return nil, err
	}
	go func() { _, _ = io.Copy(io.Discard, out) }()
	return c, nil
}
