package registry

import (
	"fmt"
	"strings"

	"github.com/sluice-ml/sluice/inference"
)

// inputDraft is what a draft fills one model input with: columns, one
// array field, or nothing yet (todo says what to decide).
type inputDraft struct {
	t       draftTensor
	columns []draftColumn
	field   string
	todo    string
	notes   []string
}

// draftColumn is one column of an input.
type draftColumn struct {
	field string
	kind  inference.ColumnKind
	vocab []string
}

func (in *inputDraft) open() bool { return len(in.columns) == 0 && in.field == "" && in.todo == "" }

func (in *inputDraft) stringTensor() bool { return in.t.dtype == inference.DTypeString }

// fillInputs fills every input it can: by name first, then string
// inputs, then the numeric fields into the input as wide as their count,
// then array fields; what is left is a TODO naming the candidates.
func (d *drafter) fillInputs() {
	for _, in := range d.ins {
		switch {
		case !in.t.tensor() || in.t.dtype == "":
			in.todo = fmt.Sprintf("input %q is %s, which sluice cannot fill", in.t.name, in.t.describe())
		case d.width(in.t) < 0:
			in.todo = fmt.Sprintf("input %q (%s) has a symbolic dimension besides the batch: write its shape with numbers, then the fields that fill it", in.t.name, in.t.describe())
		default:
			d.byName(in)
		}
	}
	d.fillStrings()
	d.fillScalars()
	d.fillArrays()
	for _, in := range d.ins {
		if in.open() {
			in.todo = d.askFields(in)
		}
	}
}

// byName fills in from the unused field of the same name (letters and
// digits compared, case ignored), where the field can fill it.
func (d *drafter) byName(in *inputDraft) {
	for _, f := range d.fields {
		if d.used[f.name] != "" || norm(f.name) != norm(in.t.name) {
			continue
		}
		if f.kind == fieldArray && f.strItems == in.stringTensor() {
			d.fillField(in, f)
			return
		}
		if kind, w := columnOf(f, in.t.dtype); kind != "" && w == d.width(in.t) {
			d.fillColumns(in, []avroField{f})
		}
		return
	}
}

// fillStrings fills the one string input left with the string fields
// left, when their count is its width, or with the one string array.
func (d *drafter) fillStrings() {
	ins := d.openInputs(func(in *inputDraft) bool { return in.stringTensor() })
	if len(ins) != 1 {
		return
	}
	scalars := d.unused(func(f avroField) bool { return f.kind == fieldString || f.kind == fieldEnum })
	arrays := d.unused(func(f avroField) bool { return f.kind == fieldArray && f.strItems })
	switch in := ins[0]; {
	case len(scalars) > 0 && len(scalars) == d.width(in.t):
		d.fillColumns(in, scalars)
	case len(scalars) == 0 && len(arrays) == 1:
		d.fillField(in, arrays[0])
	}
}

// fillScalars fills the one numeric input whose width is the number of
// numeric and boolean fields left (with the enum fields left, one-hot,
// when that is what makes the count), in schema order.
func (d *drafter) fillScalars() {
	ins := d.openInputs(func(in *inputDraft) bool { return !in.stringTensor() })
	nums := d.unused(func(f avroField) bool { return f.kind == fieldNumeric || f.kind == fieldBoolean })
	withEnums := d.unused(func(f avroField) bool {
		return f.kind == fieldNumeric || f.kind == fieldBoolean || (f.kind == fieldEnum && len(f.symbols) > 0)
	})
	for _, set := range [][]avroField{nums, withEnums} {
		w := 0
		for _, f := range set {
			_, n := columnOf(f, inference.DTypeFloat32)
			w += n
		}
		var match []*inputDraft
		for _, in := range ins {
			if w > 0 && d.width(in.t) == w {
				match = append(match, in)
			}
		}
		if len(match) == 1 {
			d.fillColumns(match[0], set)
			if len(set) > 1 {
				match[0].notes = append(match[0].notes, fmt.Sprintf("the record's %d numeric fields in schema order: check it is the order the model was trained on", len(set)))
			}
			return
		}
	}
}

// fillArrays fills numeric inputs with numeric array fields where only
// one fits: one input and one array, or one of each of a kind (integer
// arrays into integer inputs, the others into floating-point ones).
func (d *drafter) fillArrays() {
	ins := d.openInputs(func(in *inputDraft) bool { return !in.stringTensor() })
	arrays := d.unused(func(f avroField) bool { return f.kind == fieldArray && !f.strItems })
	if len(ins) == 1 && len(arrays) == 1 {
		d.fillField(ins[0], arrays[0])
		return
	}
	for _, integer := range []bool{true, false} {
		var fi []*inputDraft
		var fa []avroField
		for _, in := range ins {
			if in.t.integer() == integer {
				fi = append(fi, in)
			}
		}
		for _, f := range arrays {
			if f.integer == integer {
				fa = append(fa, f)
			}
		}
		if len(fi) == 1 && len(fa) == 1 {
			d.fillField(fi[0], fa[0])
		}
	}
}

// askFields is the TODO of an input nothing filled: its type and width,
// and the fields that could fill it.
func (d *drafter) askFields(in *inputDraft) string {
	q := fmt.Sprintf("which fields fill input %q (%s, %d elements per event)?", in.t.name, in.t.dtype, d.width(in.t))
	if d.fields == nil {
		return q + " (no input schema was given)"
	}
	var c []string
	for _, f := range d.fields {
		if d.used[f.name] != "" {
			continue
		}
		switch {
		case f.kind == fieldArray && f.strItems == in.stringTensor():
			c = append(c, f.name+" (array)")
		case in.stringTensor() && (f.kind == fieldString || f.kind == fieldEnum):
			c = append(c, f.name+" (string)")
		case !in.stringTensor() && (f.kind == fieldNumeric || f.kind == fieldBoolean):
			c = append(c, f.name)
		case !in.stringTensor() && (f.kind == fieldEnum || f.kind == fieldString):
			c = append(c, f.name+" (categorical: needs a vocabulary)")
		}
	}
	if len(c) == 0 {
		return q + " no field of record " + d.record + " is left that could"
	}
	return q + " candidates: " + strings.Join(c, ", ")
}

// columnOf is the column kind of field f in a tensor of type dtype and the
// elements it fills, or "" when it cannot be a column of it.
func columnOf(f avroField, dtype inference.DType) (inference.ColumnKind, int) {
	if dtype == inference.DTypeString {
		if f.kind == fieldString || f.kind == fieldEnum {
			return inference.KindString, 1
		}
		return "", 0
	}
	switch f.kind {
	case fieldNumeric:
		return inference.KindNumeric, 1
	case fieldBoolean:
		return inference.KindBoolean, 1
	case fieldEnum:
		if len(f.symbols) > 0 {
			return inference.KindCategorical, len(f.symbols)
		}
	}
	return "", 0
}

func (d *drafter) fillColumns(in *inputDraft, fields []avroField) {
	for _, f := range fields {
		kind, _ := columnOf(f, in.t.dtype)
		c := draftColumn{field: f.name, kind: kind}
		if kind == inference.KindCategorical {
			c.vocab = f.symbols
			in.notes = append(in.notes, fmt.Sprintf("%s: one-hot over the enum's symbols, in their order", f.name))
		}
		in.columns = append(in.columns, c)
		d.use(in, f)
	}
}

func (d *drafter) fillField(in *inputDraft, f avroField) {
	in.field = f.name
	d.use(in, f)
}

func (d *drafter) use(in *inputDraft, f avroField) {
	d.used[f.name] = in.t.name
	if f.nullable {
		in.notes = append(in.notes, fmt.Sprintf("%s is nullable: a null is dead-lettered (missing_field) unless you add impute: VALUE", f.name))
	}
}

func (d *drafter) openInputs(keep func(*inputDraft) bool) []*inputDraft {
	var out []*inputDraft
	for _, in := range d.ins {
		if in.open() && keep(in) {
			out = append(out, in)
		}
	}
	return out
}

func (d *drafter) unused(keep func(avroField) bool) []avroField {
	var out []avroField
	for _, f := range d.fields {
		if d.used[f.name] == "" && keep(f) {
			out = append(out, f)
		}
	}
	return out
}
