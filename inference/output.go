package inference

// Result is how one event's output row reads.
type Result struct {
	// ClassIndex is the predicted class (argmax of the probabilities, the
	// first on ties), or -1 for a score output.
	ClassIndex int
	// Class is Output.Classes[ClassIndex], or "" for a score output.
	Class string
	// Score is the probability of the last (positive) class, or the score.
	Score float32
}

// ReadOutput reads one event's output row, row[:s.OutWidth()] of what
// Model.Infer returned. It panics if row is shorter than OutWidth. It does
// not allocate and is safe for concurrent use.
func (s *Signature) ReadOutput(row []float32) Result {
	if s.Output.Kind != OutputProbabilities {
		return Result{ClassIndex: -1, Score: row[0]}
	}
	n := len(s.Output.Classes)
	row = row[:n]
	best := 0
	for i := 1; i < n; i++ {
		if row[i] > row[best] {
			best = i
		}
	}
	return Result{ClassIndex: best, Class: s.Output.Classes[best], Score: row[n-1]}
}
