package demo

import (
	"reflect"
	"slices"
	"testing"
)

// auc is the Mann-Whitney AUC of scores p against labels y.
func auc(p []float64, y []bool) float64 {
	idx := make([]int, len(p))
	for i := range idx {
		idx[i] = i
	}
	slices.SortFunc(idx, func(a, b int) int {
		switch {
		case p[a] < p[b]:
			return -1
		case p[a] > p[b]:
			return 1
		}
		return 0
	})
	var pos, rankSum float64
	for r, i := range idx {
		if y[i] {
			pos++
			rankSum += float64(r + 1)
		}
	}
	neg := float64(len(p)) - pos
	return (rankSum - pos*(pos+1)/2) / (pos * neg)
}

// Concept drift moves no feature: the same seed gives the same events with
// and without it, and the labels before After are the same too; after it,
// about as many events are fraud, and the first rule ranks them worse
// than chance while the second ranks them well.
func TestConceptDrift(t *testing.T) {
	const after, n = 1000, 60000
	plain := NewGenerator(9)
	drifted := NewGenerator(9, WithDrift(Drift{After: after, Concept: true}))
	var first, second []float64
	var labels []bool
	frauds := 0
	for i := range n {
		a, la := plain.NextLabelled()
		b, lb := drifted.NextLabelled()
		if !reflect.DeepEqual(a, b) {
			t.Fatalf("event %d differs: concept drift moved a feature", i)
		}
		if i < after {
			if la != lb {
				t.Fatalf("label %d differs before the drift", i)
			}
			continue
		}
		var x [numFeatures]float64
		for k, f := range numericFields {
			x[k] = b[f].(float64)
		}
		ch := channelIndex(b[FieldChannel].(string))
		present := b[FieldCardPresent].(bool)
		first = append(first, FraudProbability(b))
		second = append(second, sigmoid(conceptLogit(&x, ch, present)))
		labels = append(labels, lb)
		if lb {
			frauds++
		}
	}
	rate := float64(frauds) / float64(len(labels))
	old, fresh := auc(first, labels), auc(second, labels)
	t.Logf("after the drift: fraud rate %.4f, AUC of the first rule %.3f, of the second %.3f", rate, old, fresh)
	if rate < 0.025 || rate > 0.06 {
		t.Errorf("fraud rate %.4f, want about 0.04", rate)
	}
	if old > 0.55 || fresh < 0.84 {
		t.Errorf("AUC of the first rule %.3f (want < 0.55), of the second %.3f (want > 0.84)", old, fresh)
	}
}
