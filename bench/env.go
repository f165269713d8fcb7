package bench

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"os"
	"runtime"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/alicebob/miniredis/v2"
	"github.com/redis/go-redis/v9"
	"github.com/segmentio/kafka-go"
	"github.com/twmb/franz-go/pkg/kfake"

	"github.com/sluice-ml/sluice/demo"
	"github.com/sluice-ml/sluice/inference"
	"github.com/sluice-ml/sluice/internal/redisproc"
	"github.com/sluice-ml/sluice/producers"
	"github.com/sluice-ml/sluice/schemas"
	"github.com/sluice-ml/sluice/training"
)

// model is one benchmarked model with its input events.
type model struct {
	name   string
	sig    *inference.Signature
	onnx   []byte
	schema string
	// next returns the next input record (goavro native).
	next func() map[string]any
}

func demoModel() (*model, error) {
	mlp, sig, _, err := training.TrainDemoModel(1, 20000)
	if err != nil {
		return nil, err
	}
	onnx, err := training.WriteONNX(mlp, sig.Input.Tensor, sig.Output.Tensor)
	if err != nil {
		return nil, err
	}
	gen := demo.NewGenerator(2, demo.WithCards(5000))
	return &model{name: "demo", sig: sig, onnx: onnx, schema: schemas.TransactionSchema(), next: gen.Next}, nil
}

func heavyModel() (*model, error) {
	sig := training.HeavySignature()
	onnx, err := training.WriteONNX(training.HeavyMLP(1), sig.Input.Tensor, sig.Output.Tensor)
	if err != nil {
		return nil, err
	}
	r := rand.New(rand.NewPCG(3, 4))
	n := 0
	next := func() map[string]any {
		n++
		emb := make([]any, training.HeavyInputWidth)
		for i := range emb {
			emb[i] = float32(r.NormFloat64())
		}
		return map[string]any{
			"event_id":   "e" + strconv.Itoa(n),
			"entity_id":  "k" + strconv.Itoa(r.IntN(5000)),
			"event_time": time.Now(),
			"embedding":  emb,
		}
	}
	return &model{name: "heavy", sig: sig, onnx: onnx, schema: training.HeavySchema, next: next}, nil
}

// env is an in-process broker and schema registry for one model's runs.
type env struct {
	broker   *kfake.Cluster
	addr     string
	registry string
	client   *schemas.Client
	inputEnc *schemas.Encoder
	stop     func()
	log      *slog.Logger
	rdb      *redis.Client
	// partitions of every topic newEnv creates
	partitions int32
	redisPID   int // 0: the in-process stand-in
}

// cpu is the CPU time this process and the env's redis-server have used.
func (e *env) cpu() time.Duration {
	return processCPU() + childCPU(e.redisPID)
}

// childCPU is the user and system time of process pid (0 for none), from
// /proc (in USER_HZ ticks, 100 a second on Linux).
func childCPU(pid int) time.Duration {
	if pid == 0 {
		return 0
	}
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0
	}
	// Fields after the command name (which may hold spaces) start at ")".
	s := string(b)
	f := strings.Fields(s[strings.LastIndexByte(s, ')')+1:])
	if len(f) < 13 {
		return 0
	}
	u, _ := strconv.ParseInt(f[11], 10, 64)
	st, _ := strconv.ParseInt(f[12], 10, 64)
	return time.Duration(u+st) * 10 * time.Millisecond
}

func newEnv(ctx context.Context, m *model, partitions int32) (*env, error) {
	c, err := kfake.NewCluster(kfake.NumBrokers(1), kfake.DefaultNumPartitions(int(partitions)))
	if err != nil {
		return nil, fmt.Errorf("starting broker: %w", err)
	}
	redisAddr, redisPID, stopRedis, err := startRedis(ctx)
	if err != nil {
		c.Close()
		return nil, err
	}
	rdb := redis.NewClient(&redis.Options{Addr: redisAddr})
	reg, err := schemas.Listen("127.0.0.1:0", rdb)
	if err != nil {
		c.Close()
		stopRedis()
		return nil, err
	}
	e := &env{
		broker: c, addr: c.ListenAddrs()[0], registry: reg.URL,
		log: slog.New(slog.NewTextHandler(io.Discard, nil)),
	}
	e.rdb, e.redisPID = rdb, redisPID
	e.stop = func() { _ = reg.Close(); rdb.Close(); stopRedis(); c.Close() }
	e.client = schemas.NewClient(e.registry, nil)
	e.partitions = partitions
	for _, t := range append([]string{"features"}, outputs...) {
		if err := c.CreateTopic(t, partitions, nil); err != nil {
			e.stop()
			return nil, err
		}
	}
	if e.inputEnc, err = schemas.NewEncoder(ctx, e.client, schemas.Subject("features"), m.schema); err != nil {
		e.stop()
		return nil, err
	}
	return e, nil
}

// outputs are the topics the runs write; reset empties them.
var outputs = []string{"predictions", "features.dlq", "passthrough"}

// reset drops what earlier runs wrote (the in-process broker keeps every
// record in this process's heap) and collects the garbage, so that each run
// starts with the same heap and the collector's work on earlier runs'
// records is not charged to it.
func (e *env) reset() error {
	for _, t := range outputs {
		if err := e.broker.DeleteTopic(t); err != nil {
			return fmt.Errorf("resetting topic %s: %w", t, err)
		}
		if err := e.broker.CreateTopic(t, e.partitions, nil); err != nil {
			return fmt.Errorf("resetting topic %s: %w", t, err)
		}
	}
	runtime.GC()
	return nil
}

// preload writes n input events to the features topic.
func (e *env) preload(ctx context.Context, m *model, n int) error {
	return e.preloadTopic(ctx, m, "features", n)
}

// preloadTopic writes n input events to topic.
func (e *env) preloadTopic(ctx context.Context, m *model, topic string, n int) error {
	var acked atomic.Int64
	var failed atomic.Pointer[error]
	w, err := producers.NewAsyncWriter(producers.WriterConfig{Brokers: []string{e.addr}, Topic: topic}, nil,
		func(msgs []kafka.Message, err error) {
			if err != nil {
				failed.CompareAndSwap(nil, &err)
			}
			acked.Add(int64(len(msgs)))
		})
	if err != nil {
		return err
	}
	defer w.Close()
	const chunk = 2000
	msgs := make([]kafka.Message, 0, chunk)
	for sent := 0; sent < n; {
		msgs = msgs[:0]
		for i := 0; i < chunk && sent+i < n; i++ {
			rec := m.next()
			v, err := e.inputEnc.Append(nil, rec)
			if err != nil {
				return err
			}
			msgs = append(msgs, kafka.Message{Key: []byte(rec["entity_id"].(string)), Value: v})
		}
		if err := w.Enqueue(msgs...); err != nil {
			return fmt.Errorf("preloading events: %w", err)
		}
		sent += len(msgs)
		for int64(sent)-acked.Load() > 4*chunk { // bound what is buffered
			time.Sleep(time.Millisecond)
		}
	}
	for acked.Load() < int64(n) {
		if err := ctx.Err(); err != nil {
			return err
		}
		time.Sleep(time.Millisecond)
	}
	if perr := failed.Load(); perr != nil {
		return fmt.Errorf("preloading events: %w", *perr)
	}
	return nil
}

// startRedis runs redis-server on a free port without persistence
// (internal/redisproc, as the tests and the dev stack run theirs), as a
// worker's Redis would be: another process. Where none is installed it
// falls back to the in-process stand-in, whose Lua scripts then take the
// worker's CPU.
func startRedis(ctx context.Context) (addr string, pid int, stop func(), err error) {
	dir, err := os.MkdirTemp("", "sluice-bench-redis-")
	if err != nil {
		return "", 0, nil, err
	}
	srv, err := redisproc.Start(ctx, redisproc.Options{Dir: dir})
	if errors.Is(err, redisproc.ErrNotInstalled) {
		os.RemoveAll(dir)
		mr := miniredis.NewMiniRedis()
		if err := mr.Start(); err != nil {
			return "", 0, nil, err
		}
		return mr.Addr(), 0, mr.Close, nil
	}
	if err != nil {
		os.RemoveAll(dir)
		return "", 0, nil, err
	}
	return srv.Addr, srv.PID(), func() { srv.Kill(); os.RemoveAll(dir) }, nil
}
