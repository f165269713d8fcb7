package soak

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/segmentio/kafka-go"

	"github.com/sluice-ml/sluice/internal/testkit"
)

func TestRSSAndDiskUse(t *testing.T) {
	self, err := RSS(os.Getpid())
	if err != nil || self < 1<<20 {
		t.Fatalf("RSS of this test: %d bytes, %v", self, err)
	}
	cmd := exec.Command("true")
	if err := cmd.Run(); err != nil {
		t.Fatal(err)
	}
	if gone, err := RSS(cmd.Process.Pid); err != nil || gone != 0 {
		t.Fatalf("RSS of an exited process: %d, %v", gone, err)
	}
	dir := t.TempDir()
	if err := os.MkdirAll(filepath.Join(dir, "a", "b"), 0o755); err != nil {
		t.Fatal(err)
	}
	for name, size := range map[string]int{"x": 1000, "a/y": 2000, "a/b/z": 3000} {
		if err := os.WriteFile(filepath.Join(dir, name), make([]byte, size), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if n, err := DiskUse(dir); err != nil || n != 6000 {
		t.Fatalf("DiskUse = %d, %v; want 6000", n, err)
	}
}

func TestRedisMemory(t *testing.T) {
	rdb := testkit.StartRedis(t).Client()
	defer rdb.Close()
	ctx := t.Context()
	before, keys, err := RedisMemory(ctx, rdb)
	if err != nil || before == 0 || keys != 0 {
		t.Fatalf("empty Redis: used %d, keys %d, %v", before, keys, err)
	}
	for i := range 50 {
		rdb.Set(ctx, "k"+string(rune('a'+i%26))+strings.Repeat("x", i), strings.Repeat("v", 100_000), 0)
	}
	after, keys, err := RedisMemory(ctx, rdb)
	if err != nil || keys != 50 || after < before+4_000_000 {
		t.Fatalf("after 5 MB in 50 keys: used %d (before %d), keys %d, %v", after, before, keys, err)
	}
}

// produceTo writes n records to topic.
func produceTo(t *testing.T, addr, topic string, n int) {
	t.Helper()
	w := &kafka.Writer{Addr: kafka.TCP(addr), Topic: topic, BatchTimeout: time.Millisecond, RequiredAcks: kafka.RequireAll, Transport: testkit.Transport(t)}
	defer w.Close()
	msgs := make([]kafka.Message, n)
	for i := range msgs {
		msgs[i] = kafka.Message{Key: []byte{byte(i)}, Value: []byte("v")}
	}
	if err := w.WriteMessages(testkit.Context(t, 30*time.Second), msgs...); err != nil {
		t.Fatal(err)
	}
}

func TestOffsetsReadInOutAndLag(t *testing.T) {
	k := testkit.StartKafka(t)
	k.CreateTopic(t, "in", 2)
	k.CreateTopic(t, "out", 1)
	produceTo(t, k.Addr, "in", 40)
	produceTo(t, k.Addr, "out", 7)
	o := Offsets{Client: &kafka.Client{Addr: kafka.TCP(k.Addr), Timeout: 5 * time.Second, Transport: testkit.Transport(t)}, Input: "in", Output: "out", Group: "g"}
	in, out, lag, err := o.Read(t.Context())
	if err != nil || in != 40 || out != 7 || lag != 40 {
		t.Fatalf("before any commit: in %d out %d lag %d (%v), want 40 7 40", in, out, lag, err)
	}
	// The group commits offset 5 on partition 0 only.
	_, err = o.Client.OffsetCommit(t.Context(), &kafka.OffsetCommitRequest{GroupID: "g", GenerationID: -1,
		Topics: map[string][]kafka.OffsetCommit{"in": {{Partition: 0, Offset: 5}}}})
	if err != nil {
		t.Fatal(err)
	}
	if _, _, lag, err = o.Read(t.Context()); err != nil || lag != 35 {
		t.Fatalf("after committing 5 on one partition: lag %d (%v), want 35", lag, err)
	}
}

func TestJudge(t *testing.T) {
	const mib = 1 << 20
	samples := func(f func(i int) uint64) []Sample {
		var out []Sample
		for i := range 20 {
			out = append(out, Sample{At: time.Duration(i) * time.Minute, RSS: []uint64{f(i)}, RedisUsed: 100 * mib})
		}
		return out
	}
	cfg := Config{WarmUp: 4 * time.Minute, Processes: []Process{{Name: "p"}}, RedisLimit: 1 << 30}
	tests := []struct {
		name string
		rss  func(i int) uint64
		ok   bool
	}{
		{"flat after a warm-up", func(i int) uint64 { return uint64(min(i, 3)*100+200+i%2*5) * mib }, true},
		{"growing", func(i int) uint64 { return uint64(200+i*20) * mib }, false},
		{"a step up late", func(i int) uint64 { return uint64(200+i/15*100) * mib }, false},
	}
	for _, tt := range tests {
		v, ok := judge(cfg, samples(tt.rss))
		if ok != tt.ok || len(v) != 1 || v[0].OK != tt.ok {
			t.Errorf("%s: %+v (ok %v), want ok %v", tt.name, v, ok, tt.ok)
		}
	}
	// Redis over its limit fails however flat it is.
	cfg.RedisLimit = 50 * mib
	cfg.Redis = redis.NewClient(&redis.Options{}) // judge only asks whether there is one
	defer cfg.Redis.Close()
	v, ok := judge(cfg, samples(func(int) uint64 { return 300 * mib }))
	if ok || len(v) != 2 || v[1].OK || !strings.Contains(v[1].Why, "limit") {
		t.Errorf("Redis over its limit: %+v", v)
	}
	// Too few samples after the warm-up cannot pass.
	cfg.WarmUp = time.Hour
	if _, ok := judge(cfg, samples(func(int) uint64 { return mib })); ok {
		t.Error("judged flat with no sample after the warm-up")
	}
}

// A short soak against real parts samples, prints a line per sample and
// the verdicts.
func TestRun(t *testing.T) {
	k := testkit.StartKafka(t)
	k.CreateTopic(t, "features", 2)
	k.CreateTopic(t, "predictions", 2)
	rdb := testkit.StartRedis(t).Client()
	defer rdb.Close()
	var out bytes.Buffer
	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	defer cancel()
	produceTo(t, k.Addr, "features", 500)
	rep, err := Run(ctx, Config{
		Duration: 1500 * time.Millisecond, Interval: 200 * time.Millisecond, WarmUp: 300 * time.Millisecond,
		Processes: []Process{{Name: "this test", PID: os.Getpid()}}, Redis: rdb, DataDir: t.TempDir(), Out: &out,
		Offsets: Offsets{Client: &kafka.Client{Addr: kafka.TCP(k.Addr), Timeout: 5 * time.Second, Transport: testkit.Transport(t)}, Input: "features", Output: "predictions", Group: "sluice"},
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Log("\n" + out.String())
	if len(rep.Samples) < 6 || len(rep.Verdicts) != 2 || rep.Samples[0].RSS[0] == 0 || rep.Samples[len(rep.Samples)-1].RedisUsed == 0 {
		t.Fatalf("report %+v", rep)
	}
	if last := rep.Samples[len(rep.Samples)-1]; last.In != 500 || last.Lag != 500 || last.Out != 0 {
		t.Fatalf("last sample %+v: want 500 events in, none out, all of them lag", last)
	}
	if lines := strings.Count(out.String(), "\n"); lines < len(rep.Samples)+3 {
		t.Fatalf("%d lines printed for %d samples:\n%s", lines, len(rep.Samples), out.String())
	}
}

func TestParseBanner(t *testing.T) {
	d := &Dev{}
	for _, line := range strings.Split(`sluice dev is running (Ctrl-C to stop)
  kafka        127.0.0.1:40001   (in-process broker, data in d; retention 1h0m0s, 128 MiB per partition)
  registry     http://127.0.0.1:40002
  redis        redis://127.0.0.1:40003/0
  admin        http://127.0.0.1:40004   (/metrics /healthz /readyz)`, "\n") {
		parseBanner(d, line)
	}
	if d.Kafka != "127.0.0.1:40001" || d.RegistryURL != "http://127.0.0.1:40002" || d.RedisURL != "redis://127.0.0.1:40003/0" || d.AdminURL != "http://127.0.0.1:40004" {
		t.Fatalf("parsed %+v", d)
	}
}
