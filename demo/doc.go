// Package demo generates synthetic card transactions for the demo fraud
// model, from a generating rule that is known and written down here, so that
// what a model learns from the stream can be checked against the truth.
//
// Each event is a goavro-native map for schemas/avro/transaction.avsc
// (record sluice.demo.CardTransaction), ready to encode. Cards come from a
// fixed pool; each card has stable attributes (typical amount, card and
// account age, income, known for about 85% of cards). The other features are
// drawn per event from realistic distributions: lognormal amounts and
// distances, diurnal hours, Poisson counts, risk scores in (0, 1), and a
// channel mix of web 30%, mobile 25%, pos 40%, atm 5% with card_present
// almost always true at pos and atm and almost always false online.
//
// The fraud label is Bernoulli(sigmoid(z)) with
//
//	z = -8.35 + 6.0·merchant_risk + 7.0·ip_risk_score
//	    + 0.8·ln(1 + distance_from_home_km) + 1.2·failed_logins_24h
//	    + 0.9·amount_zscore_30d + 1.0·[channel = web] + 1.5·[not card_present]
//	    - 3.0·device_trust
//
// and then flipped with probability 0.4% (label noise). About 3.8% of events
// are fraud; the rule itself ranks them with a ROC AUC of about 0.90.
// FraudProbability evaluates sigmoid(z) for a record.
//
// WithDrift shifts chosen numeric features by a number of reference standard
// deviations, and can change the channel mix, from a given event on. Labels
// of drifted events follow the same rule applied to the drifted features
// (covariate shift: P(fraud | features) does not change).
//
// A Drift with Concept set changes the rule instead, from a given event on,
// and moves no feature (concept drift): labels follow
//
//	z = -5.6 - 6.0·merchant_risk - 7.0·ip_risk_score
//	    + 0.8·ln(1 + distance_from_home_km) + 1.2·failed_logins_24h
//	    + 0.9·amount_zscore_30d - 1.0·[channel = web] - 1.5·[not card_present]
//	    + 3.0·device_trust
//
// about as many events are fraud (about 4%), the new rule ranks them with
// an AUC of about 0.88, and a model of the first rule ranks them with an
// AUC of about 0.45 (worse than chance).
package demo
