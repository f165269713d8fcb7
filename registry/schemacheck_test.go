package registry_test

import (
	"errors"
	"testing"

	"github.com/sluice-ml/sluice/inference"
	"github.com/sluice-ml/sluice/registry"
	"github.com/sluice-ml/sluice/schemas"
	"github.com/sluice-ml/sluice/training"
)

func TestSchemaCheck(t *testing.T) {
	check, err := registry.SchemaCheck(schemas.TransactionSchema())
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		edit func(*inference.Signature)
		ok   bool
	}{
		{"demo signature", nil, true},
		{"unknown field", func(s *inference.Signature) { s.Input.Columns[3].Field = "velocity_7d" }, false},
		{"boolean read as numeric", func(s *inference.Signature) {
			for i, c := range s.Input.Columns {
				if c.Field == "card_present" {
					s.Input.Columns[i].Kind = inference.KindNumeric
				}
			}
		}, false},
		{"string read as numeric", func(s *inference.Signature) {
			for i, c := range s.Input.Columns {
				if c.Field == "channel" {
					s.Input.Columns[i] = inference.Column{Field: "channel", Kind: inference.KindNumeric}
				}
			}
		}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			sig := training.DemoSignature()
			if tt.edit != nil {
				tt.edit(sig)
			}
			err := check(sig)
			if tt.ok != (err == nil) {
				t.Fatalf("err = %v, want ok %v", err, tt.ok)
			}
			if err != nil && !errors.Is(err, registry.ErrSchemaMismatch) {
				t.Fatalf("err = %v, want ErrSchemaMismatch", err)
			}
		})
	}
	for _, bad := range []string{`{`, `{"type":"enum","name":"x","symbols":["a"]}`} {
		if _, err := registry.SchemaCheck(bad); err == nil {
			t.Fatalf("SchemaCheck(%s) accepted", bad)
		}
	}
}
