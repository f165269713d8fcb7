package inference

import (
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"
)

func loadFraudSignature(t testing.TB) *Signature {
	t.Helper()
	s, err := LoadSignature(filepath.Join("testdata", "fraud_signature.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestLoadSignatureDemo(t *testing.T) {
	s := loadFraudSignature(t)
	if got := s.Width(); got != 26 {
		t.Errorf("Width() = %d, want 26", got)
	}
	if got := s.OutWidth(); got != 2 {
		t.Errorf("OutWidth() = %d, want 2", got)
	}
	if s.Input.Tensor != "features" || s.Output.Tensor != "probabilities" {
		t.Errorf("tensors = %q, %q", s.Input.Tensor, s.Output.Tensor)
	}
}

func TestLoadSignatureMissingFile(t *testing.T) {
	_, err := LoadSignature(filepath.Join(t.TempDir(), "nope.yaml"))
	if !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("err = %v, want not exist", err)
	}
}

func TestParseSignatureUnknownField(t *testing.T) {
	doc := `
input:
  tensor: x
  columns:
    - {field: a, kind: numeric, imput: 3}
output: {tensor: y, kind: score}
`
	_, err := ParseSignature([]byte(doc))
	if err == nil || !strings.Contains(err.Error(), "imput") {
		t.Fatalf("err = %v, want it to name the unknown field imput", err)
	}
}

func TestParseSignatureEmpty(t *testing.T) {
	if _, err := ParseSignature(nil); err == nil {
		t.Fatal("empty document parsed")
	}
}

func TestValidateNamesTheBadField(t *testing.T) {
	num := func(f string) Column { return Column{Field: f, Kind: KindNumeric} }
	nan, big, one := 0.0, 1e300, 1.0
	nan = nan / nan
	out := OutputSpec{Tensor: "y", Kind: OutputProbabilities, Classes: []string{"a", "b"}}
	tests := []struct {
		name string
		in   InputSpec
		out  OutputSpec
		want string
	}{
		{"no input tensor", InputSpec{Columns: []Column{num("a")}}, out, "input.tensor: empty"},
		{"no columns", InputSpec{Tensor: "x"}, out, "input.columns: empty"},
		{"no field", InputSpec{Tensor: "x", Columns: []Column{{Kind: KindNumeric}}}, out, "input.columns[0].field: empty"},
		{"duplicate", InputSpec{Tensor: "x", Columns: []Column{num("a"), num("a")}}, out, `input.columns[1].field: "a" already mapped by input.columns[0]`},
		{"no kind", InputSpec{Tensor: "x", Columns: []Column{{Field: "a"}}}, out, `input.columns[0].kind: empty for column "a"`},
		{"bad kind", InputSpec{Tensor: "x", Columns: []Column{{Field: "a", Kind: "text"}}}, out, `input.columns[0].kind: unknown kind "text"`},
		{"empty vocabulary", InputSpec{Tensor: "x", Columns: []Column{num("a"), num("b"), num("c"), {Field: "channel", Kind: KindCategorical}}}, out,
			`input.columns[3].vocabulary: empty for categorical column "channel"`},
		{"repeated category", InputSpec{Tensor: "x", Columns: []Column{{Field: "c", Kind: KindCategorical, Vocabulary: []string{"a", "b", "a"}}}}, out,
			`input.columns[0].vocabulary[2]: "a" repeats vocabulary[0]`},
		{"bad encoding", InputSpec{Tensor: "x", Columns: []Column{{Field: "c", Kind: KindCategorical, Vocabulary: []string{"a"}, Encoding: "hash"}}}, out,
			`input.columns[0].encoding: unknown encoding "hash"`},
		{"bad unknown", InputSpec{Tensor: "x", Columns: []Column{{Field: "c", Kind: KindCategorical, Vocabulary: []string{"a"}, Unknown: "skip"}}}, out,
			`input.columns[0].unknown: unknown policy "skip"`},
		{"categorical impute", InputSpec{Tensor: "x", Columns: []Column{{Field: "c", Kind: KindCategorical, Vocabulary: []string{"a"}, Impute: &one}}}, out,
			`input.columns[0].impute: not allowed for categorical column "c"`},
		{"vocabulary on numeric", InputSpec{Tensor: "x", Columns: []Column{{Field: "a", Kind: KindNumeric, Vocabulary: []string{"a"}}}}, out,
			`input.columns[0].vocabulary: only categorical columns`},
		{"length on numeric", InputSpec{Tensor: "x", Columns: []Column{{Field: "a", Kind: KindNumeric, Length: 3}}}, out,
			`input.columns[0].length: only array columns`},
		{"array without length", InputSpec{Tensor: "x", Columns: []Column{{Field: "e", Kind: KindArray}}}, out,
			`input.columns[0].length: must be > 0 for array column "e"`},
		{"NaN impute", InputSpec{Tensor: "x", Columns: []Column{{Field: "a", Kind: KindNumeric, Impute: &nan}}}, out,
			`input.columns[0].impute: NaN is not a finite float32`},
		{"huge impute", InputSpec{Tensor: "x", Columns: []Column{{Field: "a", Kind: KindNumeric, Impute: &big}}}, out,
			`input.columns[0].impute: 1e+300 is not a finite float32`},
		{"no output tensor", InputSpec{Tensor: "x", Columns: []Column{num("a")}}, OutputSpec{Kind: OutputScore}, "output.tensor: empty"},
		{"same tensors", InputSpec{Tensor: "x", Columns: []Column{num("a")}}, OutputSpec{Tensor: "x", Kind: OutputScore}, `output.tensor: "x" is also an input tensor`},
		{"no output kind", InputSpec{Tensor: "x", Columns: []Column{num("a")}}, OutputSpec{Tensor: "y"}, "output.kind: empty"},
		{"one class", InputSpec{Tensor: "x", Columns: []Column{num("a")}}, OutputSpec{Tensor: "y", Kind: OutputProbabilities, Classes: []string{"a"}},
			"output.classes: 1 classes"},
		{"repeated class", InputSpec{Tensor: "x", Columns: []Column{num("a")}}, OutputSpec{Tensor: "y", Kind: OutputProbabilities, Classes: []string{"a", "a"}},
			`output.classes[1]: "a" repeats output.classes[0]`},
		{"score with classes", InputSpec{Tensor: "x", Columns: []Column{num("a")}}, OutputSpec{Tensor: "y", Kind: OutputScore, Classes: []string{"a"}},
			`output.classes: a score output ("y") has no classes`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := &Signature{Input: tt.in, Output: tt.out}
			err := s.Validate()
			if !errors.Is(err, ErrInvalidSignature) {
				t.Fatalf("err = %v, want ErrInvalidSignature", err)
			}
			if !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("err = %q, want it to contain %q", err, tt.want)
			}
		})
	}
}

func TestWidthBeforeValidate(t *testing.T) {
	s := &Signature{
		Input: InputSpec{Tensor: "x", Columns: []Column{
			{Field: "a", Kind: KindNumeric},
			{Field: "c", Kind: KindCategorical, Vocabulary: []string{"p", "q", "r"}},
			{Field: "i", Kind: KindCategorical, Vocabulary: []string{"p", "q"}, Encoding: EncodingIndex},
			{Field: "e", Kind: KindArray, Length: 4},
		}},
		Output: OutputSpec{Tensor: "y", Kind: OutputScore},
	}
	before, outBefore := s.Width(), s.OutWidth()
	if err := s.Validate(); err != nil {
		t.Fatal(err)
	}
	if before != 9 || s.Width() != 9 || outBefore != 1 || s.OutWidth() != 1 {
		t.Fatalf("Width %d/%d, OutWidth %d/%d; want 9 and 1", before, s.Width(), outBefore, s.OutWidth())
	}
	if err := (&Signature{}).MapRow(nil, nil); !errors.Is(err, ErrNotValidated) {
		t.Fatalf("MapRow before Validate: %v", err)
	}
}

func TestReadOutput(t *testing.T) {
	in := InputSpec{Tensor: "x", Columns: []Column{{Field: "a", Kind: KindNumeric}}}
	three := &Signature{Input: in, Output: OutputSpec{Tensor: "y", Kind: OutputProbabilities, Classes: []string{"legit", "fraud", "other"}}}
	two := &Signature{Input: in, Output: OutputSpec{Tensor: "y", Kind: OutputProbabilities, Classes: []string{"legit", "fraud"}}}
	score := &Signature{Input: in, Output: OutputSpec{Tensor: "y", Kind: OutputScore}}
	for _, s := range []*Signature{three, two, score} {
		if err := s.Validate(); err != nil {
			t.Fatal(err)
		}
	}
	tests := []struct {
		name  string
		sig   *Signature
		row   []float32
		class int
		score float32
	}{
		{"three classes: the predicted class's probability", three, []float32{0.1, 0.2, 0.7}, 2, 0.7},
		{"three classes, first wins", three, []float32{0.8, 0.15, 0.05}, 0, 0.8},
		{"tie takes first", three, []float32{0.4, 0.4, 0.2}, 0, 0.4},
		{"two classes: the positive class's probability", two, []float32{0.9, 0.1}, 0, 0.1},
		{"two classes, positive wins", two, []float32{0.3, 0.7}, 1, 0.7},
		{"score", score, []float32{3.5}, -1, 3.5},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := tt.sig.ReadOutput(tt.row)
			if got.ClassIndex != tt.class || got.Score != tt.score || !slices.Equal(got.Scores, tt.row) {
				t.Fatalf("ReadOutput(%v) = %+v, want class %d, score %v, scores the row", tt.row, got, tt.class, tt.score)
			}
			want := ""
			if tt.class >= 0 {
				want = tt.sig.Output.Classes[tt.class]
			}
			if got.Class != want {
				t.Fatalf("class %q, want %q", got.Class, want)
			}
		})
	}
}

func TestSignatureYAMLRoundTrip(t *testing.T) {
	s := loadFraudSignature(t)
	b, err := yaml.Marshal(s)
	if err != nil {
		t.Fatal(err)
	}
	back, err := ParseSignature(b)
	if err != nil {
		t.Fatalf("%v\n%s", err, b)
	}
	if !reflect.DeepEqual(back, s) {
		t.Fatalf("round trip changed the signature:\n%s", b)
	}
}
