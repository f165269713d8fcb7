package training

import (
	"fmt"
	"math"
	"math/rand/v2"
	"time"
)

// TrainReport describes a trained model. The metrics are measured on the
// holdout split with the exported float32 model on raw features.
type TrainReport struct {
	TrainRows   int
	HoldoutRows int
	// Accuracy is the share of holdout rows whose most probable class is
	// their label.
	Accuracy float64
	// LogLoss is the mean negative log-probability of the true class.
	LogLoss float64
	// AUC is the ROC AUC of class 1 for two classes, the mean one-vs-rest
	// AUC for more; NaN when a class is missing from the holdout split.
	AUC float64
	// Mean and Std are the per-feature standardisation taken from the
	// training split and folded into the first layer.
	Mean, Std []float64
	Epochs    int
	Duration  time.Duration
}

// Train fits a softmax classifier to rows X with labels y (0 ≤ y < classes)
// by mini-batch Adam on standardised features, holding out cfg.Holdout of
// the rows (chosen by the seed) to report on. The returned model takes raw
// features: the standardisation is folded into its first layer. Training is
// single-threaded and deterministic for a given seed. Train does not keep
// or change X and y, and is safe to call concurrently.
func Train(X [][]float32, y []int, cfg TrainConfig) (*MLP, TrainReport, error) {
	start := time.Now()
	if err := cfg.Validate(); err != nil {
		return nil, TrainReport{}, err
	}
	cfg = cfg.withDefaults()
	classes, err := checkData(X, y, cfg.Classes)
	if err != nil {
		return nil, TrainReport{}, err
	}
	width := len(X[0])
	r := rand.New(rand.NewPCG(uint64(cfg.Seed), 0x7472616e))
	order := r.Perm(len(X))
	nHold := int(math.Round(cfg.Holdout * float64(len(X))))
	nTrain := len(X) - nHold
	if nHold < 1 || nTrain < 1 {
		return nil, TrainReport{}, fmt.Errorf("retrain: %d rows leave an empty split at holdout %v", len(X), cfg.Holdout)
	}
	trainIdx, holdIdx := order[:nTrain], order[nTrain:]

	mean, std := standardisation(X, trainIdx, width)
	xs := make([]float64, nTrain*width)
	labels := make([]int, nTrain)
	for i, idx := range trainIdx {
		row := xs[i*width : (i+1)*width]
		for k, v := range X[idx] {
			row[k] = (float64(v) - mean[k]) / std[k]
		}
		labels[i] = y[idx]
	}

	n := newNet(r, width, cfg.Hidden, classes)
	perm := make([]int, nTrain)
	for i := range perm {
		perm[i] = i
	}
	perEpoch := (nTrain + cfg.BatchSize - 1) / cfg.BatchSize
	if cfg.MinSteps > 0 {
		cfg.Epochs = max(cfg.Epochs, min(50, (cfg.MinSteps+perEpoch-1)/perEpoch))
	}
	steps := cfg.Epochs * perEpoch
	step := 0
	for range cfg.Epochs {
		r.Shuffle(nTrain, func(i, j int) { perm[i], perm[j] = perm[j], perm[i] })
		for b := 0; b < nTrain; b += cfg.BatchSize {
			batch := perm[b:min(b+cfg.BatchSize, nTrain)]
			for _, i := range batch {
				x := xs[i*width : (i+1)*width]
				n.forward(x)
				n.backward(x, labels[i])
			}
			lr := cfg.LearningRate * (1 - 0.9*float64(step)/float64(steps))
			n.update(len(batch), lr, cfg.L2)
			step++
		}
	}

	m := export(n, mean, std)
	rep := evaluate(m, X, y, holdIdx, classes)
	rep.TrainRows, rep.HoldoutRows = nTrain, nHold
	rep.Mean, rep.Std = mean, std
	rep.Epochs = cfg.Epochs
	rep.Duration = time.Since(start)
	return m, rep, nil
}
