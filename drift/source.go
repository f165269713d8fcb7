package drift

import (
	"bufio"
	"bytes"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"strconv"
	"strings"

	"github.com/linkedin/goavro/v2"
)

// ProfileFromFile builds a profile from a data file: an Avro object
// container file (recognised by its magic bytes) or else CSV with a header
// row. It is what `sluice profile --data FILE` runs.
func ProfileFromFile(path string, features []FeatureSpec, opts ProfileOptions) (*Profile, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("opening data file: %w", err)
	}
	defer f.Close()
	br := bufio.NewReader(f)
	if magic, _ := br.Peek(4); bytes.Equal(magic, []byte("Obj\x01")) {
		return ProfileFromOCF(br, features, opts)
	}
	return ProfileFromCSV(br, features, opts)
}

// ProfileFromOCF builds a profile from an Avro object container file whose
// records hold the features by name.
func ProfileFromOCF(r io.Reader, features []FeatureSpec, opts ProfileOptions) (*Profile, error) {
	ocf, err := goavro.NewOCFReader(r)
	if err != nil {
		return nil, fmt.Errorf("reading avro container: %w", err)
	}
	return profileFrom(features, opts, func() (map[string]any, error) {
		if !ocf.Scan() {
			if err := ocf.Err(); err != nil {
				return nil, fmt.Errorf("reading avro container: %w", err)
			}
			return nil, io.EOF
		}
		d, err := ocf.Read()
		if err != nil {
			return nil, fmt.Errorf("reading avro record: %w", err)
		}
		rec, ok := d.(map[string]any)
		if !ok {
			return nil, fmt.Errorf("avro container holds %T, not records", d)
		}
		return rec, nil
	})
}

// ProfileFromCSV builds a profile from CSV with a header row naming the
// columns. Empty cells and NA, NaN, null count as missing; true/false are
// read as 1/0 for numeric features.
func ProfileFromCSV(r io.Reader, features []FeatureSpec, opts ProfileOptions) (*Profile, error) {
	cr := csv.NewReader(r)
	cr.ReuseRecord = true
	header, err := cr.Read()
	if err != nil {
		return nil, fmt.Errorf("reading csv header: %w", err)
	}
	col := map[string]int{}
	for i, h := range header {
		col[strings.TrimSpace(h)] = i
	}
	for _, f := range features {
		if _, ok := col[f.Name]; !ok {
			return nil, fmt.Errorf("csv has no column %q", f.Name)
		}
	}
	if opts.ScoreColumn != "" {
		if _, ok := col[opts.ScoreColumn]; !ok {
			return nil, fmt.Errorf("csv has no score column %q", opts.ScoreColumn)
		}
	}
	line := 1
	return profileFrom(features, opts, func() (map[string]any, error) {
		row, err := cr.Read()
		if err != nil {
			if !errors.Is(err, io.EOF) {
				err = fmt.Errorf("reading csv: %w", err)
			}
			return nil, err
		}
		line++
		rec := make(map[string]any, len(features)+1)
		for _, f := range features {
			v, err := csvValue(row[col[f.Name]], f.Kind)
			if err != nil {
				return nil, fmt.Errorf("csv line %d, column %s: %w", line, f.Name, err)
			}
			rec[f.Name] = v
		}
		if opts.ScoreColumn != "" {
			v, err := csvValue(row[col[opts.ScoreColumn]], Numeric)
			if err != nil {
				return nil, fmt.Errorf("csv line %d, column %s: %w", line, opts.ScoreColumn, err)
			}
			rec[opts.ScoreColumn] = v
		}
		return rec, nil
	})
}

func csvValue(s string, kind FeatureKind) (any, error) {
	s = strings.TrimSpace(s)
	switch strings.ToLower(s) {
	case "", "na", "nan", "null":
		return nil, nil
	}
	if kind == Categorical {
		return s, nil
	}
	switch strings.ToLower(s) {
	case "true":
		return 1.0, nil
	case "false":
		return 0.0, nil
	}
	x, err := strconv.ParseFloat(s, 64)
	if err != nil {
		return nil, fmt.Errorf("not a number: %q", s)
	}
	return x, nil
}

// profileFrom drains next (io.EOF ends it) into a profile, scoring each
// record as opts says.
func profileFrom(features []FeatureSpec, opts ProfileOptions, next func() (map[string]any, error)) (*Profile, error) {
	b, err := NewProfileBuilder(features, opts)
	if err != nil {
		return nil, err
	}
	for {
		rec, err := next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, err
		}
		score := float32(math.NaN())
		switch {
		case opts.ScoreColumn != "":
			if x, ok := numberOf(rec[opts.ScoreColumn]); ok {
				score = float32(x)
			}
		case opts.Score != nil:
			if score, err = opts.Score(rec); err != nil {
				return nil, fmt.Errorf("scoring row: %w", err)
			}
		}
		b.Add(rec, score)
	}
	return b.Profile()
}
