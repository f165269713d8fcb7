package security

import (
	"crypto/tls"
	"strings"
	"testing"
	"time"

	"github.com/sluice-ml/sluice/config"
	"github.com/sluice-ml/sluice/internal/redisproc"
	"github.com/sluice-ml/sluice/internal/testkit"
)

// startTLSRedis runs redis-server with TLS only (no plain port) and
// returns its address. With mTLS it requires a client certificate.
func startTLSRedis(t *testing.T, p *pki, mTLS bool) string {
	t.Helper()
	srv, err := redisproc.Start(t.Context(), redisproc.Options{Dir: t.TempDir(), StartTimeout: 10 * time.Second,
		TLS: &redisproc.TLS{CertFile: p.ServerCert, KeyFile: p.ServerKey, CAFile: p.CAFile, RequireClientCert: mTLS,
			Client: &tls.Config{RootCAs: p.caPool, Certificates: p.clientCerts(t)}}})
	if err != nil {
		t.Fatalf("redis-server with TLS (is it installed and built with TLS?): %v", err)
	}
	t.Cleanup(srv.Kill)
	return srv.Addr
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
