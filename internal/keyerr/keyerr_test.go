package keyerr

import (
	"errors"
	"io"
	"testing"
)

func TestUnderNamesTheDottedKey(t *testing.T) {
	var l List
	l.Check(true, "fine", "never")
	l.Check(false, "max_delay", "must not be negative, got %s", "-1s")
	l.Add("", New("dispatch", "%q is not idle or delay", "soon"))
	l.Add("", nil)
	batch := Under("batch", l.Err())
	var top List
	top.Add("pipeline", batch)
	top.Add("model", io.ErrUnexpectedEOF)
	top.Check(false, "log.level", "%q is not one of debug, info, warn, error", "loud")
	want := "pipeline.batch.max_delay: must not be negative, got -1s\n" +
		`pipeline.batch.dispatch: "soon" is not idle or delay` + "\n" +
		"model: unexpected EOF\n" +
		`log.level: "loud" is not one of debug, info, warn, error`
	err := top.Err()
	if err == nil || err.Error() != want {
		t.Fatalf("got\n%v\nwant\n%s", err, want)
	}
	if !errors.Is(err, io.ErrUnexpectedEOF) {
		t.Error("a wrapped error is no longer matched by errors.Is")
	}
	var e *Error
	if !errors.As(err, &e) || e.Key != "pipeline.batch.max_delay" {
		t.Errorf("errors.As finds %+v", e)
	}
	if Under("x", nil) != nil || (&List{}).Err() != nil {
		t.Error("no error became one")
	}
}

func TestWrapKeepsTheSentinel(t *testing.T) {
	sentinel := errors.New("consumers: invalid config")
	err := Under("kafka.consumer", Wrap(sentinel, "max_wait", "must be positive, got %s", "0s"))
	if err.Error() != "kafka.consumer.max_wait: must be positive, got 0s" || !errors.Is(err, sentinel) {
		t.Fatalf("%v (is the sentinel: %v)", err, errors.Is(err, sentinel))
	}
}
