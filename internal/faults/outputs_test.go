package faults

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/segmentio/kafka-go"

	"github.com/sluice-ml/sluice/consumers"
	"github.com/sluice-ml/sluice/schemas"
)

// outputs reads the prediction and dead-letter topics from the start, one
// partition at a time with plain fetch requests (no consumer group), and
// counts outputs by event id. Safe for concurrent use.
type outputs struct {
	topics []string // the prediction topic, then the dead-letter topic
	client *kafka.Client
	tr     *kafka.Transport
	dec    *schemas.Decoder

	mu       sync.Mutex
	next     map[string]map[int]int64 // topic → partition → next offset
	seen     map[string]int           // event id → outputs
	preds    int
	dlqs     int
	dlqClass map[string]string // event id → error class of its dead letter
	headers  map[string]consumers.DeadLetterInfo
	bySHA    map[string]string // SHA-256 of a value → its event id, for dead letters that carry a prefix
}

func newOutputs(t *testing.T, addr string, client *schemas.Client) *outputs {
	tr := &kafka.Transport{}
	t.Cleanup(tr.CloseIdleConnections)
	return &outputs{
		topics:   []string{outputTopic, dlqTopic},
		client:   &kafka.Client{Addr: kafka.TCP(addr), Timeout: 10 * time.Second, Transport: tr},
		tr:       tr,
		dec:      schemas.NewDecoder(client, 1<<20),
		next:     map[string]map[int]int64{},
		seen:     map[string]int{},
		dlqClass: map[string]string{},
		headers:  map[string]consumers.DeadLetterInfo{},
		bySHA:    map[string]string{},
	}
}

// expectPrefix says that the value whose SHA-256 is sha belongs to event
// id: its dead letter may carry only a prefix of it.
func (o *outputs) expectPrefix(sha, id string) {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.bySHA[sha] = id
}

// poll reads whatever was appended to both topics since the last poll.
func (o *outputs) poll(ctx context.Context) error {
	for _, topic := range o.topics {
		if err := o.pollTopic(ctx, topic); err != nil {
			return err
		}
	}
	return nil
}

func (o *outputs) pollTopic(ctx context.Context, topic string) error {
	meta, err := o.client.Metadata(ctx, &kafka.MetadataRequest{Topics: []string{topic}})
	if err != nil {
		return fmt.Errorf("metadata of %s: %w", topic, err)
	}
	if len(meta.Topics) != 1 || meta.Topics[0].Error != nil {
		return fmt.Errorf("metadata of %s: %v", topic, meta.Topics)
	}
	for _, p := range meta.Topics[0].Partitions {
		if err := o.pollPartition(ctx, topic, p.ID); err != nil {
			return err
		}
	}
	return nil
}

func (o *outputs) pollPartition(ctx context.Context, topic string, partition int) error {
	for {
		o.mu.Lock()
		if o.next[topic] == nil {
			o.next[topic] = map[int]int64{}
		}
		off := o.next[topic][partition]
		o.mu.Unlock()
		resp, err := o.client.Fetch(ctx, &kafka.FetchRequest{Topic: topic, Partition: partition, Offset: off,
			MinBytes: 1, MaxBytes: 8 << 20, MaxWait: 10 * time.Millisecond})
		if err != nil {
			return fmt.Errorf("fetching %s/%d at %d: %w", topic, partition, off, err)
		}
		if resp.Error != nil {
			return fmt.Errorf("fetching %s/%d at %d: %w", topic, partition, off, resp.Error)
		}
		read := 0
		for {
			rec, err := resp.Records.ReadRecord()
			if errors.Is(err, io.EOF) {
				break
			}
			if err != nil {
				return fmt.Errorf("reading %s/%d: %w", topic, partition, err)
			}
			if rec.Offset < off {
				continue
			}
			value, err := readBytes(rec.Value)
			if err != nil {
				return err
			}
			var headers []kafka.Header
			for _, h := range rec.Headers {
				headers = append(headers, kafka.Header{Key: h.Key, Value: h.Value})
			}
			if err := o.record(ctx, topic, partition, rec.Offset, value, headers); err != nil {
				return err
			}
			off = rec.Offset + 1
			read++
		}
		o.mu.Lock()
		o.next[topic][partition] = off
		o.mu.Unlock()
		if read == 0 || off >= resp.HighWatermark {
			return nil
		}
	}
}

func readBytes(b interface {
	io.Reader
	Len() int
}) ([]byte, error) {
	if b == nil {
		return nil, nil
	}
	out := make([]byte, b.Len())
	_, err := io.ReadFull(b, out)
	return out, err
}

// record counts one output. A prediction names its event id; a dead letter
// carries the original bytes, decoded here to find it.
func (o *outputs) record(ctx context.Context, topic string, partition int, offset int64, value []byte, headers []kafka.Header) error {
	rec, _, err := o.dec.Decode(ctx, value)
	id, _ := rec["event_id"].(string)
	o.mu.Lock()
	defer o.mu.Unlock()
	if topic == o.topics[0] { // the predictions
		if err != nil {
			return fmt.Errorf("decoding prediction %s/%d@%d: %w", topic, partition, offset, err)
		}
		o.preds++
		o.seen[id]++
		return nil
	}
	o.dlqs++
	info, perr := consumers.ParseDeadLetter(kafka.Message{Topic: topic, Value: value, Headers: headers})
	if byPrefix, ok := o.bySHA[info.OriginalSHA256]; ok && perr == nil && info.OriginalSize >= 0 {
		id, err = byPrefix, nil
	}
	if err != nil || id == "" {
		id = fmt.Sprintf("undecodable-dlq-%d-%d", partition, offset)
	}
	if perr == nil {
		o.dlqClass[id] = string(info.Class)
		o.headers[id] = info
	}
	o.seen[id]++
	return nil
}

// class returns the error class of id's dead letter, "" if it has none.
func (o *outputs) class(id string) string {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.dlqClass[id]
}

// info returns the dead-letter headers of id.
func (o *outputs) info(id string) consumers.DeadLetterInfo {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.headers[id]
}

// waitAll polls until every id in l has an output, or fails the test at
// the deadline with the figures so far.
func (o *outputs) waitAll(t *testing.T, l *ledger, timeout time.Duration) figures {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		err := o.poll(ctx)
		cancel()
		if err == nil {
			f := l.count(o)
			if f.Lost == 0 {
				return f
			}
			if time.Now().After(deadline) {
				t.Fatalf("after %s: %s; first lost ids %s", timeout, f, strings.Join(f.LostIDs, " "))
			}
		} else if time.Now().After(deadline) {
			t.Fatalf("reading outputs: %v", err)
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// settle polls once more after every worker stopped, so that duplicates
// written late are counted, and returns the final figures.
func (o *outputs) settle(t *testing.T, l *ledger) figures {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := o.poll(ctx); err != nil {
		t.Fatalf("reading outputs: %v", err)
	}
	return l.count(o)
}

// ends returns the end offset (high watermark) of each partition of topic.
func (o *outputs) ends(ctx context.Context, topic string) (map[int32]int64, error) {
	meta, err := o.client.Metadata(ctx, &kafka.MetadataRequest{Topics: []string{topic}})
	if err != nil {
		return nil, err
	}
	if len(meta.Topics) != 1 || meta.Topics[0].Error != nil {
		return nil, fmt.Errorf("metadata of %s: %v", topic, meta.Topics)
	}
	var reqs []kafka.OffsetRequest
	for _, p := range meta.Topics[0].Partitions {
		reqs = append(reqs, kafka.LastOffsetOf(p.ID))
	}
	resp, err := o.client.ListOffsets(ctx, &kafka.ListOffsetsRequest{Topics: map[string][]kafka.OffsetRequest{topic: reqs}})
	if err != nil {
		return nil, err
	}
	out := map[int32]int64{}
	for _, po := range resp.Topics[topic] {
		if po.Error != nil {
			return nil, po.Error
		}
		out[int32(po.Partition)] = po.LastOffset
	}
	return out, nil
}

// waitCommitted waits until group's committed offsets reach the end of
// every partition of the input topic: nothing is left to redeliver.
func (o *outputs) waitCommitted(t *testing.T, e *env, group string, timeout time.Duration) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		ends, err := o.ends(ctx, inputTopic)
		cancel()
		c := e.committed(group)
		caught := err == nil && len(ends) > 0
		for p, end := range ends {
			if end > 0 && c[p] != end {
				caught = false
			}
		}
		if caught {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("group %s committed %v, input ends at %v (err %v) after %s", group, c, ends, err, timeout)
		}
		time.Sleep(50 * time.Millisecond)
	}
}
