package schemas

import (
	"bytes"
	"errors"
	"math/rand/v2"
	"strings"
	"testing"
	"time"

	"github.com/sluice-ml/sluice/dlq"
)

// richSchema has every kind of Avro type whose values take at least one
// byte, so goavro alone cannot be made to allocate much and the guard can be
// compared with it.
const richSchema = `{"type":"record","name":"Rich","namespace":"f","fields":[
	{"name":"tags","type":{"type":"array","items":"string"}},
	{"name":"counts","type":{"type":"map","values":"long"}},
	{"name":"parts","type":{"type":"array","items":{"type":"record","name":"Part","fields":[
		{"name":"id","type":"int"},{"name":"w","type":["null","double"]}]}}},
	{"name":"kind","type":{"type":"enum","name":"Kind","symbols":["A","B","C"]}},
	{"name":"hash","type":{"type":"fixed","name":"Hash","size":4}},
	{"name":"nested","type":{"type":"map","values":{"type":"array","items":"boolean"}}},
	{"name":"raw","type":"bytes"},
	{"name":"f","type":"float"}
]}`

func fuzzDecoder(t testing.TB) *Decoder {
	d := NewDecoder(nil, 1<<16)
	mustPreload(t, d, 1, TransactionSchema())
	mustPreload(t, d, 2, PredictionSchema())
	mustPreload(t, d, 3, richSchema)
	mustPreload(t, d, 4, `{"type":"record","name":"Z","fields":[{"name":"a","type":{"type":"array","items":{"type":"array","items":"null"}}},{"name":"l","type":["null","Z"]}]}`)
	mustPreload(t, d, 5, fastSchema)
	return d
}

const fuzzSchemas = 5

// FuzzDecode decodes arbitrary bodies with the demo schemas and with
// schemas built to stress the allocation guard. It must never panic, every
// failure must be a decode-class DecodeError, for schemas whose items all
// take bytes the guard must not reject what goavro alone reads, and where the
// schema has a fast decoder, it and the goavro path must both fail or both
// return the same map.
func FuzzDecode(f *testing.F) {
	// which%fuzzSchemas+1 is the schema id.
	seed := func(id int, body []byte) { f.Add(uint8(id-1), body) }
	seed(1, []byte{})
	seed(2, []byte{2, 'e', 2, 'c', 2, 'm', 2, 'v', 0x80, 0x80, 0x80, 0x80, 0x08})
	seed(3, []byte{2, 2, 'x', 0, 0, 0, 4, 0, 0, 0, 0, 0, 0, 0, 0})
	seed(3, []byte{1, 2, 'x', 0})
	seed(4, []byte{0x80, 0x80, 0x40, 0})
	seed(4, []byte{2, 0xfe, 0xff, 0x7f, 0, 0})
	seed(2, bytes.Join(predParts(), nil))
	fast := mustEntry(f, fastSchema)
	r := rand.New(rand.NewPCG(3, 4))
	for range 4 {
		body, err := fast.codec.BinaryFromNative(nil, randomValue(r, fast.root))
		if err != nil {
			f.Fatal(err)
		}
		seed(5, body)
	}
	d := fuzzDecoder(f)
	if rec, err := richSample(); err == nil {
		seed(3, rec)
	} else {
		f.Fatal(err)
	}
	enc := mustCodec(f, TransactionSchema())
	body, err := enc.BinaryFromNative(nil, map[string]any{
		"event_id": "e", "entity_id": "c", "event_time": int64(1), "card_present": false, "channel": "pos",
		"customer_income": map[string]any{"double": 1.0}, "amount": 1.0, "amount_zscore_30d": 1.0,
		"hour_of_day": 1.0, "day_of_week": 1.0, "merchant_risk": 1.0, "distance_from_home_km": 1.0,
		"distance_from_last_km": 1.0, "seconds_since_last_txn": 1.0, "txn_count_1h": 1.0,
		"txn_count_24h": 1.0, "amount_sum_24h": 1.0, "avg_amount_30d": 1.0, "card_age_days": 1.0,
		"account_age_days": 1.0, "failed_logins_24h": 1.0, "ip_risk_score": 1.0, "device_trust": 1.0,
		"velocity_score": 1.0, "chargebacks_180d": 1.0, "mcc_risk": 1.0,
	})
	if err != nil {
		f.Fatal(err)
	}
	seed(1, body)

	f.Fuzz(func(t *testing.T, which uint8, body []byte) {
		id := int32(which%fuzzSchemas) + 1
		start := time.Now()
		rec, gotID, err := d.Decode(t.Context(), AppendFrame(nil, id, body))
		if el := time.Since(start); el > 2*time.Second {
			t.Fatalf("decode took %v", el)
		}
		if err != nil {
			var de *DecodeError
			if !errors.As(err, &de) || (de.Class != dlq.Decode && de.Class != dlq.TooLarge) {
				t.Fatalf("error %v is not a decode-class DecodeError", err)
			}
		} else if gotID != id {
			t.Fatalf("id %d, want %d", gotID, id)
		}
		// DecodeFields must read exactly what Decode reads.
		fields, _, ferr := d.DecodeFields(t.Context(), AppendFrame(nil, id, body))
		switch {
		case (err == nil) != (ferr == nil):
			t.Fatalf("Decode error %v, DecodeFields error %v", err, ferr)
		case err == nil && !sameDecoded(fields.Map(), rec):
			t.Fatalf("DecodeFields\n%#v\nDecode\n%#v", fields.Map(), rec)
		}
		e, _ := d.codecs.Load(id)
		ce := e.(*codecEntry)
		if ce.fast != nil {
			want, werr := ce.decodeGoavro(body)
			switch {
			case (err == nil) != (werr == nil):
				t.Fatalf("fast path error %v, goavro path error %v", err, werr)
			case err == nil && !sameDecoded(rec, want):
				t.Fatalf("fast path\n%#v\ngoavro path\n%#v", rec, want)
			}
		}
		if id == 2 || id == 3 {
			start = time.Now()
			_, rest, gerr := ce.codec.NativeFromBinary(body)
			if el := time.Since(start); el > 2*time.Second {
				t.Fatalf("goavro alone took %v", el)
			}
			// goavro reads varints of any length; Avro's are at most 10
			// bytes, and the guard rightly rejects longer ones.
			if gerr == nil && len(rest) == 0 {
				if err := guardBody(ce.root, body); err != nil && !strings.Contains(err.Error(), "varint longer than 10 bytes") {
					t.Fatalf("guard rejects a body goavro reads: %v", err)
				}
			}
		}
	})
}
