package demo

import (
	"math"
	"math/rand/v2"
)

// card is the stable part of a card's profile.
type card struct {
	id         string
	avgAmount  float64
	cardAge    float64
	accountAge float64
	income     float64 // NaN when unknown
}

// txn is one event before it becomes a map.
type txn struct {
	card        *card
	x           [numFeatures]float64
	cardPresent bool
	channel     int
}

// hourCDF is the cumulative diurnal distribution of hour_of_day: quiet at
// night, busy from late morning to evening.
var hourCDF = func() [24]float64 {
	w := [24]float64{
		1.0, 0.6, 0.4, 0.3, 0.3, 0.5, 1.2, 2.5, 3.8, 4.5, 5.0, 5.5,
		6.0, 5.8, 5.4, 5.2, 5.5, 6.0, 6.2, 5.6, 4.6, 3.6, 2.6, 1.6,
	}
	var cdf [24]float64
	sum := 0.0
	for _, v := range w {
		sum += v
	}
	acc := 0.0
	for i, v := range w {
		acc += v / sum
		cdf[i] = acc
	}
	cdf[23] = 1
	return cdf
}()

// mccLevels are the risk levels of merchant category codes and their shares.
var (
	mccRisk  = [...]float64{0.02, 0.05, 0.10, 0.25, 0.60}
	mccShare = [...]float64{0.35, 0.65, 0.85, 0.95, 1.00} // cumulative
)

func newCard(r *rand.Rand, id string) card {
	c := card{
		id:        id,
		avgAmount: round2(math.Exp(3.7 + 0.6*r.NormFloat64())),
		cardAge:   math.Round(1 + 700*r.ExpFloat64()),
		income:    math.NaN(),
	}
	c.accountAge = c.cardAge + math.Round(900*r.ExpFloat64())
	if r.Float64() >= 0.15 {
		c.income = math.Round(math.Exp(10.8+0.5*r.NormFloat64())/100) * 100
	}
	return c
}

// sample draws the per-event features of t for its card and channel.
func sample(r *rand.Rand, t *txn) {
	c := t.card
	online := t.channel == chWeb || t.channel == chMobile
	if online {
		t.cardPresent = r.Float64() < 0.02
	} else {
		t.cardPresent = r.Float64() < 0.97
	}
	x := &t.x

	amount := c.avgAmount * math.Exp(0.8*r.NormFloat64()-0.1)
	if t.channel == chATM {
		amount = math.Max(20, math.Round(amount/20)*20)
	} else {
		amount = math.Max(0.5, round2(amount))
	}
	x[fAmount] = amount
	x[fAmountZ] = (math.Log(amount) - math.Log(c.avgAmount)) / 0.8
	x[fHour] = float64(pick(hourCDF[:], r.Float64()))
	x[fDay] = float64(r.IntN(7))
	x[fMerchantRisk] = sigmoid(r.NormFloat64() - 1.6)
	if t.cardPresent {
		x[fDistHome] = round1(math.Exp(1.2 + 1.1*r.NormFloat64()))
	} else {
		x[fDistHome] = round1(math.Exp(2.0 + 1.5*r.NormFloat64()))
	}
	x[fDistLast] = round1(math.Exp(0.8 + 1.3*r.NormFloat64()))
	x[fSecondsSince] = math.Round(1 + 21600*r.ExpFloat64())
	n1 := poisson(r, expNeg0_3)
	n24 := n1 + poisson(r, expNeg2_5)
	x[fCount1h] = float64(n1)
	x[fCount24h] = float64(n24)
	x[fSum24h] = round2(amount + float64(n24)*c.avgAmount*math.Exp(0.3*r.NormFloat64()))
	x[fAvgAmount] = c.avgAmount
	x[fCardAge] = c.cardAge
	x[fAccountAge] = c.accountAge
	if online {
		x[fFailedLogins] = float64(poisson(r, expNeg0_25))
		x[fIPRisk] = sigmoid(1.2*r.NormFloat64() - 2.2)
	} else {
		x[fFailedLogins] = float64(poisson(r, expNeg0_05))
		x[fIPRisk] = sigmoid(0.5*r.NormFloat64() - 3.5)
	}
	x[fDeviceTrust] = sigmoid(1.2*r.NormFloat64() + 1.5)
	v := 1 - math.Exp(-(0.5*float64(n1) + 600/(x[fSecondsSince]+600)))
	x[fVelocity] = clamp01(v + 0.05*r.NormFloat64())
	x[fChargebacks] = float64(poisson(r, expNeg0_04))
	x[fMCCRisk] = mccRisk[pick(mccShare[:], r.Float64())]
}

// e^-λ for the Poisson rates used above.
var (
	expNeg0_3  = math.Exp(-0.3)
	expNeg2_5  = math.Exp(-2.5)
	expNeg0_25 = math.Exp(-0.25)
	expNeg0_05 = math.Exp(-0.05)
	expNeg0_04 = math.Exp(-0.04)
)

// poisson draws from Poisson(λ) given e^-λ (Knuth; fine for small λ).
func poisson(r *rand.Rand, expNegLambda float64) int {
	k := 0
	p := r.Float64()
	for p > expNegLambda {
		k++
		p *= r.Float64()
	}
	return k
}

// pick returns the first index whose cumulative share exceeds u.
func pick(cdf []float64, u float64) int {
	for i, c := range cdf {
		if u < c {
			return i
		}
	}
	return len(cdf) - 1
}

func sigmoid(z float64) float64 { return 1 / (1 + math.Exp(-z)) }

func clamp01(v float64) float64 { return math.Min(1, math.Max(0, v)) }

func round1(v float64) float64 { return math.Round(v*10) / 10 }

func round2(v float64) float64 { return math.Round(v*100) / 100 }
