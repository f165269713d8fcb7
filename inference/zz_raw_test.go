package inference

import (
	"testing"
)

func BenchmarkRawRun(b *testing.B) {
	g := fraudShaped()
	model := loadTest(b, g, SessionConfig{Provider: ProviderCPU, IntraOpThreads: 1}, nil)
	s := model.all[0]
	in, out, _ := s.tensors(1)
	s.inVals[0], s.outVals[0] = in, out
	for b.Loop() {
		if err := s.sess.Run(s.inVals, s.outVals); err != nil {
			b.Fatal(err)
		}
	}
}
