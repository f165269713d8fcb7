package schemas

import "embed"

//go:embed avro/*.avsc
var avroFiles embed.FS

func mustRead(name string) string {
	b, err := avroFiles.ReadFile(name)
	if err != nil {
		panic("schemas: embedded file missing: " + name)
	}
	return string(b)
}

var (
	transactionSchema = mustRead("avro/transaction.avsc")
	predictionSchema  = mustRead("avro/prediction.avsc")
)

// TransactionSchema returns the JSON text of the demo input record,
// sluice.demo.CardTransaction. It is safe for concurrent use.
func TransactionSchema() string { return transactionSchema }

// PredictionSchema returns the JSON text of the sluice.Prediction record that
// workers write to the predictions topic. It is safe for concurrent use.
func PredictionSchema() string { return predictionSchema }

// Subject returns the registry subject of a topic's record values under
// Confluent's TopicNameStrategy: topic + "-value". It is safe for concurrent
// use.
func Subject(topic string) string { return topic + "-value" }
