package security

import (
	"crypto/tls"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/sluice-ml/sluice/config"
	"github.com/sluice-ml/sluice/internal/testkit"
)

// startTLSRedis runs redis-server with TLS only (no plain port) and
// returns its address. With mTLS it requires a client certificate.
func startTLSRedis(t *testing.T, p *pki, mTLS bool) string {
	t.Helper()
	if _, err := exec.LookPath("redis-server"); err != nil {
		t.Fatal("redis-server is not installed (apt-get install redis-server)")
	}
	dir := t.TempDir()
	port := testkit.FreePort(t)
	auth := "no"
	if mTLS {
		auth = "yes"
	}
	cmd := exec.Command("redis-server", "--port", "0", "--tls-port", strconv.Itoa(port), "--bind", "127.0.0.1",
		"--tls-cert-file", p.ServerCert, "--tls-key-file", p.ServerKey, "--tls-ca-cert-file", p.CAFile,
		"--tls-auth-clients", auth, "--dir", dir, "--save", "", "--appendonly", "no", "--daemonize", "no")
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	logf, err := os.Create(filepath.Join(dir, "redis.log"))
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stdout, cmd.Stderr = logf, logf
	if err := cmd.Start(); err != nil {
		t.Fatalf("starting redis-server: %v", err)
	}
	t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait(); logf.Close() })
	addr := net.JoinHostPort("127.0.0.1", strconv.Itoa(port))
	tc := &tls.Config{RootCAs: p.caPool, Certificates: p.clientCerts(t)}
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		c, err := tls.DialWithDialer(&net.Dialer{Timeout: time.Second}, "tcp", addr, tc)
		if err == nil {
			c.Close()
			return addr
		}
	}
	b, _ := os.ReadFile(filepath.Join(dir, "redis.log"))
	t.Fatalf("redis-server with TLS did not start on %s (is it built with TLS?): %s", addr, b)
	return ""
}

func (p *pki) clientCerts(t *testing.T) []tls.Certificate {
	c, err := tls.LoadX509KeyPair(p.ClientCert, p.ClientKey)
	if err != nil {
		t.Fatal(err)
	}
	return []tls.Certificate{c}
}

func TestRedisTLS(t *testing.T) {
	p, other := newPKI(t, "redis"), newPKI(t, "other")
	addr := startTLSRedis(t, p, false)
	mAddr := startTLSRedis(t, p, true)
	var warn logBuffer
	tests := []struct {
		name string
		cfg  config.Redis
		want []string
	}{
		{"rediss with CA", config.Redis{URL: "rediss://" + addr + "/0", TLS: config.TLS{CAFile: p.CAFile}}, nil},
		{"tls.enabled with redis://", config.Redis{URL: "redis://" + addr + "/0", TLS: config.TLS{Enabled: true, CAFile: p.CAFile}}, nil},
		{"server name localhost", config.Redis{URL: "rediss://" + addr + "/0", TLS: config.TLS{CAFile: p.CAFile, ServerName: "localhost"}}, nil},
		{"wrong CA", config.Redis{URL: "rediss://" + addr + "/0", TLS: config.TLS{CAFile: other.CAFile}},
			[]string{"redis: connecting to " + addr + " over TLS", "redis.tls.ca_file", "certificate signed by unknown authority"}},
		{"system roots", config.Redis{URL: "rediss://" + addr + "/0"}, []string{"redis.tls.ca_file", "certificate"}},
		{"wrong server name", config.Redis{URL: "rediss://" + addr + "/0", TLS: config.TLS{CAFile: p.CAFile, ServerName: "redis.example"}},
			[]string{"redis.tls.server_name", "certificate", "redis.example"}},
		{"insecure skip verify", config.Redis{URL: "rediss://" + addr + "/0", TLS: config.TLS{InsecureSkipVerify: true}}, nil},
		{"skip_verify in the URL", config.Redis{URL: "rediss://" + addr + "/0?skip_verify=true"}, nil},
		{"mTLS with client cert", config.Redis{URL: "rediss://" + mAddr + "/0",
			TLS: config.TLS{CAFile: p.CAFile, CertFile: p.ClientCert, KeyFile: p.ClientKey}}, nil},
		{"mTLS without client cert", config.Redis{URL: "rediss://" + mAddr + "/0", TLS: config.TLS{CAFile: p.CAFile}},
			[]string{"redis.tls.cert_file", "certificate required"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := NewRedis(tt.cfg, warn.logger())
			if err != nil {
				t.Fatal(err)
			}
			defer c.Close()
			ctx := testkit.Context(t, 10*time.Second)
			err = c.Ping(ctx).Err()
			if len(tt.want) == 0 {
				if err != nil {
					t.Fatal(err)
				}
				return
			}
			assertErr(t, "PING", err, tt.want...)
			t.Logf("%v", err)
		})
	}
	if !strings.Contains(warn.String(), "redis.tls.insecure_skip_verify") || !strings.Contains(warn.String(), "level=WARN") {
		t.Errorf("no warning about insecure_skip_verify in the log:\n%s", warn.String())
	}
}
