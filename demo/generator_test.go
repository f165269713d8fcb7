package demo

import (
	"math"
	"os"
	"reflect"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/linkedin/goavro/v2"
)

func TestDeterministic(t *testing.T) {
	a, b := NewGenerator(42), NewGenerator(42)
	c := NewGenerator(43)
	same := true
	for range 200 {
		ra, la := a.NextLabelled()
		rb, lb := b.NextLabelled()
		if !reflect.DeepEqual(ra, rb) || la != lb {
			t.Fatalf("same seed, different events:\n%v\n%v", ra, rb)
		}
		if !reflect.DeepEqual(ra, c.Next()) {
			same = false
		}
	}
	if same {
		t.Fatal("seeds 42 and 43 gave the same stream")
	}
}

func TestEncodesWithSchema(t *testing.T) {
	schema, err := os.ReadFile("../schemas/avro/transaction.avsc")
	if err != nil {
		t.Fatal(err)
	}
	codec, err := goavro.NewCodec(string(schema))
	if err != nil {
		t.Fatal(err)
	}
	g := NewGenerator(1)
	for i := range 2000 {
		rec := g.Next()
		bin, err := codec.BinaryFromNative(nil, rec)
		if err != nil {
			t.Fatalf("event %d: %v\n%v", i, err, rec)
		}
		back, _, err := codec.NativeFromBinary(bin)
		if err != nil {
			t.Fatalf("event %d: decoding: %v", i, err)
		}
		got := back.(map[string]any)
		if got[FieldEventID] != rec[FieldEventID] || got["amount"] != rec["amount"] {
			t.Fatalf("event %d: round trip changed it: %v", i, got)
		}
		if !got[FieldEventTime].(time.Time).Equal(rec[FieldEventTime].(time.Time)) {
			t.Fatalf("event %d: event_time %v, want %v", i, got[FieldEventTime], rec[FieldEventTime])
		}
	}
}

func TestFields(t *testing.T) {
	uuid := regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$`)
	start := time.Date(2025, 6, 1, 12, 0, 0, 0, time.UTC)
	g := NewGenerator(3, WithCards(50), WithStart(start))
	ids := map[string]bool{}
	cards := map[string]bool{}
	prev := start
	for i := range 5000 {
		rec := g.Next()
		if len(rec) != 26 {
			t.Fatalf("event %d has %d fields, want 26", i, len(rec))
		}
		id := rec[FieldEventID].(string)
		if !uuid.MatchString(id) || ids[id] {
			t.Fatalf("event %d: bad or repeated event id %q", i, id)
		}
		ids[id] = true
		card := rec[FieldEntityID].(string)
		if !strings.HasPrefix(card, "card-0000") {
			t.Fatalf("event %d: entity id %q outside a pool of 50", i, card)
		}
		cards[card] = true
		ts := rec[FieldEventTime].(time.Time)
		if ts.Before(prev) || ts.Location() != time.UTC || ts.Nanosecond()%int(time.Millisecond) != 0 {
			t.Fatalf("event %d: event_time %v after %v", i, ts, prev)
		}
		prev = ts
		for _, f := range numericFields {
			v, ok := rec[f].(float64)
			if !ok || math.IsNaN(v) || math.IsInf(v, 0) || v < -20 {
				t.Fatalf("event %d: %s = %#v", i, f, rec[f])
			}
		}
		if h := rec["hour_of_day"].(float64); h < 0 || h > 23 || h != math.Trunc(h) {
			t.Fatalf("event %d: hour_of_day %v", i, h)
		}
		for _, f := range []string{"merchant_risk", "ip_risk_score", "device_trust", "velocity_score", "mcc_risk"} {
			if v := rec[f].(float64); v < 0 || v > 1 {
				t.Fatalf("event %d: %s = %v outside [0, 1]", i, f, v)
			}
		}
		switch inc := rec[FieldCustomerIncome].(type) {
		case nil:
		case map[string]any:
			if v, ok := inc["double"].(float64); !ok || v <= 0 {
				t.Fatalf("event %d: customer_income %v", i, inc)
			}
		default:
			t.Fatalf("event %d: customer_income %T", i, inc)
		}
	}
	if len(cards) != 50 {
		t.Errorf("used %d cards of 50", len(cards))
	}
	if span := prev.Sub(start); span < 400*time.Second || span > 600*time.Second {
		t.Errorf("5000 events span %v, want about 500s", span)
	}
}

func TestClock(t *testing.T) {
	now := time.Date(2026, 3, 4, 5, 6, 7, 891234567, time.FixedZone("x", 3600))
	rec := NewGenerator(1, WithClock(func() time.Time { return now })).Next()
	want := now.UTC().Truncate(time.Millisecond)
	if got := rec[FieldEventTime].(time.Time); !got.Equal(want) || got.Location() != time.UTC {
		t.Fatalf("event_time %v, want %v", got, want)
	}
}
