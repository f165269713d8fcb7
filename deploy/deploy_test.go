package deploy_test

import (
	"encoding/json"
	"io/fs"
	"path/filepath"
	"reflect"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/sluice-ml/sluice/config"
	"github.com/sluice-ml/sluice/quality"
	"github.com/sluice-ml/sluice/retrain"
)

// Files this package's tests read, relative to the repository root.
const (
	composeFile     = "docker-compose.yml"
	exampleConfig   = "deploy/sluice.yaml"
	alertsFile      = "deploy/prometheus/alerts.yml"
	prometheusFile  = "deploy/prometheus/prometheus.yml"
	dashboardFile   = "deploy/grafana/dashboards/sluice.json"
	datasourceFile  = "deploy/grafana/provisioning/datasources/prometheus.yml"
	dashProvFile    = "deploy/grafana/provisioning/dashboards/sluice.yml"
	k8sBase         = "deploy/kubernetes/base"
	k8sConfig       = "deploy/kubernetes/base/sluice.yaml"
	promRuleFile    = "deploy/kubernetes/base/prometheusrule.yaml"
	gpuOverlay      = "deploy/kubernetes/gpu"
	fetchORTScript  = "scripts/fetch-onnxruntime.sh"
	fetchGPUScript  = "scripts/fetch-onnxruntime-gpu.sh"
	sluiceJob       = "sluice" // Prometheus job of the workers
	dashboardWanted = "sluice_events_consumed_total sluice_predictions_produced_total kafka_consumergroup_lag " +
		"sluice_batch_size_bucket sluice_inference_seconds_bucket sluice_end_to_end_latency_seconds_bucket " +
		"sluice_dead_letters_total sluice_drift_score sluice_model_info sluice_retrain_events_total"
)

var (
	goOnce  sync.Once
	goFiles []goFile
)

// repoGo parses the repository's Go files once for all tests.
func repoGo(t *testing.T) []goFile {
	t.Helper()
	goOnce.Do(func() { goFiles = parseRepoGo(t) })
	if goFiles == nil {
		t.Fatal("the repository's Go files could not be parsed")
	}
	return goFiles
}

// foreignMetrics are the series the deploy files may use that sluice does
// not export, with the Prometheus job that provides them ("" for
// Prometheus itself) and their labels.
var foreignMetrics = map[string]struct {
	job    string
	labels []string
}{
	"up":                      {"", nil},
	"kafka_consumergroup_lag": {"kafka", []string{"consumergroup", "topic", "partition"}},
}

// targetLabels are added by Prometheus or the Operator to every series.
var targetLabels = set("job", "instance", "namespace", "pod", "container", "service", "endpoint")

func TestEveryFileParses(t *testing.T) {
	files := []string{composeFile}
	err := filepath.WalkDir(filepath.Join(repoRoot, "deploy"), func(path string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			rel, _ := filepath.Rel(repoRoot, path)
			files = append(files, filepath.ToSlash(rel))
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	var yamls, jsons int
	for _, f := range files {
		switch filepath.Ext(f) {
		case ".yaml", ".yml":
			yamls++
			docs, err := yamlDocs(readRepoFile(t, f))
			if err != nil {
				t.Errorf("%s: %v", f, err)
			} else if len(docs) == 0 {
				t.Errorf("%s: no YAML documents", f)
			}
		case ".json":
			jsons++
			var v any
			if err := json.Unmarshal(readRepoFile(t, f), &v); err != nil {
				t.Errorf("%s: %v", f, err)
			}
		case ".env":
			envFile(t, f)
		}
	}
	if yamls < 10 || jsons < 1 {
		t.Errorf("found %d YAML and %d JSON files under deploy/; the walk is broken", yamls, jsons)
	}
}

type promSource struct{ where, expr string }

func alertRules(t *testing.T) []map[string]any {
	t.Helper()
	var rules []map[string]any
	for _, g := range list(yamlMap(t, alertsFile)["groups"]) {
		for _, r := range list(dig(g, "rules")) {
			rules = append(rules, mapOf(r))
		}
	}
	if len(rules) == 0 {
		t.Fatalf("%s has no rules", alertsFile)
	}
	return rules
}

func dashboard(t *testing.T) map[string]any {
	t.Helper()
	var d map[string]any
	if err := json.Unmarshal(readRepoFile(t, dashboardFile), &d); err != nil {
		t.Fatalf("%s: %v", dashboardFile, err)
	}
	return d
}

// panels flattens the dashboard's panels, rows' nested panels included.
func panels(d map[string]any) []map[string]any {
	var out []map[string]any
	var walk func(l []any)
	walk = func(l []any) {
		for _, p := range l {
			out = append(out, mapOf(p))
			walk(list(dig(p, "panels")))
		}
	}
	walk(list(d["panels"]))
	return out
}

// promSources is every PromQL expression of the alert rules and the dashboard.
func promSources(t *testing.T) []promSource {
	t.Helper()
	var out []promSource
	for _, r := range alertRules(t) {
		out = append(out, promSource{alertsFile + " " + str(r["alert"]), str(r["expr"])})
	}
	for _, p := range panels(dashboard(t)) {
		for _, tg := range list(p["targets"]) {
			out = append(out, promSource{dashboardFile + " panel " + str(p["title"]), str(dig(tg, "expr"))})
		}
	}
	return out
}

func prometheusJobs(t *testing.T) map[string]map[string]any {
	t.Helper()
	jobs := map[string]map[string]any{}
	for _, sc := range list(yamlMap(t, prometheusFile)["scrape_configs"]) {
		jobs[str(dig(sc, "job_name"))] = mapOf(sc)
	}
	return jobs
}

// TestMetricNamesAreExported fails on any series in the alert rules or the
// dashboard that the Go code does not export (histogram suffixes allowed),
// and on labels those series do not have.
func TestMetricNamesAreExported(t *testing.T) {
	exported := exportedMetrics(t, repoGo(t))
	for _, want := range []string{"sluice_events_consumed_total", "sluice_batch_size"} {
		if exported[want] == nil || !exported[want].structured {
			t.Fatalf("the scan of the Go code did not find %s; it is broken", want)
		}
	}
	jobs := prometheusJobs(t)
	for _, src := range promSources(t) {
		e, err := parsePromQL(src.expr)
		if err != nil {
			t.Errorf("%s: %v", src.where, err)
			continue
		}
		if len(e.selectors) == 0 {
			t.Errorf("%s: %q selects no series", src.where, src.expr)
		}
		allowed, known := map[string]bool{}, true
		for l := range targetLabels {
			allowed[l] = true
		}
		for _, sel := range e.selectors {
			labels, structured, ok := seriesLabels(sel.metric, exported)
			if !ok {
				f, isForeign := foreignMetrics[sel.metric]
				switch {
				case !isForeign:
					t.Errorf("%s: series %q is not exported by the Go code (nor by a scraped exporter)", src.where, sel.metric)
				case f.job != "" && jobs[f.job] == nil:
					t.Errorf("%s: %s comes from job %q, which %s does not scrape", src.where, sel.metric, f.job, prometheusFile)
				}
				labels, structured = set(f.labels...), isForeign
			}
			known = known && structured
			for l := range labels {
				allowed[l] = true
			}
			for _, m := range sel.matchers {
				if structured && !labels[m.label] && !targetLabels[m.label] {
					t.Errorf("%s: %s has no label %q", src.where, sel.metric, m.label)
				}
			}
		}
		for _, l := range e.grouping {
			if known && !allowed[l] {
				t.Errorf("%s: groups by %q, which none of its series has", src.where, l)
			}
		}
	}
}

// seriesLabels resolves a series name (a histogram's _bucket, _sum and
// _count too) to the labels of the exported metric.
func seriesLabels(name string, exported map[string]*metricInfo) (labels map[string]bool, structured, ok bool) {
	if m := exported[name]; m != nil {
		return m.labels, m.structured, true
	}
	for _, suffix := range []string{"_bucket", "_sum", "_count"} {
		base, found := strings.CutSuffix(name, suffix)
		m := exported[base]
		if !found || m == nil || (m.structured && !m.histogram) {
			continue
		}
		labels = map[string]bool{}
		for l := range m.labels {
			labels[l] = true
		}
		if suffix == "_bucket" {
			labels["le"] = true
		}
		return labels, m.structured, true
	}
	return nil, false, false
}

func TestAlertRules(t *testing.T) {
	names := map[string]bool{}
	for _, r := range alertRules(t) {
		name := str(r["alert"])
		if name == "" || names[name] {
			t.Errorf("alert name %q is empty or repeated", name)
		}
		names[name] = true
		if sev := str(dig(r, "labels", "severity")); !slices.Contains([]string{"critical", "warning", "info"}, sev) {
			t.Errorf("%s: severity %q", name, sev)
		}
		if str(dig(r, "annotations", "summary")) == "" {
			t.Errorf("%s: no summary", name)
		}
		if f := str(r["for"]); f != "" {
			if _, err := time.ParseDuration(f); err != nil {
				t.Errorf("%s: for: %v", name, err)
			}
		}
	}
	rule := yamlMap(t, promRuleFile)
	if !reflect.DeepEqual(dig(rule, "spec", "groups"), yamlMap(t, alertsFile)["groups"]) {
		t.Errorf("%s spec.groups differ from the groups of %s", promRuleFile, alertsFile)
	}
	for _, name := range []string{"SluiceConsumerLagGrowing", "SluiceDeadLetterRateHigh", "SluiceNoPredictions", "SluiceDriftDetected", "SluicePartitionStuck", "SluiceTopicMissing"} {
		if !names[name] {
			t.Errorf("alert %s is missing", name)
		}
	}
}

// TestSeriesSelectorsMatchDeployment checks label values that must agree
// with the rest of the deployment: jobs that Prometheus scrapes, the
// consumer group and input topic of both configs.
func TestSeriesSelectorsMatchDeployment(t *testing.T) {
	jobs := prometheusJobs(t)
	if jobs[sluiceJob] == nil {
		t.Fatalf("%s has no job %q", prometheusFile, sluiceJob)
	}
	configs := []string{exampleConfig, k8sConfig}
	for _, src := range promSources(t) {
		e, err := parsePromQL(src.expr)
		if err != nil {
			continue // reported by TestMetricNamesAreExported
		}
		for _, sel := range e.selectors {
			for _, m := range sel.matchers {
				if m.op != "=" {
					continue
				}
				switch {
				case m.label == "job" && jobs[m.value] == nil:
					t.Errorf("%s: job %q is not scraped by %s", src.where, m.value, prometheusFile)
				case sel.metric == "kafka_consumergroup_lag" && m.label == "consumergroup":
					for _, c := range configs {
						if !slices.ContainsFunc(loadConfig(t, c, nil).Effective(), func(r config.RouteSpec) bool { return r.Pipeline.Group == m.value }) {
							t.Errorf("%s: consumergroup %q, but no route of %s has that group", src.where, m.value, c)
						}
					}
				case sel.metric == "kafka_consumergroup_lag" && m.label == "topic":
					for _, c := range configs {
						if !slices.ContainsFunc(loadConfig(t, c, nil).Effective(), func(r config.RouteSpec) bool { return r.Pipeline.InputTopic == m.value }) {
							t.Errorf("%s: topic %q, but no route of %s reads it", src.where, m.value, c)
						}
					}
				}
			}
			// A regular expression on the groups must match every route's.
			for _, m := range sel.matchers {
				if sel.metric != "kafka_consumergroup_lag" || m.label != "consumergroup" || m.op != "=~" {
					continue
				}
				re, err := regexp.Compile("^(?:" + m.value + ")$")
				if err != nil {
					t.Errorf("%s: consumergroup=~%q: %v", src.where, m.value, err)
					continue
				}
				for _, g := range []string{quality.DefaultGroup, retrain.DefaultGroup, retrain.DefaultLabelsGroup} {
					if re.MatchString(g) {
						t.Errorf("%s: consumergroup=~%q matches %s, which is no worker's", src.where, m.value, g)
					}
				}
				for _, c := range configs {
					for _, r := range loadConfig(t, c, nil).Effective() {
						if !re.MatchString(r.Pipeline.Group) {
							t.Errorf("%s: consumergroup=~%q does not match route %s's group %q in %s", src.where, m.value, r.Name, r.Pipeline.Group, c)
						}
					}
				}
			}
		}
	}
}

func TestDashboard(t *testing.T) {
	d := dashboard(t)
	if str(d["uid"]) == "" || str(d["title"]) == "" {
		t.Error("the dashboard needs a uid and a title")
	}
	dsUID := str(dig(yamlMap(t, datasourceFile), "datasources", 0, "uid"))
	vars := map[string]bool{}
	for _, v := range list(dig(d, "templating", "list")) {
		vars[str(dig(v, "name"))] = true
	}
	ids := map[string]bool{}
	used := map[string]bool{}
	for _, p := range panels(d) {
		title, id := str(p["title"]), str(p["id"])
		if ids[id] {
			t.Errorf("panel %q: id %s repeated", title, id)
		}
		ids[id] = true
		if w, h := dig(p, "gridPos", "w"), dig(p, "gridPos", "h"); w == nil || h == nil {
			t.Errorf("panel %q has no gridPos", title)
		}
		if p["type"] == "row" {
			continue
		}
		if uid := str(dig(p, "datasource", "uid")); uid != dsUID {
			t.Errorf("panel %q uses datasource %q, provisioned is %q", title, uid, dsUID)
		}
		if len(list(p["targets"])) == 0 {
			t.Errorf("panel %q has no queries", title)
		}
		for _, tg := range list(p["targets"]) {
			if uid := str(dig(tg, "datasource", "uid")); uid != "" && uid != dsUID {
				t.Errorf("panel %q: a query uses datasource %q", title, uid)
			}
			e, err := parsePromQL(str(dig(tg, "expr")))
			if err != nil {
				continue
			}
			for _, v := range e.variables {
				if !strings.HasPrefix(v, "__") && !vars[v] {
					t.Errorf("panel %q uses $%s, which the dashboard does not define", title, v)
				}
			}
			for _, s := range e.selectors {
				used[s.metric] = true
			}
		}
	}
	for _, m := range strings.Fields(dashboardWanted) {
		if !used[m] {
			t.Errorf("the dashboard does not show %s", m)
		}
	}
}

// TestConfigs loads both worker configs with the real loader and checks
// that they agree on what the shared files (alerts, dashboard, images)
// assume: the admin port, the group and the topics.
func TestConfigs(t *testing.T) {
	example := loadConfig(t, exampleConfig, nil)
	k8s := loadConfig(t, k8sConfig, nil)
	if a, b := portOf(t, example.Admin.Addr), portOf(t, k8s.Admin.Addr); a != b {
		t.Errorf("admin port %s in %s, %s in %s", a, exampleConfig, b, k8sConfig)
	}
	routes := func(c config.Config) (out [][]string) {
		for _, r := range c.Effective() {
			out = append(out, []string{r.Name, r.Pipeline.Group, r.Pipeline.InputTopic, r.Pipeline.OutputTopic, r.Pipeline.DLQTopic, r.Model.Name})
		}
		return out
	}
	if a, b := routes(example), routes(k8s); !reflect.DeepEqual(a, b) {
		t.Errorf("%s and %s serve different routes (name, group, topics, model): %v and %v", exampleConfig, k8sConfig, a, b)
	}
	if len(example.Routes) < 2 {
		t.Errorf("%s shows %d routes; the example is a two-route worker", exampleConfig, len(example.Routes))
	}
	for _, c := range []string{exampleConfig, k8sConfig} {
		if host, _, _ := strings.Cut(loadConfig(t, c, nil).Admin.Addr, ":"); host != "0.0.0.0" && host != "" {
			t.Errorf("%s: admin.addr must listen on all interfaces in a container, got host %q", c, host)
		}
	}
}
