package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"maps"
	"math"
	"slices"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/sluice-ml/sluice/registry"
)

func modelsList(ctx context.Context, reg *registry.Registry, f *modelsFlags, out io.Writer) error {
	if err := f.want("list", 0); err != nil {
		return err
	}
	names, err := reg.Models(ctx)
	if err != nil {
		return err
	}
	if len(names) == 0 {
		fmt.Fprintln(out, "no models registered")
		return nil
	}
	tw := tabwriter.NewWriter(out, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "MODEL\tPRODUCTION\tCANARY\tSHADOW\tVERSIONS\tWORKERS\tUPDATED")
	var notes []string
	for _, name := range names {
		st, err := reg.State(ctx, name)
		if errors.Is(err, registry.ErrUnknownModel) {
			continue // a registration that did not complete
		}
		if err != nil {
			return err
		}
		ws, err := reg.Workers(ctx, name)
		if err != nil {
			return err
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\n", name, dash(st.Production),
			share(st.Canary, st.CanaryPercent), share(st.Shadow, st.ShadowFraction*100),
			st.Latest, workersSummary(ws), st.Updated.Format(time.DateTime))
		notes = append(notes, heldNotes(name, ws)...)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	for _, n := range notes {
		fmt.Fprintln(out, n)
	}
	return nil
}

// workersSummary says which production version the live workers serve:
// "2 on v3", "1 on v2, 1 on v3", "-" for none.
func workersSummary(ws []registry.WorkerState) string {
	if len(ws) == 0 {
		return "-"
	}
	count := map[string]int{}
	for _, w := range ws {
		count[dash(w.Production)]++
	}
	versions := slices.Sorted(maps.Keys(count))
	parts := make([]string, len(versions))
	for i, v := range versions {
		parts[i] = fmt.Sprintf("%d on v%s", count[v], v)
	}
	return strings.Join(parts, ", ")
}

// heldNotes says, for each worker, what the registry assigns that it does
// not serve, and why.
func heldNotes(name string, ws []registry.WorkerState) []string {
	var out []string
	for _, w := range ws {
		for _, h := range w.Held {
			served := map[registry.Stage]string{registry.StageProduction: w.Production, registry.StageCanary: w.Canary, registry.StageShadow: w.Shadow}[h.Stage]
			serves := "serves none"
			if served != "" {
				serves = "serves version " + served
			}
			out = append(out, fmt.Sprintf("%s: the registry's %s is version %s, but worker %s %s: version %s %s: %s",
				name, h.Stage, h.Version, w.Worker, serves, h.Version, h.State, h.Reason))
		}
	}
	return out
}

func modelsShow(ctx context.Context, reg *registry.Registry, f *modelsFlags, out io.Writer) error {
	if err := f.want("show NAME", 1); err != nil {
		return err
	}
	st, err := reg.State(ctx, f.args[0])
	if err != nil {
		return err
	}
	vs, err := reg.Versions(ctx, f.args[0])
	if err != nil {
		return err
	}
	ws, err := reg.Workers(ctx, f.args[0])
	if err != nil {
		return err
	}
	tw := tabwriter.NewWriter(out, 0, 4, 2, ' ', 0)
	fmt.Fprintf(tw, "model\t%s\n", st.Model)
	fmt.Fprintf(tw, "production\t%s\n", dash(st.Production))
	fmt.Fprintf(tw, "canary\t%s\n", share(st.Canary, st.CanaryPercent))
	fmt.Fprintf(tw, "shadow\t%s\n", share(st.Shadow, st.ShadowFraction*100))
	fmt.Fprintf(tw, "history\t%s\n", dash(strings.Join(st.History, " → ")))
	if err := tw.Flush(); err != nil {
		return err
	}
	fmt.Fprintln(out)
	tw = tabwriter.NewWriter(out, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "VERSION\tSTAGE\tSIZE\tSHA256\tCREATED\tMETRICS\tREFUSED")
	for _, v := range vs {
		size := humanBytes(v.Size)
		if v.URI != "" {
			size += " (" + v.URI + ")"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\n", v.Version, v.Stage, size, v.SHA256[:min(12, len(v.SHA256))],
			v.Created.Format(time.DateTime), dash(formatMetrics(v.Metrics)), dash(v.Refused))
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	fmt.Fprintln(out)
	if len(ws) == 0 {
		fmt.Fprintln(out, "no worker serves this model")
		return nil
	}
	tw = tabwriter.NewWriter(out, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "WORKER\tPRODUCTION\tCANARY\tSHADOW\tSEEN\tNOT SERVED")
	for _, w := range ws {
		var held []string
		for _, h := range w.Held {
			held = append(held, fmt.Sprintf("%s %s (%s): %s", h.Version, h.State, h.Stage, h.Reason))
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s ago\t%s\n", w.Worker, dash(w.Production), dash(w.Canary), dash(w.Shadow),
			time.Since(w.Updated).Round(time.Second), dash(strings.Join(held, "; ")))
	}
	return tw.Flush()
}

func dash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

// share writes a canary or shadow version with its percentage.
func share(version string, pct float64) string {
	if version == "" {
		return "-"
	}
	return fmt.Sprintf("%s (%g%%)", version, math.Round(pct*100)/100)
}

func formatMetrics(m map[string]float64) string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	parts := make([]string, len(keys))
	for i, k := range keys {
		parts[i] = fmt.Sprintf("%s=%.4g", k, m[k])
	}
	return strings.Join(parts, " ")
}

func humanBytes(n int64) string {
	switch {
	case n >= 1<<20:
		return fmt.Sprintf("%.1f MiB", float64(n)/(1<<20))
	case n >= 1<<10:
		return fmt.Sprintf("%.1f KiB", float64(n)/(1<<10))
	}
	return fmt.Sprintf("%d B", n)
}
