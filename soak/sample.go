package soak

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/segmentio/kafka-go"
)

// Sample is what one look at the running system saw.
type Sample struct {
	// At is the time since the soak started.
	At time.Duration `json:"at_ns"`
	// RSS is each process's resident memory in bytes, in the order of
	// Config.Processes (0: the process is gone).
	RSS []uint64 `json:"rss_bytes"`
	// RedisUsed is Redis's used_memory; RedisKeys its key count.
	RedisUsed uint64 `json:"redis_used_bytes"`
	RedisKeys int64  `json:"redis_keys"`
	// Disk is the bytes under the data directory.
	Disk int64 `json:"disk_bytes"`
	// In and Out are the end offsets of the input and output topics,
	// summed over partitions: events in, predictions out.
	In  int64 `json:"in"`
	Out int64 `json:"out"`
	// Lag is In minus the group's committed offsets on the input topic.
	Lag int64 `json:"lag"`
}

// RSS returns the resident memory of process pid in bytes (VmRSS in
// /proc/pid/status), 0 when it has none or is gone.
func RSS(pid int) (uint64, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if errors.Is(err, fs.ErrNotExist) {
		return 0, nil
	}
	if err != nil {
		return 0, err
	}
	sc := bufio.NewScanner(bytes.NewReader(b))
	for sc.Scan() {
		if rest, ok := strings.CutPrefix(sc.Text(), "VmRSS:"); ok {
			f := strings.Fields(rest)
			if len(f) != 2 || f[1] != "kB" {
				return 0, fmt.Errorf("reading /proc/%d/status: VmRSS %q", pid, rest)
			}
			kb, err := strconv.ParseUint(f[0], 10, 64)
			if err != nil {
				return 0, fmt.Errorf("reading /proc/%d/status: %w", pid, err)
			}
			return kb << 10, nil
		}
	}
	return 0, nil // a zombie has no VmRSS
}

// DiskUse returns the bytes of the regular files under dir.
func DiskUse(dir string) (int64, error) {
	var n int64
	err := filepath.WalkDir(dir, func(_ string, d fs.DirEntry, err error) error {
		if err != nil {
			if errors.Is(err, fs.ErrNotExist) {
				return nil // deleted while walking (a rolled log segment)
			}
			return err
		}
		if d.Type().IsRegular() {
			if info, err := d.Info(); err == nil {
				n += info.Size()
			}
		}
		return nil
	})
	return n, err
}

// RedisMemory returns Redis's used_memory and its number of keys.
func RedisMemory(ctx context.Context, rdb *redis.Client) (used uint64, keys int64, err error) {
	info, err := rdb.Info(ctx, "memory").Result()
	if err != nil {
		return 0, 0, fmt.Errorf("redis INFO memory: %w", err)
	}
	for _, line := range strings.Split(info, "\n") {
		if v, ok := strings.CutPrefix(strings.TrimSpace(line), "used_memory:"); ok {
			if used, err = strconv.ParseUint(v, 10, 64); err != nil {
				return 0, 0, fmt.Errorf("redis used_memory %q: %w", v, err)
			}
		}
	}
	if keys, err = rdb.DBSize(ctx).Result(); err != nil {
		return 0, 0, fmt.Errorf("redis DBSIZE: %w", err)
	}
	return used, keys, nil
}

// Offsets reads the end offsets of the input and output topics and the
// group's committed offsets on the input topic.
type Offsets struct {
	Client        *kafka.Client
	Input, Output string
	Group         string
}

// Read returns the input's and output's end offsets summed over their
// partitions, and the group's lag on the input (end minus committed, a
// partition with no commit counting from its start).
func (o Offsets) Read(ctx context.Context) (in, out, lag int64, err error) {
	parts, err := o.partitions(ctx, o.Input, o.Output)
	if err != nil {
		return 0, 0, 0, err
	}
	req := &kafka.ListOffsetsRequest{Topics: map[string][]kafka.OffsetRequest{}}
	for topic, ps := range parts {
		for _, p := range ps {
			req.Topics[topic] = append(req.Topics[topic], kafka.FirstOffsetOf(p), kafka.LastOffsetOf(p))
		}
	}
	res, err := o.Client.ListOffsets(ctx, req)
	if err != nil {
		return 0, 0, 0, fmt.Errorf("listing offsets: %w", err)
	}
	first, last := map[int]int64{}, map[int]int64{}
	for topic, ps := range res.Topics {
		for _, p := range ps {
			if p.Error != nil {
				return 0, 0, 0, fmt.Errorf("offsets of %s/%d: %w", topic, p.Partition, p.Error)
			}
			if topic == o.Input {
				in += p.LastOffset
				first[p.Partition], last[p.Partition] = p.FirstOffset, p.LastOffset
			} else {
				out += p.LastOffset
			}
		}
	}
	committed, err := o.Client.OffsetFetch(ctx, &kafka.OffsetFetchRequest{GroupID: o.Group, Topics: map[string][]int{o.Input: parts[o.Input]}})
	if err != nil {
		return 0, 0, 0, fmt.Errorf("fetching %s's offsets: %w", o.Group, err)
	}
	at := map[int]int64{}
	for _, p := range committed.Topics[o.Input] {
		at[p.Partition] = p.CommittedOffset
	}
	for p, end := range last {
		// No commit yet (or one before the log's start, after retention)
		// counts from the start of the log, as the group would read it.
		lag += end - max(at[p], first[p])
	}
	return in, out, lag, nil
}

// partitions returns the partition ids of each topic.
func (o Offsets) partitions(ctx context.Context, topics ...string) (map[string][]int, error) {
	md, err := o.Client.Metadata(ctx, &kafka.MetadataRequest{Topics: topics})
	if err != nil {
		return nil, fmt.Errorf("reading metadata: %w", err)
	}
	out := map[string][]int{}
	for _, t := range md.Topics {
		if t.Error != nil {
			return nil, fmt.Errorf("topic %s: %w", t.Name, t.Error)
		}
		for _, p := range t.Partitions {
			out[t.Name] = append(out[t.Name], p.ID)
		}
	}
	return out, nil
}
