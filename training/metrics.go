package training

import (
	"math"
	"slices"
)

// evaluate measures m on the rows idx of X.
func evaluate(m *MLP, X [][]float32, y []int, idx []int, classes int) TrainReport {
	var rep TrainReport
	probs := make([][]float32, len(idx))
	labels := make([]int, len(idx))
	correct := 0
	for i, r := range idx {
		p := m.Forward(X[r])
		probs[i], labels[i] = p, y[r]
		best := 0
		for c := range p {
			if p[c] > p[best] {
				best = c
			}
		}
		if best == y[r] {
			correct++
		}
		rep.LogLoss -= math.Log(max(float64(p[y[r]]), 1e-15))
	}
	rep.Accuracy = float64(correct) / float64(len(idx))
	rep.LogLoss /= float64(len(idx))
	if classes == 2 {
		rep.AUC = ROCAUC(probs, labels, 1)
	} else {
		for c := range classes {
			rep.AUC += ROCAUC(probs, labels, c) / float64(classes)
		}
	}
	return rep
}

// ROCAUC is the area under the ROC curve of class c: the probability that a random row of class c scores higher on c
// than a random row of another class, counting ties as one half (the
// Mann-Whitney statistic). It is NaN when either group is empty.
func ROCAUC(probs [][]float32, labels []int, c int) float64 {
	order := make([]int, len(probs))
	for i := range order {
		order[i] = i
	}
	slices.SortFunc(order, func(a, b int) int {
		switch pa, pb := probs[a][c], probs[b][c]; {
		case pa < pb:
			return -1
		case pa > pb:
			return 1
		}
		return 0
	})
	var pos, rankSum float64
	for i := 0; i < len(order); {
		j := i
		for j < len(order) && probs[order[j]][c] == probs[order[i]][c] {
			j++
		}
		mid := float64(i+j+1) / 2 // mean 1-based rank of the tie group
		for _, o := range order[i:j] {
			if labels[o] == c {
				pos++
				rankSum += mid
			}
		}
		i = j
	}
	neg := float64(len(order)) - pos
	if pos == 0 || neg == 0 {
		return math.NaN()
	}
	return (rankSum - pos*(pos+1)/2) / (pos * neg)
}
