package drift

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"reflect"
	"strconv"
	"strings"
	"testing"

	"github.com/linkedin/goavro/v2"
	"gopkg.in/yaml.v3"
)

func TestFeaturesFromSignature(t *testing.T) {
	got := FeaturesFromSignature(testSignature())
	var names []string
	for _, f := range got {
		names = append(names, f.Name+":"+string(f.Kind))
	}
	want := "x0:numeric x1:numeric x2:numeric x3:numeric x4:numeric x5:numeric flag:numeric channel:categorical income:numeric"
	if s := strings.Join(names, " "); s != want {
		t.Fatalf("features = %s, want %s", s, want)
	}
	if v := got[7].Vocabulary; !reflect.DeepEqual(v, channels) {
		t.Errorf("vocabulary = %v", v)
	}
}

func TestBuildProfile(t *testing.T) {
	p := testProfile(t, 40_000)
	if p.Rows != 40_000 || len(p.Numeric) != 8 || len(p.Categorical) != 1 || p.Score == nil {
		t.Fatalf("profile shape: rows %d numeric %d categorical %d score %v", p.Rows, len(p.Numeric), len(p.Categorical), p.Score != nil)
	}
	x1 := p.Numeric[1]
	if len(x1.Edges) != 19 {
		t.Errorf("x1: %d edges, want 19", len(x1.Edges))
	}
	for i, q := range x1.Proportions {
		if math.Abs(q-0.05) > 0.001 {
			t.Errorf("x1 bin %d: proportion %v, want 0.05", i, q)
		}
	}
	near(t, "x1 mean", x1.Mean, 10, 0.05)
	near(t, "x1 std", x1.Std, 2, 0.05)
	// Boolean: few distinct values, so few bins.
	flag := p.Numeric[6]
	if len(flag.Edges) > 2 || math.Abs(flag.Proportions[len(flag.Proportions)-1]+flag.Proportions[len(flag.Proportions)-2]-0.3) > 0.01 {
		t.Errorf("flag: edges %v proportions %v", flag.Edges, flag.Proportions)
	}
	income := p.Numeric[7]
	near(t, "income missing", income.Missing, 0.2, 0.01)
	ch := p.Categorical[0]
	if !reflect.DeepEqual(ch.Categories, channels) {
		t.Errorf("categories %v", ch.Categories)
	}
	for i, q := range ch.Proportions {
		near(t, "channel "+ch.Categories[i], q, baseMix[i], 0.01)
	}
}

func TestProfileRoundTrip(t *testing.T) {
	p := testProfile(t, 5000)
	j, err := json.Marshal(p)
	if err != nil {
		t.Fatal(err)
	}
	y, err := yaml.Marshal(p)
	if err != nil {
		t.Fatal(err)
	}
	for name, b := range map[string][]byte{"json": j, "yaml": y} {
		q, err := ParseProfile(b)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if !reflect.DeepEqual(p, q) {
			t.Errorf("%s round trip differs", name)
		}
	}
	path := filepath.Join(t.TempDir(), "profile.json")
	if err := p.WriteFile(path); err != nil {
		t.Fatal(err)
	}
	if q, err := LoadProfile(path); err != nil || q.fingerprint() != p.fingerprint() {
		t.Fatalf("load: %v", err)
	}
	for name, bad := range map[string]string{
		"unsorted": `{"format":1,"numeric":[{"name":"a","edges":[2,1],"proportions":[0.3,0.3,0.4]}]}`,
		"short":    `{"format":1,"numeric":[{"name":"a","edges":[1],"proportions":[1]}]}`,
		"repeated": `{"format":1,"numeric":[{"name":"a","edges":[],"proportions":[1]}],"categorical":[{"name":"a","categories":[],"proportions":[]}]}`,
		"empty":    `{"format":1}`,
	} {
		if _, err := ParseProfile([]byte(bad)); err == nil {
			t.Errorf("%s: no error", name)
		}
	}
}

func TestProfileFromCSV(t *testing.T) {
	var b strings.Builder
	b.WriteString("id,amount,card_present,channel,score\n")
	for i := range 1000 {
		amount := ""
		if i%10 != 0 {
			amount = strconv.Itoa(i%10) + ".5"
		}
		cp := []string{"true", "false"}[i%2]
		ch := []string{"web", "pos", "", "kiosk"}[i%4]
		fmt.Fprintf(&b, "e%d,%s,%s,%s,0.%d\n", i, amount, cp, ch, i%10)
	}
	feats := []FeatureSpec{{Name: "amount", Kind: Numeric}, {Name: "card_present", Kind: Numeric},
		{Name: "channel", Kind: Categorical, Vocabulary: []string{"web", "mobile", "pos"}}}
	p, err := ProfileFromCSV(strings.NewReader(b.String()), feats, ProfileOptions{ScoreColumn: "score"})
	if err != nil {
		t.Fatal(err)
	}
	near(t, "amount missing", p.Numeric[0].Missing, 0.1, 1e-12)
	near(t, "card_present mean", p.Numeric[1].Mean, 0.5, 1e-12)
	ch := p.Categorical[0]
	if !reflect.DeepEqual(ch.Categories, []string{"web", "mobile", "pos", "kiosk"}) {
		t.Errorf("categories %v", ch.Categories)
	}
	near(t, "channel missing", ch.Missing, 0.25, 1e-12)
	near(t, "mobile", ch.Proportions[1], 0, 0)
	if p.Score == nil || p.Score.Count != 1000 {
		t.Fatalf("score profile %+v", p.Score)
	}
	if _, err := ProfileFromCSV(strings.NewReader("a,b\n1,2\n"), feats, ProfileOptions{}); err == nil {
		t.Error("missing column: no error")
	}
	if _, err := ProfileFromCSV(strings.NewReader("amount,card_present,channel\nx,1,web\n"), feats, ProfileOptions{}); err == nil {
		t.Error("bad number: no error")
	}
}

func TestProfileFromOCF(t *testing.T) {
	schema := `{"type":"record","name":"T","fields":[
	  {"name":"amount","type":"double"},
	  {"name":"card_present","type":"boolean"},
	  {"name":"channel","type":"string"},
	  {"name":"income","type":["null","double"],"default":null}]}`
	var buf bytes.Buffer
	w, err := goavro.NewOCFWriter(goavro.OCFConfig{W: &buf, Schema: schema})
	if err != nil {
		t.Fatal(err)
	}
	var recs []any
	for i := range 500 {
		var inc any
		if i%5 != 0 {
			inc = goavro.Union("double", float64(i))
		}
		recs = append(recs, map[string]any{"amount": float64(i), "card_present": i%2 == 0,
			"channel": []string{"web", "pos"}[i%2], "income": inc})
	}
	if err := w.Append(recs); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "data.avro")
	if err := os.WriteFile(path, buf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	feats := []FeatureSpec{{Name: "amount", Kind: Numeric}, {Name: "card_present", Kind: Numeric},
		{Name: "channel", Kind: Categorical}, {Name: "income", Kind: Numeric}}
	scored := 0
	p, err := ProfileFromFile(path, feats, ProfileOptions{Score: func(rec map[string]any) (float32, error) {
		scored++
		return float32(rec["amount"].(float64) / 500), nil
	}})
	if err != nil {
		t.Fatal(err)
	}
	if scored != 500 || p.Rows != 500 {
		t.Fatalf("scored %d rows %d", scored, p.Rows)
	}
	near(t, "income missing", p.Numeric[2].Missing, 0.2, 1e-12)
	near(t, "amount mean", p.Numeric[0].Mean, 249.5, 1e-9)
	near(t, "score max", p.Score.Max, 499.0/500, 1e-6)
	if len(p.Numeric[0].Edges) != 19 {
		t.Errorf("amount edges %v", p.Numeric[0].Edges)
	}
}

func TestReservoir(t *testing.T) {
	g := newGen(3)
	b, err := NewProfileBuilder([]FeatureSpec{{Name: "x1", Kind: Numeric}}, ProfileOptions{MaxRows: 2000, Seed: 1})
	if err != nil {
		t.Fatal(err)
	}
	for range 50_000 {
		b.Add(g.next())
	}
	p, err := b.Profile()
	if err != nil {
		t.Fatal(err)
	}
	if p.Rows != 50_000 || p.Numeric[0].Count != 2000 {
		t.Fatalf("rows %d count %d", p.Rows, p.Numeric[0].Count)
	}
	near(t, "sampled mean", p.Numeric[0].Mean, 10, 0.2)
}

func TestSchemaFilesMatch(t *testing.T) {
	for file, s := range map[string]string{
		"drift_report.avsc":      DriftReportSchema,
		"retrain_requested.avsc": RetrainRequestedSchema,
	} {
		b, err := os.ReadFile(filepath.Join("..", "schemas", "avro", file))
		if err != nil {
			t.Fatal(err)
		}
		if strings.TrimSpace(string(b)) != s {
			t.Errorf("%s differs from its constant in schema.go", file)
		}
		if _, err := goavro.NewCodec(s); err != nil {
			t.Errorf("%s: %v", file, err)
		}
	}
}
