package soak

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"
)

// Process is one process whose memory the soak follows.
type Process struct {
	Name string
	PID  int
}

// Config says what Run samples and for how long.
type Config struct {
	// Duration is how long the soak runs (default 1h); Interval how often it
	// samples (default Duration/60, at least 5s).
	Duration, Interval time.Duration
	// WarmUp is left out of the flatness verdicts: the first minutes fill
	// the caches, buffers and capped stores (default a fifth of Duration,
	// at most 5 minutes).
	WarmUp time.Duration
	// Processes are the processes whose resident memory is sampled.
	Processes []Process
	// Redis is the Redis to sample (nil: none).
	Redis *redis.Client
	// RedisLimit is the most used_memory Redis may reach (default 1 GiB).
	RedisLimit uint64
	// DataDir is the directory whose disk use is sampled ("": none).
	DataDir string
	// Offsets reads events in, predictions out and lag.
	Offsets Offsets
	// Out receives one line per sample and the verdicts (nil: discarded).
	Out io.Writer
}

func (c Config) withDefaults() Config {
	if c.Duration <= 0 {
		c.Duration = time.Hour
	}
	if c.Interval <= 0 {
		c.Interval = max(5*time.Second, c.Duration/60)
	}
	if c.WarmUp <= 0 {
		c.WarmUp = min(5*time.Minute, c.Duration/5)
	}
	if c.RedisLimit == 0 {
		c.RedisLimit = 1 << 30
	}
	if c.Out == nil {
		c.Out = io.Discard
	}
	return c
}

// Report is a soak's samples and verdicts.
type Report struct {
	Processes []string  `json:"processes"`
	Samples   []Sample  `json:"samples"`
	Verdicts  []Verdict `json:"verdicts"`
	// OK is true when every verdict passed.
	OK bool `json:"ok"`
}

// Run samples every Interval until Duration has passed or ctx ends, then
// judges the samples. A sample that fails is reported on Out and skipped;
// Run fails only when none succeeds.
func Run(ctx context.Context, cfg Config) (Report, error) {
	cfg = cfg.withDefaults()
	rep := Report{}
	for _, p := range cfg.Processes {
		rep.Processes = append(rep.Processes, p.Name)
	}
	printHeader(cfg)
	start := time.Now()
	tick := time.NewTicker(cfg.Interval)
	defer tick.Stop()
	for {
		s, err := sample(ctx, cfg, start)
		switch {
		case err != nil && ctx.Err() == nil:
			fmt.Fprintf(cfg.Out, "%s  sample failed: %v\n", clock(time.Since(start)), err)
		case err == nil:
			var prev *Sample
			if n := len(rep.Samples); n > 0 {
				prev = &rep.Samples[n-1]
			}
			printSample(cfg, prev, s)
			rep.Samples = append(rep.Samples, s)
		}
		if time.Since(start) >= cfg.Duration {
			break
		}
		select {
		case <-ctx.Done():
		case <-tick.C:
			continue
		}
		break
	}
	if len(rep.Samples) == 0 {
		return rep, errors.New("soak: no sample succeeded")
	}
	rep.Verdicts, rep.OK = judge(cfg, rep.Samples)
	printVerdicts(cfg, rep)
	return rep, nil
}

// sample takes one Sample. Its time is when the offsets were read, so the
// rates between samples are exact however long the rest takes.
func sample(ctx context.Context, cfg Config, start time.Time) (Sample, error) {
	s := Sample{At: time.Since(start), RSS: make([]uint64, len(cfg.Processes))}
	var err error
	if cfg.Offsets.Client != nil {
		if s.In, s.Out, s.Lag, err = cfg.Offsets.Read(ctx); err != nil {
			return s, err
		}
		s.At = time.Since(start)
	}
	for i, p := range cfg.Processes {
		if s.RSS[i], err = RSS(p.PID); err != nil {
			return s, err
		}
	}
	if cfg.Redis != nil {
		if s.RedisUsed, s.RedisKeys, err = RedisMemory(ctx, cfg.Redis); err != nil {
			return s, err
		}
	}
	if cfg.DataDir != "" {
		if s.Disk, err = DiskUse(cfg.DataDir); err != nil {
			return s, err
		}
	}
	return s, nil
}

func clock(d time.Duration) string {
	d = d.Round(time.Second)
	return fmt.Sprintf("%2d:%02d", int(d.Minutes()), int(d.Seconds())%60)
}

// MiB formats bytes in mebibytes.
func MiB(b uint64) string { return fmt.Sprintf("%.0f", float64(b)/(1<<20)) }

func printHeader(cfg Config) {
	var b strings.Builder
	fmt.Fprintf(&b, "%5s %8s %8s %8s", "t", "in/s", "out/s", "lag")
	for _, p := range cfg.Processes {
		fmt.Fprintf(&b, " %14s", shorten(p.Name, 10)+" MiB")
	}
	fmt.Fprintf(&b, " %14s %9s %9s\n", "redis used MiB", "keys", "disk MiB")
	io.WriteString(cfg.Out, b.String())
}

func shorten(s string, n int) string {
	if len(s) > n {
		return s[:n]
	}
	return s
}

func printSample(cfg Config, prev *Sample, s Sample) {
	inRate, outRate := "-", "-"
	if prev != nil {
		secs := (s.At - prev.At).Seconds()
		inRate = fmt.Sprintf("%.0f", float64(s.In-prev.In)/secs)
		outRate = fmt.Sprintf("%.0f", float64(s.Out-prev.Out)/secs)
	}
	var b strings.Builder
	fmt.Fprintf(&b, "%5s %8s %8s %8d", clock(s.At), inRate, outRate, s.Lag)
	for _, r := range s.RSS {
		fmt.Fprintf(&b, " %14s", MiB(r))
	}
	fmt.Fprintf(&b, " %14s %9d %9s\n", MiB(s.RedisUsed), s.RedisKeys, MiB(uint64(max(s.Disk, 0))))
	io.WriteString(cfg.Out, b.String())
}
