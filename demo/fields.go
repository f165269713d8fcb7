package demo

// Field names of transaction.avsc that the generator writes.
const (
	FieldEventID        = "event_id"
	FieldEntityID       = "entity_id"
	FieldEventTime      = "event_time"
	FieldCardPresent    = "card_present"
	FieldChannel        = "channel"
	FieldCustomerIncome = "customer_income"
)

// Indexes of the numeric features, in schema order.
const (
	fAmount = iota
	fAmountZ
	fHour
	fDay
	fMerchantRisk
	fDistHome
	fDistLast
	fSecondsSince
	fCount1h
	fCount24h
	fSum24h
	fAvgAmount
	fCardAge
	fAccountAge
	fFailedLogins
	fIPRisk
	fDeviceTrust
	fVelocity
	fChargebacks
	fMCCRisk
	numFeatures
)

var numericFields = [numFeatures]string{
	"amount",
	"amount_zscore_30d",
	"hour_of_day",
	"day_of_week",
	"merchant_risk",
	"distance_from_home_km",
	"distance_from_last_km",
	"seconds_since_last_txn",
	"txn_count_1h",
	"txn_count_24h",
	"amount_sum_24h",
	"avg_amount_30d",
	"card_age_days",
	"account_age_days",
	"failed_logins_24h",
	"ip_risk_score",
	"device_trust",
	"velocity_score",
	"chargebacks_180d",
	"mcc_risk",
}

// Channel values, in the order the demo model one-hot encodes them.
const (
	chWeb = iota
	chMobile
	chPOS
	chATM
	numChannels
)

var channelNames = [numChannels]string{"web", "mobile", "pos", "atm"}

// defaultMix is the channel mix without drift: web, mobile, pos, atm.
var defaultMix = [numChannels]float64{0.30, 0.25, 0.40, 0.05}

// NumericFeatures returns the names of the 20 double features of
// transaction.avsc in schema order. It returns a new slice on every call and
// is safe for concurrent use.
func NumericFeatures() []string {
	out := make([]string, numFeatures)
	copy(out, numericFields[:])
	return out
}

// Channels returns the channel values the generator writes, in the order
// web, mobile, pos, atm. It returns a new slice on every call and is safe for
// concurrent use.
func Channels() []string {
	out := make([]string, numChannels)
	copy(out, channelNames[:])
	return out
}

func featureIndex(name string) (int, bool) {
	for i, f := range numericFields {
		if f == name {
			return i, true
		}
	}
	return -1, false
}
