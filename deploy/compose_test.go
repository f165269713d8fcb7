package deploy_test

import (
	"net"
	"net/url"
	"path"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"
)

func composeServices(t *testing.T) map[string]map[string]any {
	t.Helper()
	out := map[string]map[string]any{}
	for name, s := range mapOf(yamlMap(t, composeFile)["services"]) {
		out[name] = mapOf(s)
	}
	if len(out) == 0 {
		t.Fatalf("%s has no services", composeFile)
	}
	return out
}

type mount struct {
	source, target string
	bind           bool
}

func composeMounts(svc map[string]any) []mount {
	var out []mount
	for _, v := range list(svc["volumes"]) {
		switch x := v.(type) {
		case string:
			parts := strings.Split(x, ":")
			if len(parts) < 2 {
				continue
			}
			src := parts[0]
			out = append(out, mount{src, parts[1], strings.HasPrefix(src, ".") || strings.HasPrefix(src, "/")})
		case map[string]any:
			out = append(out, mount{str(x["source"]), str(x["target"]), str(x["type"]) == "bind"})
		}
	}
	return out
}

// repoPathIn maps a path inside svc's container to the repository file
// bind-mounted there.
func repoPathIn(svc map[string]any, inContainer string) (string, bool) {
	for _, m := range composeMounts(svc) {
		if !m.bind {
			continue
		}
		if inContainer == m.target || strings.HasPrefix(inContainer, m.target+"/") {
			return filepath.ToSlash(filepath.Join(m.source, strings.TrimPrefix(inContainer, m.target))), true
		}
	}
	return "", false
}

func envMap(v any) map[string]string {
	out := map[string]string{}
	switch x := v.(type) {
	case map[string]any:
		for k, v := range x {
			out[k] = str(v)
		}
	case []any:
		for _, e := range x {
			k, v, _ := strings.Cut(str(e), "=")
			out[k] = v
		}
	}
	return out
}

func envFiles(svc map[string]any) []string {
	switch x := svc["env_file"].(type) {
	case string:
		return []string{x}
	case []any:
		var out []string
		for _, e := range x {
			if m, ok := e.(map[string]any); ok {
				out = append(out, str(m["path"]))
			} else {
				out = append(out, str(e))
			}
		}
		return out
	}
	return nil
}

// serviceEnv is a compose service's environment: env_file entries, then
// environment.
func serviceEnv(t *testing.T, svc map[string]any) map[string]string {
	t.Helper()
	env := map[string]string{}
	for _, f := range envFiles(svc) {
		for k, v := range envFile(t, f) {
			env[k] = v
		}
	}
	for k, v := range envMap(svc["environment"]) {
		env[k] = v
	}
	return env
}

func isSluiceImage(image string) bool {
	name, _, _ := strings.Cut(image, ":")
	return name == "sluice" || name == "sluice-cuda"
}

// cmdFlags splits sluice arguments into the subcommand and its flags
// (-x, --x, --x=v, --x v).
func cmdFlags(args []string) (sub string, flags map[string]string) {
	flags = map[string]string{}
	if len(args) == 0 {
		return "", flags
	}
	for i := 1; i < len(args); i++ {
		a := args[i]
		if !strings.HasPrefix(a, "-") {
			continue
		}
		name, val, ok := strings.Cut(strings.TrimLeft(a, "-"), "=")
		if !ok && i+1 < len(args) && !strings.HasPrefix(args[i+1], "-") {
			val = args[i+1]
			i++
		}
		flags[name] = val
	}
	return args[0], flags
}

// checkSluiceArgs fails when a sluice command line uses a subcommand or a
// flag that cmd/sluice does not have.
func checkSluiceArgs(t *testing.T, where string, args []string) (sub string, flags map[string]string) {
	t.Helper()
	commands := sluiceCommands(t)
	sub, flags = cmdFlags(args)
	known, ok := commands[sub]
	if !ok {
		t.Errorf("%s: sluice has no subcommand %q (it has %v)", where, sub, sortedKeys(commands))
		return sub, flags
	}
	for f := range flags {
		if !known[f] {
			t.Errorf("%s: `sluice %s` has no flag -%s", where, sub, f)
		}
	}
	return sub, flags
}

func sortedKeys[V any](m map[string]V) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}

var topicLine = regexp.MustCompile(`--topic[ =]+"?([^\s"]+)"?\s+--partitions[ =]+"?([^\s"]+)"?`)

// scriptTopics finds `--topic T --partitions P` in a shell script and
// resolves P from env when it is a variable; dollar is how the file writes
// a shell variable ("$$" in compose, "$" in Kubernetes args).
func scriptTopics(t *testing.T, where, script, dollar string, env map[string]string) map[string]int {
	t.Helper()
	out := map[string]int{}
	for _, m := range topicLine.FindAllStringSubmatch(script, -1) {
		p := m[2]
		if name, ok := strings.CutPrefix(p, dollar); ok {
			name = strings.Trim(name, "{}")
			v, ok := env[name]
			if !ok {
				t.Errorf("%s: --partitions %s, but %s is not in its environment", where, p, name)
				continue
			}
			p = v
		} else if strings.Contains(p, "$") {
			t.Errorf("%s: --partitions %s: write shell variables as %sNAME here", where, p, dollar)
			continue
		}
		out[m[1]] = atoi(t, where+" --partitions", p)
	}
	if len(out) == 0 {
		t.Errorf("%s: creates no topics", where)
	}
	return out
}

func checkHostIsService(t *testing.T, where, hostport string, services map[string]map[string]any) {
	t.Helper()
	if u, err := url.Parse(hostport); err == nil && u.Host != "" {
		hostport = u.Host
	}
	host, _, err := net.SplitHostPort(hostport)
	if err != nil {
		host = hostport
	}
	if services[host] == nil && host != "localhost" {
		t.Errorf("%s: %q is not a compose service", where, host)
	}
}

func TestCompose(t *testing.T) {
	services := composeServices(t)
	volumes := mapOf(yamlMap(t, composeFile)["volumes"])
	for name, svc := range services {
		image := str(svc["image"])
		if b := svc["build"]; b != nil {
			ctx, dockerfile := str(dig(b, "context")), str(dig(b, "dockerfile"))
			if dockerfile == "" {
				dockerfile = "Dockerfile"
			}
			if !exists(filepath.Join(ctx, dockerfile)) {
				t.Errorf("service %s builds %s in %s, which does not exist", name, dockerfile, ctx)
			}
			if isSluiceImage(image) && (filepath.Clean(ctx) != "." || dockerfile != "Dockerfile") {
				t.Errorf("service %s: image %s must be built from ./Dockerfile", name, image)
			}
		} else if isSluiceImage(image) {
			t.Errorf("service %s uses image %s without building it from the Dockerfile", name, image)
		} else if _, tag, ok := strings.Cut(image, ":"); !ok || tag == "" || tag == "latest" {
			t.Errorf("service %s: image %q is not pinned to a tag", name, image)
		}
		for _, m := range composeMounts(svc) {
			if m.bind && !exists(m.source) {
				t.Errorf("service %s mounts %s, which does not exist", name, m.source)
			}
			if _, declared := volumes[m.source]; !m.bind && !declared {
				t.Errorf("service %s uses volume %s, not declared under volumes:", name, m.source)
			}
		}
		for _, f := range envFiles(svc) {
			if !exists(f) {
				t.Errorf("service %s reads env_file %s, which does not exist", name, f)
			}
		}
		for dep, cond := range mapOf(svc["depends_on"]) {
			d := services[dep]
			switch c := str(dig(cond, "condition")); {
			case d == nil:
				t.Errorf("service %s depends on %s, which does not exist", name, dep)
			case c == "service_healthy" && d["healthcheck"] == nil && !isSluiceImage(str(d["image"])):
				t.Errorf("service %s waits for %s to be healthy, which has no healthcheck", name, dep)
			case c == "service_completed_successfully" && str(d["restart"]) != "no":
				t.Errorf("service %s waits for %s to complete, which must have restart: \"no\"", name, dep)
			}
		}
		for k := range envMap(svc["environment"]) {
			if strings.HasPrefix(k, "SLUICE_") && !configEnvNames()[k] {
				t.Errorf("service %s sets %s, which is no config key's variable", name, k)
			}
		}
		if isSluiceImage(image) {
			checkComposeWorker(t, name, svc, services)
		}
	}
}

func checkComposeWorker(t *testing.T, name string, svc map[string]any, services map[string]map[string]any) {
	t.Helper()
	where := "compose service " + name
	sub, flags := checkSluiceArgs(t, where, strList(svc["command"]))
	for _, f := range []string{"brokers", "registry-url"} {
		if v, ok := flags[f]; ok {
			for _, hp := range strings.Split(v, ",") {
				checkHostIsService(t, where+" --"+f, hp, services)
			}
		}
	}
	if sub != "run" {
		return
	}
	cfgPath, ok := flags["config"]
	repoCfg, mounted := repoPathIn(svc, cfgPath)
	if !ok || !mounted || repoCfg != exampleConfig {
		t.Fatalf("%s: run --config %q must be %s mounted from the repository", where, cfgPath, exampleConfig)
	}
	env := imageEnv(t, "Dockerfile")
	for k, v := range envMap(svc["environment"]) {
		env = append(env, k+"="+v)
	}
	c := loadConfig(t, repoCfg, env)
	for _, b := range c.Kafka.Brokers {
		checkHostIsService(t, where+" kafka.brokers", b, services)
		host, _, _ := net.SplitHostPort(b)
		if !strings.Contains(str(dig(services[host], "environment", "KAFKA_ADVERTISED_LISTENERS")), "://"+b) {
			t.Errorf("%s: broker %s is not an advertised listener of service %s", where, b, host)
		}
	}
	checkHostIsService(t, where+" registry.url", c.Registry.URL, services)
	checkHostIsService(t, where+" redis.url", c.Redis.URL, services)
	if grace, err := time.ParseDuration(str(svc["stop_grace_period"])); err != nil || grace <= c.Pipeline.ShutdownGrace {
		t.Errorf("%s: stop_grace_period %q must be above pipeline.shutdown_grace %s", where, str(svc["stop_grace_period"]), c.Pipeline.ShutdownGrace)
	}
	port := portOf(t, c.Admin.Addr)
	hc := strList(dig(svc, "healthcheck", "test"))
	if len(hc) == 0 {
		t.Errorf("%s: a worker needs a healthcheck", where)
	}
	for _, a := range hc {
		if u, err := url.Parse(a); err == nil && u.Scheme == "http" {
			if u.Port() != port || !adminPaths(repoGo(t))[u.Path] || (u.Path != "/readyz" && u.Path != "/healthz") {
				t.Errorf("%s: healthcheck %s, want /readyz or /healthz on the admin port %s", where, a, port)
			}
		}
	}
	job := prometheusJobs(t)[sluiceJob]
	for _, sd := range list(job["dns_sd_configs"]) {
		if str(dig(sd, "port")) != port {
			t.Errorf("%s scrapes the workers on port %s, the admin server listens on %s", prometheusFile, str(dig(sd, "port")), port)
		}
		for _, n := range strList(dig(sd, "names")) {
			if services[n] == nil {
				t.Errorf("%s: job %s resolves %q, which is not a compose service", prometheusFile, sluiceJob, n)
			}
		}
	}
	topics := composeTopics(t, services)
	for _, tp := range neededTopics(c) {
		if topics[tp] == 0 {
			t.Errorf("the compose topic init does not create %s", tp)
		}
	}
	for _, rt := range c.Effective() {
		in := rt.Pipeline.InputTopic
		if r := dig(svc, "deploy", "replicas"); r != nil && atoi(t, where+" replicas", r) > topics[in] {
			t.Errorf("%s: %v replicas, more than the %d partitions of %s", where, r, topics[in], in)
		}
	}
}

// composeTopics returns the topics the compose init service creates.
func composeTopics(t *testing.T, services map[string]map[string]any) map[string]int {
	t.Helper()
	for name, svc := range services {
		script := strings.Join(append(strList(svc["entrypoint"]), strList(svc["command"])...), "\n")
		if strings.Contains(script, "kafka-topics.sh") {
			return scriptTopics(t, "compose service "+name, script, "$$", serviceEnv(t, svc))
		}
	}
	t.Fatalf("no service of %s runs kafka-topics.sh", composeFile)
	return nil
}

func TestComposeMonitoring(t *testing.T) {
	services := composeServices(t)
	jobs := prometheusJobs(t)
	for job, sc := range jobs {
		for _, st := range list(sc["static_configs"]) {
			for _, target := range strList(dig(st, "targets")) {
				checkHostIsService(t, prometheusFile+" job "+job, target, services)
			}
		}
	}
	var prom, graf map[string]any
	for _, svc := range services {
		switch name, _, _ := strings.Cut(str(svc["image"]), ":"); name {
		case "prom/prometheus":
			prom = svc
		case "grafana/grafana":
			graf = svc
		}
	}
	if prom == nil || graf == nil {
		t.Fatalf("%s needs a Prometheus and a Grafana service", composeFile)
	}
	_, flags := cmdFlags(append([]string{"prometheus"}, strList(prom["command"])...))
	cfg, ok := repoPathIn(prom, flags["config.file"])
	if !ok || cfg != prometheusFile {
		t.Errorf("Prometheus reads --config.file=%s, which is not %s", flags["config.file"], prometheusFile)
	}
	ruleFiles := strList(yamlMap(t, prometheusFile)["rule_files"])
	for _, rf := range ruleFiles {
		p, ok := repoPathIn(prom, path.Join(path.Dir(flags["config.file"]), rf))
		if !ok || !exists(p) {
			t.Errorf("Prometheus rule file %s is not mounted from the repository", rf)
		}
	}
	if !slices.ContainsFunc(ruleFiles, func(rf string) bool {
		p, _ := repoPathIn(prom, path.Join(path.Dir(flags["config.file"]), rf))
		return p == alertsFile
	}) {
		t.Errorf("Prometheus does not load %s", alertsFile)
	}
	for _, f := range []string{datasourceFile, dashProvFile} {
		inGrafana := "/etc/grafana/provisioning/" + strings.TrimPrefix(f, "deploy/grafana/provisioning/")
		if p, ok := repoPathIn(graf, inGrafana); !ok || p != f {
			t.Errorf("Grafana does not see %s at %s", f, inGrafana)
		}
	}
	dashDir := str(dig(yamlMap(t, dashProvFile), "providers", 0, "options", "path"))
	if p, ok := repoPathIn(graf, path.Join(dashDir, path.Base(dashboardFile))); !ok || p != dashboardFile {
		t.Errorf("the dashboard provider reads %s, where %s is not mounted", dashDir, dashboardFile)
	}
	if home := envMap(graf["environment"])["GF_DASHBOARDS_DEFAULT_HOME_DASHBOARD_PATH"]; home != "" {
		if p, ok := repoPathIn(graf, home); !ok || !exists(p) {
			t.Errorf("Grafana's home dashboard %s is not mounted", home)
		}
	}
	ds := str(dig(yamlMap(t, datasourceFile), "datasources", 0, "url"))
	checkHostIsService(t, datasourceFile, ds, services)
	if u, err := url.Parse(ds); err == nil {
		if _, err := strconv.Atoi(u.Port()); err != nil {
			t.Errorf("%s: datasource url %s has no port", datasourceFile, ds)
		}
	}
}
