package registry

import (
	"encoding/json"
	"fmt"
	"regexp"
	"strings"

	"github.com/sluice-ml/sluice/inference"
)

// write renders the draft as signature.yaml, with its notes and TODOs as
// comments where they apply.
func (d *drafter) write() *Draft {
	w := &draftWriter{draft: &Draft{}}
	from := "its input schema"
	if d.record != "" {
		from = "the Avro record " + d.record
	}
	if d.opt.SchemaSource != "" {
		from += " (" + d.opt.SchemaSource + ")"
	}
	if d.fields == nil {
		from = "no input schema"
	}
	w.line("", "# signature.yaml of model %s, drafted by `sluice models init` from %s and %s.", dash(d.opt.Model), dash(d.opt.ModelFile), from)
	w.line("", "# Each NOTE is a guess to check; each TODO is a decision sluice could not make.")
	w.comment("", "TODO", d.batchTODO)
	w.comment("", "NOTE", d.batchNote)
	if d.noBatch {
		w.line("", "batch: none")
	}
	w.line("", "inputs:")
	for _, in := range d.ins {
		w.line("  ", "- tensor: %s", q(in.t.name))
		if in.t.dtype != "" && in.t.dtype != inference.DTypeFloat32 {
			w.line("    ", "dtype: %s", in.t.dtype)
		}
		w.line("    ", "shape: %s", d.shape(in.t).YAML())
		w.comment("    ", "TODO", in.todo)
		for _, n := range in.notes {
			w.comment("    ", "NOTE", n)
		}
		switch {
		case in.field != "":
			w.line("    ", "field: %s", q(in.field))
		case len(in.columns) == 0:
			w.line("    ", "columns: []")
		default:
			w.line("    ", "columns:")
			for _, c := range in.columns {
				vocab := ""
				if len(c.vocab) > 0 {
					vocab = ", vocabulary: " + list(c.vocab)
				}
				w.line("      ", "- {field: %s, kind: %s%s}", q(c.field), c.kind, vocab)
			}
		}
	}
	w.line("", "outputs:")
	for _, o := range d.outs {
		if o.skip {
			for _, n := range o.notes {
				w.comment("  ", "NOTE", fmt.Sprintf("output %q (%s): %s", o.t.name, o.t.describe(), n))
			}
			continue
		}
		w.line("  ", "- tensor: %s", q(o.t.name))
		w.comment("    ", "TODO", o.todo)
		for _, n := range o.notes {
			w.comment("    ", "NOTE", n)
		}
		w.line("    ", "kind: %s", o.kind)
		if o.act != "" {
			w.line("    ", "activation: %s", o.act)
		}
		if len(o.classes) > 0 {
			w.line("    ", "classes: %s", list(o.classes))
		}
	}
	var unread []string
	for _, f := range d.fields {
		switch why := d.used[f.name]; why {
		case "":
			unread = append(unread, f.name)
		case "pipeline.fields", "a time":
			unread = append(unread, f.name+" ("+why+")")
		}
	}
	if len(unread) > 0 {
		w.line("", "# Fields this draft does not read: %s.", strings.Join(unread, ", "))
	}
	w.draft.YAML = []byte(w.b.String())
	return w.draft
}

// draftWriter writes lines of YAML and collects the comments' texts.
type draftWriter struct {
	b     strings.Builder
	draft *Draft
}

func (w *draftWriter) line(indent, format string, args ...any) {
	w.b.WriteString(indent)
	fmt.Fprintf(&w.b, format, args...)
	w.b.WriteByte('\n')
}

// comment writes a "# TODO: text" or "# NOTE: text" line (nothing for an
// empty text) and records it.
func (w *draftWriter) comment(indent, tag, text string) {
	if text == "" {
		return
	}
	w.line(indent, "# %s: %s", tag, text)
	if tag == "TODO" {
		w.draft.Open = append(w.draft.Open, text)
	} else {
		w.draft.Notes = append(w.draft.Notes, text)
	}
}

// plain is what YAML reads as the same string without quotes.
var plain = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_.-]*$`)

// q writes s as a YAML string: bare when that reads back as the same
// string, double-quoted (JSON's quoting, which YAML reads) otherwise.
func q(s string) string {
	switch strings.ToLower(s) {
	case "true", "false", "yes", "no", "on", "off", "y", "n", "null", "nan", "inf":
	default:
		if plain.MatchString(s) {
			return s
		}
	}
	b, _ := json.Marshal(s)
	return string(b)
}

func list(ss []string) string {
	parts := make([]string, len(ss))
	for i, s := range ss {
		parts[i] = q(s)
	}
	return "[" + strings.Join(parts, ", ") + "]"
}

func dash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}
