package retrain

import (
	"context"
	"errors"
	"fmt"
	"hash/fnv"

	"github.com/sluice-ml/sluice/inference"
	"github.com/sluice-ml/sluice/schemas"
)

// dataset is the buffered labelled records that a signature can read, in
// label-time order.
type dataset struct {
	X [][]float32
	y []int
	// at is the index in the snapshot of each row's record.
	at []int
	// Records dropped, by why.
	undecodable, unmapped, badLabel int
}

// buildDataset decodes each record's framed input and maps it to a row with
// sig; records that cannot be read are counted and dropped. Only a schema
// registry that cannot be reached is an error.
func buildDataset(ctx context.Context, dec *schemas.Decoder, sig *inference.Signature, recs []labelled) (*dataset, error) {
	w := sig.Width()
	flat := make([]float32, len(recs)*w)
	d := &dataset{X: make([][]float32, 0, len(recs)), y: make([]int, 0, len(recs)), at: make([]int, 0, len(recs))}
	for i, rec := range recs {
		class, err := rec.label.ClassIndex(sig.Output.Classes)
		if err != nil {
			d.badLabel++
			continue
		}
		ev, _, err := dec.Decode(ctx, rec.value)
		if errors.Is(err, schemas.ErrRegistryUnavailable) {
			return nil, fmt.Errorf("decoding kept events: %w", err)
		}
		if err != nil {
			d.undecodable++
			continue
		}
		n := len(d.X)
		row := flat[n*w : (n+1)*w : (n+1)*w]
		if err := sig.MapRow(ev, row); err != nil {
			d.unmapped++
			continue
		}
		d.X = append(d.X, row)
		d.y = append(d.y, class)
		d.at = append(d.at, i)
	}
	return d, nil
}

// dropped describes the records buildDataset dropped.
func (d *dataset) dropped() string {
	return fmt.Sprintf("%d undecodable, %d not readable by the signature, %d with a class the model does not have",
		d.undecodable, d.unmapped, d.badLabel)
}

// missingClass returns the first class with no row in y[from:to], or -1.
func missingClass(y []int, from, to, classes int) int {
	seen := make([]bool, classes)
	for _, c := range y[from:to] {
		seen[c] = true
	}
	for c, ok := range seen {
		if !ok {
			return c
		}
	}
	return -1
}

// seedOf derives a training seed from a request's event id, so a retried
// request trains the same weights.
func seedOf(eventID string) int64 {
	h := fnv.New64a()
	h.Write([]byte(eventID))
	return int64(h.Sum64() >> 1)
}
