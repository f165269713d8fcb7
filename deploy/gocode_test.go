package deploy_test

import (
	"go/ast"
	"go/parser"
	"go/token"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// goFile is one parsed non-test Go file of the repository.
type goFile struct {
	path string // relative to the repository root
	file *ast.File
}

// parseRepoGo parses every non-test Go file of the repository, skipping
// hidden folders, testdata and this package.
func parseRepoGo(t *testing.T) []goFile {
	t.Helper()
	var out []goFile
	fset := token.NewFileSet()
	err := filepath.WalkDir(repoRoot, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(repoRoot, path)
		if d.IsDir() {
			name := d.Name()
			if rel != "." && (strings.HasPrefix(name, ".") || name == "testdata" || name == "vendor" || rel == "deploy") {
				return filepath.SkipDir
			}
			return nil
		}
		if !strings.HasSuffix(path, ".go") || strings.HasSuffix(path, "_test.go") {
			return nil
		}
		f, err := parser.ParseFile(fset, path, nil, parser.ParseComments)
		if err != nil {
			return err
		}
		out = append(out, goFile{path: filepath.ToSlash(rel), file: f})
		return nil
	})
	if err != nil {
		t.Fatalf("parsing the repository's Go files: %v", err)
	}
	if len(out) == 0 {
		t.Fatal("found no Go files")
	}
	return out
}

// metricInfo is what the code says about one exported sluice_* name.
type metricInfo struct {
	histogram bool
	labels    map[string]bool
	// structured is true when the name was found as Name: in *Opts, so
	// labels and histogram are known.
	structured bool
}

// exportedMetrics collects every string literal starting with "sluice_" in
// the repository's non-test Go files, and, where the literal is the Name of
// a prometheus *Opts literal, its variable and constant labels and whether
// it is a histogram.
func exportedMetrics(t *testing.T, files []goFile) map[string]*metricInfo {
	t.Helper()
	out := map[string]*metricInfo{}
	get := func(name string) *metricInfo {
		if out[name] == nil {
			out[name] = &metricInfo{labels: map[string]bool{}}
		}
		return out[name]
	}
	for _, gf := range files {
		wrapped := wrappedLabels(gf.path)
		ast.Inspect(gf.file, func(n ast.Node) bool {
			switch x := n.(type) {
			case *ast.BasicLit:
				if s, ok := stringLit(x); ok && strings.HasPrefix(s, "sluice_") {
					get(s)
				}
			case *ast.CallExpr:
				for _, arg := range x.Args {
					name, kind, constLabels := optsLiteral(arg)
					if name == "" {
						continue
					}
					m := get(name)
					m.structured = true
					m.histogram = m.histogram || kind == "HistogramOpts" || kind == "SummaryOpts"
					for _, l := range append(constLabels, wrapped...) {
						m.labels[l] = true
					}
					for _, other := range x.Args {
						for _, l := range stringSlice(other) {
							m.labels[l] = true
						}
					}
				}
			}
			return true
		})
	}
	return out
}

// wrappedLabels are the labels server adds to the series of the packages
// it registers under prometheus.WrapRegistererWith (server/server.go,
// server/models.go): route on a worker's series (pipeline, consumer,
// producer, lag and missing topics, drift), model on inference's.
func wrappedLabels(path string) []string {
	for _, dir := range []string{"pipeline/", "consumers/", "producers/", "worker/", "drift/"} {
		if strings.HasPrefix(path, dir) {
			return []string{"route"}
		}
	}
	if strings.HasPrefix(path, "inference/") {
		return []string{"model"}
	}
	return nil
}

// optsLiteral recognises prometheus.XxxOpts{Name: "sluice_..."} and returns
// the name, the Opts type's name and the ConstLabels keys.
func optsLiteral(e ast.Expr) (name, kind string, constLabels []string) {
	cl, ok := e.(*ast.CompositeLit)
	if !ok {
		return "", "", nil
	}
	if sel, ok := cl.Type.(*ast.SelectorExpr); ok && strings.HasSuffix(sel.Sel.Name, "Opts") {
		kind = sel.Sel.Name
	} else {
		return "", "", nil
	}
	for _, el := range cl.Elts {
		kv, ok := el.(*ast.KeyValueExpr)
		if !ok {
			continue
		}
		key, _ := kv.Key.(*ast.Ident)
		if key == nil {
			continue
		}
		switch key.Name {
		case "Name":
			if lit, ok := kv.Value.(*ast.BasicLit); ok {
				if s, ok := stringLit(lit); ok && strings.HasPrefix(s, "sluice_") {
					name = s
				}
			}
		case "ConstLabels":
			if m, ok := kv.Value.(*ast.CompositeLit); ok {
				for _, el := range m.Elts {
					if kv, ok := el.(*ast.KeyValueExpr); ok {
						if lit, ok := kv.Key.(*ast.BasicLit); ok {
							if s, ok := stringLit(lit); ok {
								constLabels = append(constLabels, s)
							}
						}
					}
				}
			}
		}
	}
	return name, kind, constLabels
}

// stringSlice returns the elements of a []string{"a", "b"} literal.
func stringSlice(e ast.Expr) []string {
	cl, ok := e.(*ast.CompositeLit)
	if !ok {
		return nil
	}
	at, ok := cl.Type.(*ast.ArrayType)
	if !ok {
		return nil
	}
	if id, ok := at.Elt.(*ast.Ident); !ok || id.Name != "string" {
		return nil
	}
	var out []string
	for _, el := range cl.Elts {
		if lit, ok := el.(*ast.BasicLit); ok {
			if s, ok := stringLit(lit); ok {
				out = append(out, s)
			}
		}
	}
	return out
}

func stringLit(lit *ast.BasicLit) (string, bool) {
	if lit.Kind != token.STRING {
		return "", false
	}
	s, err := strconv.Unquote(lit.Value)
	return s, err == nil
}

// sluiceCommands parses cmd/sluice and returns each subcommand of the
// `commands` map with the flag names it accepts.
func sluiceCommands(t *testing.T) map[string]map[string]bool {
	t.Helper()
	dir := filepath.Join(repoRoot, "cmd", "sluice")
	fset := token.NewFileSet()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	funcs := map[string]*ast.FuncDecl{}
	var cmdMap *ast.CompositeLit
	for _, e := range entries {
		if !strings.HasSuffix(e.Name(), ".go") || strings.HasSuffix(e.Name(), "_test.go") {
			continue
		}
		f, err := parser.ParseFile(fset, filepath.Join(dir, e.Name()), nil, 0)
		if err != nil {
			t.Fatal(err)
		}
		for _, d := range f.Decls {
			switch d := d.(type) {
			case *ast.FuncDecl:
				if d.Recv == nil {
					funcs[d.Name.Name] = d
				}
			case *ast.GenDecl:
				for _, s := range d.Specs {
					vs, ok := s.(*ast.ValueSpec)
					if !ok {
						continue
					}
					for i, n := range vs.Names {
						if n.Name == "commands" && i < len(vs.Values) {
							cmdMap, _ = vs.Values[i].(*ast.CompositeLit)
						}
					}
				}
			}
		}
	}
	if cmdMap == nil {
		t.Fatal("cmd/sluice has no `commands` map literal")
	}
	out := map[string]map[string]bool{}
	for _, el := range cmdMap.Elts {
		kv, ok := el.(*ast.KeyValueExpr)
		if !ok {
			continue
		}
		lit, ok := kv.Key.(*ast.BasicLit)
		if !ok {
			continue
		}
		name, _ := stringLit(lit)
		flags := map[string]bool{"h": true, "help": true}
		if fn, ok := kv.Value.(*ast.Ident); ok && funcs[fn.Name] != nil {
			collectFlags(funcs[fn.Name], funcs, flags, map[string]bool{})
		}
		out[name] = flags
	}
	if len(out) == 0 {
		t.Fatal("the commands map of cmd/sluice is empty")
	}
	return out
}

// flagDefiners are the flag.FlagSet methods that define a flag: the name is
// the first argument, or the second for the XxxVar forms.
var flagDefiners = map[string]int{
	"String": 0, "Int": 0, "Int64": 0, "Uint": 0, "Uint64": 0, "Float64": 0, "Bool": 0, "Duration": 0, "Func": 0, "BoolFunc": 0,
	"StringVar": 1, "IntVar": 1, "Int64Var": 1, "UintVar": 1, "Uint64Var": 1, "Float64Var": 1, "BoolVar": 1, "DurationVar": 1, "TextVar": 1, "Var": 1,
}

// collectFlags adds the flags fn defines, following calls into other
// functions of package main. A flag whose name is not a literal (defined in
// a loop over a map) adds every string key of fn's map literals.
func collectFlags(fn *ast.FuncDecl, funcs map[string]*ast.FuncDecl, flags, seen map[string]bool) {
	if seen[fn.Name.Name] || fn.Body == nil {
		return
	}
	seen[fn.Name.Name] = true
	dynamic := false
	ast.Inspect(fn.Body, func(n ast.Node) bool {
		call, ok := n.(*ast.CallExpr)
		if !ok {
			return true
		}
		switch f := call.Fun.(type) {
		case *ast.SelectorExpr:
			if i, ok := flagDefiners[f.Sel.Name]; ok && len(call.Args) > i {
				if lit, ok := call.Args[i].(*ast.BasicLit); ok {
					if s, ok := stringLit(lit); ok {
						flags[s] = true
					}
				} else {
					dynamic = true
				}
			}
		case *ast.Ident:
			if callee := funcs[f.Name]; callee != nil {
				collectFlags(callee, funcs, flags, seen)
			}
		}
		return true
	})
	if dynamic {
		ast.Inspect(fn.Body, func(n ast.Node) bool {
			cl, ok := n.(*ast.CompositeLit)
			if !ok {
				return true
			}
			if _, ok := cl.Type.(*ast.MapType); !ok {
				return true
			}
			for _, el := range cl.Elts {
				if kv, ok := el.(*ast.KeyValueExpr); ok {
					if lit, ok := kv.Key.(*ast.BasicLit); ok {
						if s, ok := stringLit(lit); ok {
							flags[s] = true
						}
					}
				}
			}
			return true
		})
	}
}

// adminPaths returns the paths the admin package registers ("GET /healthz"
// patterns in its non-test files).
func adminPaths(files []goFile) map[string]bool {
	out := map[string]bool{}
	for _, gf := range files {
		if !strings.HasPrefix(gf.path, "admin/") {
			continue
		}
		ast.Inspect(gf.file, func(n ast.Node) bool {
			if lit, ok := n.(*ast.BasicLit); ok {
				if s, ok := stringLit(lit); ok {
					if method, path, ok := strings.Cut(s, " "); ok && method == "GET" && strings.HasPrefix(path, "/") {
						out[path] = true
					}
				}
			}
			return true
		})
	}
	return out
}

// embedPatterns returns the files matched by //go:embed directives of
// non-test files, relative to the repository root.
func embedPatterns(t *testing.T, files []goFile) []string {
	t.Helper()
	var out []string
	for _, gf := range files {
		for _, cg := range gf.file.Comments {
			for _, c := range cg.List {
				rest, ok := strings.CutPrefix(c.Text, "//go:embed ")
				if !ok {
					continue
				}
				for _, pat := range strings.Fields(rest) {
					pat = strings.TrimPrefix(pat, "all:")
					matches, err := filepath.Glob(filepath.Join(repoRoot, filepath.Dir(gf.path), pat))
					if err != nil || len(matches) == 0 {
						t.Errorf("%s: go:embed %s matches nothing", gf.path, pat)
					}
					for _, m := range matches {
						rel, _ := filepath.Rel(repoRoot, m)
						out = append(out, filepath.ToSlash(rel))
					}
				}
			}
		}
	}
	return out
}
