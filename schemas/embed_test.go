package schemas

import (
	"testing"

	"github.com/linkedin/goavro/v2"
)

func TestEmbeddedSchemas(t *testing.T) {
	tests := []struct {
		name, text, fullName string
		fields               int
	}{
		{"transaction", TransactionSchema(), "sluice.demo.CardTransaction", 26},
		{"prediction", PredictionSchema(), "sluice.Prediction", 16},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := goavro.NewCodec(tt.text); err != nil {
				t.Fatalf("goavro: %v", err)
			}
			n, err := parseSchema(tt.text)
			if err != nil {
				t.Fatal(err)
			}
			if n.kind != kRecord || n.name != tt.fullName || len(n.fields) != tt.fields {
				t.Fatalf("got %s with %d fields", n.name, len(n.fields))
			}
		})
	}
}

func TestSubject(t *testing.T) {
	if got := Subject("features"); got != "features-value" {
		t.Fatalf("Subject = %q", got)
	}
}
