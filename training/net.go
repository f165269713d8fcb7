package training

import (
	"math"
	"math/rand/v2"
)

// layer is one float64 training layer: W is out × in, row-major.
type layer struct {
	in, out  int
	relu     bool
	w, b     []float64
	gw, gb   []float64 // gradient sums over the batch
	mw, vw   []float64 // Adam moments
	mb, vb   []float64
	z, a, dz []float64 // per-sample scratch
}

func newLayer(r *rand.Rand, in, out int, relu bool) *layer {
	l := &layer{in: in, out: out, relu: relu}
	l.w, l.gw, l.mw, l.vw = make([]float64, in*out), make([]float64, in*out), make([]float64, in*out), make([]float64, in*out)
	l.b, l.gb, l.mb, l.vb = make([]float64, out), make([]float64, out), make([]float64, out), make([]float64, out)
	l.z, l.a, l.dz = make([]float64, out), make([]float64, out), make([]float64, out)
	scale := math.Sqrt(1 / float64(in)) // Glorot-like for the output layer
	if relu {
		scale = math.Sqrt(2 / float64(in)) // He for relu layers
	}
	for i := range l.w {
		l.w[i] = scale * r.NormFloat64()
	}
	return l
}

// net is a softmax classifier being trained. It is not safe for
// concurrent use.
type net struct {
	layers []*layer
	din    []float64 // gradient with respect to a layer's input
	step   int
}

func newNet(r *rand.Rand, in int, hidden []int, classes int) *net {
	n := &net{}
	for _, h := range hidden {
		n.layers = append(n.layers, newLayer(r, in, h, true))
		in = h
	}
	n.layers = append(n.layers, newLayer(r, in, classes, false))
	widest := 0
	for _, l := range n.layers {
		widest = max(widest, l.in)
	}
	n.din = make([]float64, widest)
	return n
}

// forward leaves class probabilities in the last layer's a and returns them.
func (n *net) forward(x []float64) []float64 {
	for _, l := range n.layers {
		for j := range l.out {
			s := l.b[j]
			row := l.w[j*l.in : (j+1)*l.in]
			for k, w := range row {
				s += w * x[k]
			}
			l.z[j] = s
			if l.relu && s < 0 {
				s = 0
			}
			l.a[j] = s
		}
		x = l.a
	}
	out := n.layers[len(n.layers)-1].a
	hi := out[0]
	for _, v := range out[1:] {
		hi = max(hi, v)
	}
	sum := 0.0
	for i, v := range out {
		out[i] = math.Exp(v - hi)
		sum += out[i]
	}
	for i := range out {
		out[i] /= sum
	}
	return out
}

// backward adds the cross-entropy gradient of one sample (after forward on
// x) to the layers' gradient sums.
func (n *net) backward(x []float64, label int) {
	last := n.layers[len(n.layers)-1]
	copy(last.dz, last.a)
	last.dz[label]--
	for li := len(n.layers) - 1; li >= 0; li-- {
		l := n.layers[li]
		in := x
		if li > 0 {
			in = n.layers[li-1].a
		}
		din := n.din[:l.in]
		clear(din)
		for j, d := range l.dz {
			if d == 0 {
				continue
			}
			l.gb[j] += d
			row := l.w[j*l.in : (j+1)*l.in]
			grow := l.gw[j*l.in : (j+1)*l.in]
			for k := range row {
				grow[k] += d * in[k]
				din[k] += d * row[k]
			}
		}
		if li > 0 {
			prev := n.layers[li-1]
			for k, d := range din {
				if prev.relu && prev.z[k] <= 0 {
					d = 0
				}
				prev.dz[k] = d
			}
		}
	}
}

const (
	adamBeta1 = 0.9
	adamBeta2 = 0.999
	adamEps   = 1e-8
)

// update takes one Adam step with the mean of the gradient sums over batch
// samples, then clears them.
func (n *net) update(batch int, lr, l2 float64) {
	n.step++
	c1 := 1 - math.Pow(adamBeta1, float64(n.step))
	c2 := 1 - math.Pow(adamBeta2, float64(n.step))
	inv := 1 / float64(batch)
	for _, l := range n.layers {
		adam(l.w, l.gw, l.mw, l.vw, inv, l2, lr, c1, c2)
		adam(l.b, l.gb, l.mb, l.vb, inv, 0, lr, c1, c2)
	}
}

func adam(p, g, m, v []float64, inv, l2, lr, c1, c2 float64) {
	for i := range p {
		gi := g[i]*inv + l2*p[i]
		m[i] = adamBeta1*m[i] + (1-adamBeta1)*gi
		v[i] = adamBeta2*v[i] + (1-adamBeta2)*gi*gi
		p[i] -= lr * (m[i] / c1) / (math.Sqrt(v[i]/c2) + adamEps)
		g[i] = 0
	}
}
