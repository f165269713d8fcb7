package demo

import "math"

// The generating rule's coefficients; see the package documentation.
const (
	ruleIntercept   = -8.35
	ruleMerchant    = 6.0
	ruleIP          = 7.0
	ruleDistance    = 0.8 // on ln(1 + distance_from_home_km)
	ruleFailed      = 1.2
	ruleAmountZ     = 0.9
	ruleWeb         = 1.0
	ruleCardAbsent  = 1.5
	ruleDeviceTrust = -3.0

	// labelNoise is the probability that a label is flipped.
	labelNoise = 0.004

	// conceptIntercept is the second rule's intercept, which keeps the
	// fraud rate near the first rule's.
	conceptIntercept = -5.6
)

// logit is z of the generating rule for the features of one event.
func logit(x *[numFeatures]float64, channel int, cardPresent bool) float64 {
	z := ruleIntercept +
		ruleMerchant*x[fMerchantRisk] +
		ruleIP*x[fIPRisk] +
		ruleDistance*math.Log1p(math.Max(0, x[fDistHome])) +
		ruleFailed*x[fFailedLogins] +
		ruleAmountZ*x[fAmountZ] +
		ruleDeviceTrust*x[fDeviceTrust]
	if channel == chWeb {
		z += ruleWeb
	}
	if !cardPresent {
		z += ruleCardAbsent
	}
	return z
}

// conceptLogit is z of the second generating rule (concept drift): the
// merchant and IP risk, web, card-absent and device-trust terms change
// sign, so fraud moves to trusted devices, low-risk merchants and
// card-present transactions; the other terms stay.
func conceptLogit(x *[numFeatures]float64, channel int, cardPresent bool) float64 {
	z := conceptIntercept -
		ruleMerchant*x[fMerchantRisk] -
		ruleIP*x[fIPRisk] +
		ruleDistance*math.Log1p(math.Max(0, x[fDistHome])) +
		ruleFailed*x[fFailedLogins] +
		ruleAmountZ*x[fAmountZ] -
		ruleDeviceTrust*x[fDeviceTrust]
	if channel == chWeb {
		z -= ruleWeb
	}
	if !cardPresent {
		z -= ruleCardAbsent
	}
	return z
}

// FraudProbability returns the generating rule's probability of fraud,
// sigmoid(z), for a record of the shape Next returns (before label noise).
// Fields that are missing or of the wrong type count as zero. It is safe for
// concurrent use.
func FraudProbability(rec map[string]any) float64 {
	var x [numFeatures]float64
	for i, f := range numericFields {
		x[i], _ = rec[f].(float64)
	}
	ch := -1
	if s, ok := rec[FieldChannel].(string); ok {
		for i, name := range channelNames {
			if s == name {
				ch = i
			}
		}
	}
	present, _ := rec[FieldCardPresent].(bool)
	return sigmoid(logit(&x, ch, present))
}
