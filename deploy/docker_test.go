package deploy_test

import (
	"encoding/json"
	"net/url"
	"os"
	"path"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// dockerEnv returns the ENV of a Dockerfile's final stage.
func dockerEnv(t *testing.T, rel string) map[string]string {
	t.Helper()
	env := map[string]string{}
	for _, in := range parseDockerfile(t, rel) {
		switch in.cmd {
		case "FROM":
			env = map[string]string{}
		case "ENV":
			fields := strings.Fields(in.args)
			if len(fields) > 0 && !strings.Contains(fields[0], "=") {
				env[fields[0]] = strings.Join(fields[1:], " ")
				continue
			}
			for _, f := range fields {
				k, v, _ := strings.Cut(f, "=")
				env[k] = strings.Trim(v, `"`)
			}
		}
	}
	return env
}

func goModVersion(t *testing.T) string {
	t.Helper()
	for _, line := range strings.Split(string(readRepoFile(t, "go.mod")), "\n") {
		if v, ok := strings.CutPrefix(strings.TrimSpace(line), "go "); ok {
			return strings.TrimSpace(v)
		}
	}
	t.Fatal("go.mod has no go directive")
	return ""
}

// pinnedORT returns the default ONNX Runtime version of the fetch script
// and the sha256 it pins for each version.
func pinnedORT(t *testing.T) (version string, sha map[string]string) {
	t.Helper()
	script := string(readRepoFile(t, fetchORTScript))
	m := regexp.MustCompile(`version="\$\{ORT_VERSION:-([0-9.]+)\}"`).FindStringSubmatch(script)
	if m == nil {
		t.Fatalf("%s: no default ORT_VERSION found", fetchORTScript)
	}
	sha = map[string]string{}
	for _, p := range regexp.MustCompile(`(?m)^\s*([0-9.]+)\)\s*want="([0-9a-f]{64})"`).FindAllStringSubmatch(script, -1) {
		sha[p[1]] = p[2]
	}
	if sha[m[1]] == "" {
		t.Fatalf("%s pins no sha256 for its default version %s", fetchORTScript, m[1])
	}
	return m[1], sha
}

var argRef = regexp.MustCompile(`\$\{?([A-Za-z_][A-Za-z0-9_]*)\}?`)

// dockerfileFacts is what TestDockerfiles checks of one Dockerfile.
type dockerfileFacts struct {
	args        map[string]string // ARG defaults
	copies      map[string]string // destination → source of COPY from the context
	fromCopies  []string          // destinations of COPY --from
	verifies    bool              // a RUN checks a sha256
	expose      []string
	healthcheck []string
	user        string
	entrypoint  []string
	cmd         []string
}

func checkDockerfile(t *testing.T, rel string, ignore dockerIgnore) dockerfileFacts {
	t.Helper()
	f := dockerfileFacts{args: map[string]string{}, copies: map[string]string{}}
	stages := map[string]bool{}
	expand := func(s string) string {
		return argRef.ReplaceAllStringFunc(s, func(m string) string { return f.args[argRef.FindStringSubmatch(m)[1]] })
	}
	jsonArgs := func(in dfInstr, s string) []string {
		var out []string
		if err := json.Unmarshal([]byte(s), &out); err != nil {
			t.Errorf("%s:%d: %s must be a JSON array (exec form): %v", rel, in.line, in.cmd, err)
		}
		return out
	}
	for _, in := range parseDockerfile(t, rel) {
		fields := strings.Fields(in.args)
		switch in.cmd {
		case "ARG":
			if name, def, ok := strings.Cut(in.args, "="); ok {
				f.args[name] = def
			}
		case "FROM":
			var rest []string
			for _, fl := range fields {
				if !strings.HasPrefix(fl, "--") {
					rest = append(rest, fl)
				}
			}
			image := expand(rest[0])
			isStage := stages[image]
			if len(rest) == 3 && strings.EqualFold(rest[1], "AS") {
				stages[rest[2]] = true
			}
			if isStage {
				continue
			}
			name, tag, _ := strings.Cut(image, ":")
			if tag == "" || tag == "latest" {
				t.Errorf("%s:%d: base image %q is not pinned to a tag", rel, in.line, image)
			}
			if name == "golang" {
				if v, _, _ := strings.Cut(tag, "-"); v != goModVersion(t) {
					t.Errorf("%s:%d: builds with Go %s, go.mod says go %s", rel, in.line, v, goModVersion(t))
				}
			}
		case "COPY":
			var from bool
			var paths []string
			for _, fl := range fields {
				if strings.HasPrefix(fl, "--from=") {
					from = true
				} else if !strings.HasPrefix(fl, "--") {
					paths = append(paths, fl)
				}
			}
			dest := expand(paths[len(paths)-1])
			if from {
				f.fromCopies = append(f.fromCopies, dest)
				continue
			}
			for _, src := range paths[:len(paths)-1] {
				if !exists(src) {
					t.Errorf("%s:%d: COPY %s: no such file in the repository", rel, in.line, src)
				}
				if src != "." && ignore.excluded(src) {
					t.Errorf("%s:%d: COPY %s, but .dockerignore leaves it out of the context", rel, in.line, src)
				}
				f.copies[dest] = src
			}
		case "RUN":
			f.verifies = f.verifies || strings.Contains(in.args, "sha256sum -c")
			if strings.Contains(in.args, "go build") || strings.Contains(in.args, "go run") {
				for _, pkg := range regexp.MustCompile(`\s(\./[\w./-]+)`).FindAllStringSubmatch(in.args, -1) {
					if matches, _ := filepath.Glob(filepath.Join(repoRoot, pkg[1], "*.go")); len(matches) == 0 {
						t.Errorf("%s:%d: builds %s, which has no Go files", rel, in.line, pkg[1])
					}
				}
			}
		case "EXPOSE":
			for _, p := range fields {
				f.expose = append(f.expose, strings.TrimSuffix(p, "/tcp"))
			}
		case "HEALTHCHECK":
			_, cmd, ok := strings.Cut(in.args, "CMD ")
			if !ok {
				t.Errorf("%s:%d: HEALTHCHECK without CMD", rel, in.line)
			}
			f.healthcheck = jsonArgs(in, cmd)
		case "USER":
			f.user = in.args
		case "ENTRYPOINT":
			f.entrypoint = jsonArgs(in, in.args)
		case "CMD":
			f.cmd = jsonArgs(in, in.args)
		}
	}
	return f
}

func TestDockerfiles(t *testing.T) {
	ignore := parseDockerIgnore(t, ".dockerignore")
	ortVersion, ortSHA := pinnedORT(t)
	adminPort := portOf(t, loadConfig(t, exampleConfig, nil).Admin.Addr)
	envNames := configEnvNames()
	for _, rel := range []string{"Dockerfile", "Dockerfile.cuda"} {
		t.Run(rel, func(t *testing.T) {
			f := checkDockerfile(t, rel, ignore)
			env := dockerEnv(t, rel)
			if f.args["ORT_VERSION"] != ortVersion {
				t.Errorf("ORT_VERSION %q, %s pins %s", f.args["ORT_VERSION"], fetchORTScript, ortVersion)
			}
			if !f.verifies {
				t.Error("no RUN verifies the ONNX Runtime library with sha256sum -c")
			}
			cuda := strings.HasSuffix(rel, ".cuda")
			if !cuda && f.args["ORT_SHA256"] != ortSHA[ortVersion] {
				t.Errorf("ORT_SHA256 %q, %s pins %s for %s", f.args["ORT_SHA256"], fetchORTScript, ortSHA[ortVersion], ortVersion)
			}
			if want := map[bool]string{true: "cuda", false: ""}[cuda]; env["SLUICE_INFERENCE_PROVIDER"] != want {
				t.Errorf("SLUICE_INFERENCE_PROVIDER=%q, want %q", env["SLUICE_INFERENCE_PROVIDER"], want)
			}
			lib := env["ONNXRUNTIME_LIB"]
			covered := false
			for _, d := range f.fromCopies {
				covered = covered || lib == d || strings.HasPrefix(lib, strings.TrimSuffix(d, "/")+"/")
			}
			if lib == "" || !covered {
				t.Errorf("ONNXRUNTIME_LIB=%q is not where a COPY --from puts the library (%v)", lib, f.fromCopies)
			}
			for k, v := range env {
				if strings.HasPrefix(k, "SLUICE_") && !envNames[k] {
					t.Errorf("ENV %s is no config key's variable", k)
				}
				if k == "SLUICE_ADMIN_ADDR" && portOf(t, v) != adminPort {
					t.Errorf("ENV SLUICE_ADMIN_ADDR=%s, %s says port %s", v, exampleConfig, adminPort)
				}
			}
			if env["SLUICE_ADMIN_ADDR"] == "" {
				t.Error("the image must set SLUICE_ADMIN_ADDR to listen on all interfaces")
			}
			if len(f.expose) != 1 || f.expose[0] != adminPort {
				t.Errorf("EXPOSE %v, want the admin port %s", f.expose, adminPort)
			}
			var hcURL string
			for _, a := range f.healthcheck {
				if strings.HasPrefix(a, "http://") {
					hcURL = a
				}
			}
			if u, err := url.Parse(hcURL); err != nil || u.Port() != adminPort || u.Path != "/healthz" {
				t.Errorf("HEALTHCHECK %v, want /healthz on port %s", f.healthcheck, adminPort)
			}
			if f.user == "" || strings.HasPrefix(f.user, "0") || strings.Trim(f.user, "0123456789:") != "" {
				t.Errorf("USER %q, want a numeric non-root uid:gid (Kubernetes runAsNonRoot needs a number)", f.user)
			}
			if len(f.entrypoint) != 1 || path.Base(f.entrypoint[0]) != "sluice" {
				t.Errorf("ENTRYPOINT %v, want [\"sluice\"]", f.entrypoint)
			}
			_, flags := checkSluiceArgs(t, rel+" CMD", f.cmd)
			if src := f.copies[flags["config"]]; src != exampleConfig {
				t.Errorf("CMD reads --config %s, which is not a COPY of %s", flags["config"], exampleConfig)
			}
		})
	}
}

func TestDockerIgnore(t *testing.T) {
	ignore := parseDockerIgnore(t, ".dockerignore")
	files := repoGo(t)
	need := []string{"go.mod", "go.sum", fetchORTScript, exampleConfig, "deploy/demomodel/main.go"}
	for _, gf := range files {
		need = append(need, gf.path)
	}
	need = append(need, embedPatterns(t, files)...)
	for _, p := range need {
		if ignore.excluded(p) {
			t.Errorf(".dockerignore leaves out %s, which the image build needs", p)
		}
	}
	for _, p := range []string{".git/config", "bin/sluice", "docker-compose.yml"} {
		if !ignore.excluded(p) {
			t.Errorf(".dockerignore should leave out %s", p)
		}
	}
	if _, err := os.Stat(filepath.Join(repoRoot, "deploy/demomodel/main.go")); err != nil {
		t.Error(err)
	}
}
