package faults

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/sluice-ml/sluice/internal/testkit"
)

// workerOpts are the pipeline keys a test sets in the worker's sluice.yaml.
type workerOpts struct {
	Group          string
	MaxInFlight    int
	BatchSize      int
	CommitInterval time.Duration
	Grace          time.Duration
}

// writeConfig writes a sluice.yaml for `sluice run` pointing at e's
// servers and returns its path.
func (e *env) writeConfig(o workerOpts, adminAddr string) string {
	e.t.Helper()
	yaml := fmt.Sprintf(`kafka:
  brokers: [%q]
redis:
  url: %q
registry:
  url: %q
model:
  name: fraud
  version: "1"
  dir: %q
inference:
  provider: cpu
  intra_op_threads: 1
pipeline:
  group: %q
  max_in_flight: %d
  commit_interval: %s
  shutdown_grace: %s
  batch:
    max_batch_size: %d
    max_delay: 2ms
admin:
  addr: %q
log:
  level: info
`, e.kafka.Addr, e.redis.URL, e.registry, e.modelDir, o.Group, o.MaxInFlight,
		o.CommitInterval, o.Grace, o.BatchSize, adminAddr)
	path := filepath.Join(e.t.TempDir(), "sluice.yaml")
	if err := os.WriteFile(path, []byte(yaml), 0o644); err != nil {
		e.t.Fatal(err)
	}
	return path
}

// proc is a `sluice` subprocess.
type proc struct {
	t      *testing.T
	name   string
	cmd    *exec.Cmd
	admin  string // host:port of its admin server
	log    *logBuf
	exited chan struct{}
}

// logBuf collects a subprocess's log lines. Safe for concurrent use.
type logBuf struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *logBuf) add(line string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.b.WriteString(line)
	l.b.WriteByte('\n')
}

func (l *logBuf) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// startProc runs `sluice ARGS...` (with ONNXRUNTIME_LIB and env passed
// on) and, if admin is set, waits until its /readyz answers 200.
func startProc(t *testing.T, name, admin string, env []string, args ...string) *proc {
	t.Helper()
	p := &proc{t: t, name: name, admin: admin, log: &logBuf{}, exited: make(chan struct{})}
	p.cmd = exec.Command(sluiceBin(t), args...)
	p.cmd.Env = append(os.Environ(), env...)
	// The child dies with the test process, whatever happens to it.
	p.cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	out, err := p.cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	p.cmd.Stdout = io.Discard
	if err := p.cmd.Start(); err != nil {
		t.Fatalf("starting %s: %v", name, err)
	}
	logDone := make(chan struct{})
	go func() {
		defer close(logDone)
		sc := bufio.NewScanner(out)
		sc.Buffer(make([]byte, 64<<10), 1<<20)
		for sc.Scan() {
			p.log.add(sc.Text())
		}
	}()
	go func() { <-logDone; _ = p.cmd.Wait(); close(p.exited) }()
	t.Cleanup(func() {
		p.kill()
		if t.Failed() {
			t.Logf("%s log (tail):\n%s", p.name, tail(p.log.String(), 3000))
		}
	})
	if admin != "" {
		p.waitReady(60 * time.Second)
	}
	return p
}

func tail(s string, n int) string {
	if len(s) > n {
		return "…" + s[len(s)-n:]
	}
	return s
}

func (p *proc) waitReady(timeout time.Duration) {
	p.t.Helper()
	deadline := time.Now().Add(timeout)
	hc := &http.Client{Timeout: time.Second, Transport: &http.Transport{DisableKeepAlives: true}}
	for {
		select {
		case <-p.exited:
			p.t.Fatalf("%s exited before it was ready (%v):\n%s", p.name, p.cmd.ProcessState, tail(p.log.String(), 3000))
		default:
		}
		resp, err := hc.Get("http://" + p.admin + "/readyz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return
			}
		}
		if time.Now().After(deadline) {
			p.t.Fatalf("%s not ready after %s:\n%s", p.name, timeout, tail(p.log.String(), 3000))
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// kill sends SIGKILL and waits until the process is gone.
func (p *proc) kill() {
	select {
	case <-p.exited:
		return
	default:
	}
	_ = p.cmd.Process.Signal(syscall.SIGKILL)
	<-p.exited
}

// term sends SIGTERM and waits at most limit for the process to exit; it
// returns the exit code and how long the exit took.
func (p *proc) term(limit time.Duration) (int, time.Duration) {
	p.t.Helper()
	start := time.Now()
	_ = p.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-p.exited:
	case <-time.After(limit):
		p.kill()
		p.t.Fatalf("%s did not exit within %s of SIGTERM", p.name, limit)
	}
	return p.cmd.ProcessState.ExitCode(), time.Since(start)
}

// metric scrapes one unlabelled sample (or the sum of a metric's samples)
// from the admin server's /metrics.
func (p *proc) metric(name string) (float64, error) {
	hc := &http.Client{Timeout: 2 * time.Second, Transport: &http.Transport{DisableKeepAlives: true}}
	resp, err := hc.Get("http://" + p.admin + "/metrics")
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		return 0, err
	}
	sum, found := 0.0, false
	for _, line := range strings.Split(string(b), "\n") {
		if !strings.HasPrefix(line, name) {
			continue
		}
		rest := line[len(name):]
		if rest == "" || (rest[0] != ' ' && rest[0] != '{') {
			continue
		}
		f := strings.Fields(line)
		v, err := strconv.ParseFloat(f[len(f)-1], 64)
		if err != nil {
			return 0, fmt.Errorf("%s: %w", line, err)
		}
		sum += v
		found = true
	}
	if !found {
		return 0, fmt.Errorf("no %s in /metrics", name)
	}
	return sum, nil
}

// freeAddr is a loopback host:port that was free a moment ago.
func freeAddr(t *testing.T) string {
	return fmt.Sprintf("127.0.0.1:%d", testkit.FreePort(t))
}
