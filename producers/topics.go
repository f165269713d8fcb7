package producers

import (
	"context"
	"fmt"
	"slices"
	"strconv"
	"time"

	"github.com/segmentio/kafka-go"
)

// topicInfo is what the writer knows of a topic: its partitions and the
// largest record batch it takes.
type topicInfo struct {
	partitions []int
	// limit is the smaller of BatchBytes and the topic's max.message.bytes
	// (which Kafka applies to a whole record batch), where the cluster
	// lets the writer read it.
	limit int64
	read  time.Time
}

// metadataTTL is how long a topic's partition count and size limit are used
// before they are read again (new partitions are picked up this late).
const metadataTTL = 30 * time.Second

// TooLargeError is Enqueue's error for a message larger than its topic
// takes. errors.Is(err, kafka.MessageSizeTooLarge) holds for it.
type TooLargeError struct {
	// Index is the message's position in the Enqueue call.
	Index int
	Topic string
	// Size is the message's MessageSize; Limit the most its topic takes.
	Size, Limit int64
}

func (e *TooLargeError) Error() string {
	return fmt.Sprintf("enqueueing: %v: message %d is %d bytes, %s takes at most %d", kafka.MessageSizeTooLarge, e.Index, e.Size, e.Topic, e.Limit)
}

// Unwrap lets errors.Is see kafka.MessageSizeTooLarge.
func (e *TooLargeError) Unwrap() error { return kafka.MessageSizeTooLarge }

// MessageLimit returns the largest MessageSize a message to topic may have:
// what fits a record batch under both the writer's BatchBytes and the
// topic's max.message.bytes. It reads the topic's metadata when it is not
// cached (an error if that fails). Safe for concurrent use.
func (w *AsyncWriter) MessageLimit(topic string) (int64, error) {
	ti, err := w.topic(topic)
	if err != nil {
		return 0, err
	}
	return ti.limit - batchOverhead, nil
}

// topic returns what the writer knows of topic, from the cache while it is
// fresh.
func (w *AsyncWriter) topic(topic string) (*topicInfo, error) {
	w.mu.Lock()
	ti := w.topics[topic]
	w.mu.Unlock()
	if ti != nil && time.Since(ti.read) < metadataTTL {
		return ti, nil
	}
	ctx, cancel := context.WithTimeout(context.Background(), w.cfg.WriteTimeout)
	defer cancel()
	fresh, err := w.readTopic(ctx, topic)
	if err != nil {
		if ti != nil { // stale but usable: the cluster is briefly unreachable
			return ti, nil
		}
		return nil, fmt.Errorf("reading metadata of topic %s: %w", topic, err)
	}
	w.mu.Lock()
	w.topics[topic] = fresh
	w.mu.Unlock()
	return fresh, nil
}

func (w *AsyncWriter) readTopic(ctx context.Context, topic string) (*topicInfo, error) {
	res, err := w.client.Metadata(ctx, &kafka.MetadataRequest{Topics: []string{topic}})
	if err != nil {
		return nil, err
	}
	err = kafka.UnknownTopicOrPartition
	var ti *topicInfo
	for _, t := range res.Topics {
		if t.Name != topic {
			continue
		}
		if err = t.Error; err == nil && len(t.Partitions) == 0 {
			err = kafka.UnknownTopicOrPartition
		}
		if err == nil {
			ids := make([]int, len(t.Partitions))
			for i, p := range t.Partitions {
				ids[i] = p.ID
			}
			slices.Sort(ids)
			ti = &topicInfo{partitions: ids, limit: w.cfg.BatchBytes, read: time.Now()}
		}
	}
	if err != nil {
		return nil, err
	}
	if max, ok := w.maxMessageBytes(ctx, topic); ok {
		ti.limit = min(ti.limit, max)
	}
	return ti, nil
}

// maxMessageBytes reads the topic's max.message.bytes; ok is false where
// the cluster does not say (no permission to describe configs, say).
func (w *AsyncWriter) maxMessageBytes(ctx context.Context, topic string) (int64, bool) {
	res, err := w.client.DescribeConfigs(ctx, &kafka.DescribeConfigsRequest{Resources: []kafka.DescribeConfigRequestResource{
		{ResourceType: kafka.ResourceTypeTopic, ResourceName: topic, ConfigNames: []string{"max.message.bytes"}}}})
	if err != nil {
		return 0, false
	}
	for _, r := range res.Resources {
		if r.Error != nil {
			return 0, false
		}
		for _, e := range r.ConfigEntries {
			if e.ConfigName != "max.message.bytes" {
				continue
			}
			if n, err := strconv.ParseInt(e.ConfigValue, 10, 64); err == nil && n > batchOverhead {
				return n, true
			}
		}
	}
	return 0, false
}
