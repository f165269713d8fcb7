package inference

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"

	"gopkg.in/yaml.v3"
)

// ParseSignature decodes a signature.yaml document and validates it. Unknown
// keys are errors, so a typo names the field it misspelt. It is safe for
// concurrent use.
func ParseSignature(b []byte) (*Signature, error) {
	dec := yaml.NewDecoder(bytes.NewReader(b))
	dec.KnownFields(true)
	var s Signature
	if err := dec.Decode(&s); err != nil {
		if errors.Is(err, io.EOF) {
			return nil, errors.New("parsing signature: empty document")
		}
		return nil, fmt.Errorf("parsing signature: %w", err)
	}
	if err := s.Validate(); err != nil {
		return nil, err
	}
	return &s, nil
}

// LoadSignature reads and parses the signature.yaml at path. It is safe for
// concurrent use.
func LoadSignature(path string) (*Signature, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("loading signature: %w", err)
	}
	s, err := ParseSignature(b)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return s, nil
}
