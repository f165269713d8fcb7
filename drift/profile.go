package drift

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"hash/fnv"
	"math"
	"os"
	"sort"

	"gopkg.in/yaml.v3"
)

// ProfileFormat is the format version written into new profiles.
const ProfileFormat = 1

// ErrBadProfile is wrapped by errors describing an invalid profile.
var ErrBadProfile = errors.New("drift: bad profile")

// Profile is a model's reference profile: how its training data (and the
// model's scores on it) were distributed. It is stored beside the model as
// profile.json and read back with ParseProfile. A Profile must not be
// changed once a Monitor uses it; it is then safe for concurrent reads.
type Profile struct {
	Format int `json:"format" yaml:"format"`
	// Rows is how many training rows were seen; the bins come from a
	// uniform sample of at most ProfileOptions.MaxRows of them.
	Rows        int64                `json:"rows" yaml:"rows"`
	Numeric     []NumericProfile     `json:"numeric,omitempty" yaml:"numeric,omitempty"`
	Categorical []CategoricalProfile `json:"categorical,omitempty" yaml:"categorical,omitempty"`
	// Score is the histogram of the model's prediction score (probability
	// of the positive class, or the regression output); nil when the
	// profile was built without scores, and then predictions are not tested.
	Score *NumericProfile `json:"score,omitempty" yaml:"score,omitempty"`
}

// NumericProfile is the reference distribution of one numeric feature.
// Value x falls in bin i when Edges[i-1] < x <= Edges[i] (bin 0 below the
// first edge, bin len(Edges) above the last); missing values have their own
// bin.
type NumericProfile struct {
	Name  string    `json:"name" yaml:"name"`
	Edges []float64 `json:"edges" yaml:"edges"`
	// Proportions has len(Edges)+1 entries, the training share of each bin.
	Proportions []float64 `json:"proportions" yaml:"proportions"`
	// Missing is the training share of missing values (null, absent, NaN).
	Missing float64 `json:"missing" yaml:"missing"`
	// Count is the number of sampled rows the proportions were taken from.
	Count int64   `json:"count" yaml:"count"`
	Mean  float64 `json:"mean" yaml:"mean"`
	Std   float64 `json:"std" yaml:"std"`
	Min   float64 `json:"min" yaml:"min"`
	Max   float64 `json:"max" yaml:"max"`
}

// CategoricalProfile is the reference distribution of one categorical
// feature. Values not in Categories count as Other at run time.
type CategoricalProfile struct {
	Name        string    `json:"name" yaml:"name"`
	Categories  []string  `json:"categories" yaml:"categories"`
	Proportions []float64 `json:"proportions" yaml:"proportions"`
	Other       float64   `json:"other" yaml:"other"`
	Missing     float64   `json:"missing" yaml:"missing"`
	Count       int64     `json:"count" yaml:"count"`
}

// ParseProfile reads a profile written as JSON or YAML and validates it.
func ParseProfile(b []byte) (*Profile, error) {
	var p Profile
	var err error
	if t := bytes.TrimSpace(b); len(t) > 0 && t[0] == '{' {
		err = json.Unmarshal(b, &p)
	} else {
		err = yaml.Unmarshal(b, &p)
	}
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrBadProfile, err)
	}
	if err := p.Validate(); err != nil {
		return nil, err
	}
	return &p, nil
}

// LoadProfile reads and validates the profile file at path.
func LoadProfile(path string) (*Profile, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("reading profile: %w", err)
	}
	return ParseProfile(b)
}

// WriteFile writes the profile as indented JSON to path.
func (p *Profile) WriteFile(path string) error {
	b, err := json.MarshalIndent(p, "", "  ")
	if err != nil {
		return fmt.Errorf("encoding profile: %w", err)
	}
	return os.WriteFile(path, append(b, '\n'), 0o644)
}

// Validate checks that the profile is usable: names unique, edges sorted
// and finite, proportions the right length.
func (p *Profile) Validate() error {
	bad := func(format string, a ...any) error {
		return fmt.Errorf("%w: %s", ErrBadProfile, fmt.Sprintf(format, a...))
	}
	if len(p.Numeric)+len(p.Categorical) == 0 && p.Score == nil {
		return bad("no features")
	}
	names := map[string]bool{}
	check := func(n *NumericProfile) error {
		if len(n.Proportions) != len(n.Edges)+1 {
			return bad("%s: %d proportions for %d edges", n.Name, len(n.Proportions), len(n.Edges))
		}
		if !sort.Float64sAreSorted(n.Edges) {
			return bad("%s: edges not sorted", n.Name)
		}
		for i, e := range n.Edges {
			if math.IsNaN(e) || math.IsInf(e, 0) || (i > 0 && e == n.Edges[i-1]) {
				return bad("%s: edge %d is %v", n.Name, i, e)
			}
		}
		return nil
	}
	for i := range p.Numeric {
		n := &p.Numeric[i]
		if n.Name == "" || names[n.Name] {
			return bad("numeric feature %d: empty or repeated name %q", i, n.Name)
		}
		names[n.Name] = true
		if err := check(n); err != nil {
			return err
		}
	}
	for i := range p.Categorical {
		c := &p.Categorical[i]
		if c.Name == "" || names[c.Name] {
			return bad("categorical feature %d: empty or repeated name %q", i, c.Name)
		}
		names[c.Name] = true
		if len(c.Proportions) != len(c.Categories) {
			return bad("%s: %d proportions for %d categories", c.Name, len(c.Proportions), len(c.Categories))
		}
		seen := map[string]bool{}
		for _, s := range c.Categories {
			if seen[s] {
				return bad("%s: category %q repeated", c.Name, s)
			}
			seen[s] = true
		}
	}
	if p.Score != nil {
		return check(p.Score)
	}
	return nil
}

// fingerprint identifies the profile's content, so workers sharing a
// window can check they bin the same way.
func (p *Profile) fingerprint() string {
	b, _ := json.Marshal(p)
	h := fnv.New64a()
	h.Write(b)
	return fmt.Sprintf("%016x", h.Sum64())
}
