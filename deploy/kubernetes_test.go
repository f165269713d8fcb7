package deploy_test

import (
	"os"
	"path"
	"path/filepath"
	"strings"
	"testing"

	"github.com/sluice-ml/sluice/config"
)

func kustomization(t *testing.T, dir string) map[string]any {
	t.Helper()
	return yamlMap(t, path.Join(dir, "kustomization.yaml"))
}

// generatorFiles maps each configMapGenerator of a kustomization to its
// files (key → repository path) and env files.
func generatorFiles(kz map[string]any, dir string) (files map[string]map[string]string, envs map[string][]string) {
	files, envs = map[string]map[string]string{}, map[string][]string{}
	for _, g := range list(kz["configMapGenerator"]) {
		name := str(dig(g, "name"))
		files[name] = map[string]string{}
		for _, f := range strList(dig(g, "files")) {
			key, p, ok := strings.Cut(f, "=")
			if !ok {
				key, p = path.Base(f), f
			}
			files[name][key] = path.Join(dir, p)
		}
		for _, e := range strList(dig(g, "envs")) {
			envs[name] = append(envs[name], path.Join(dir, e))
		}
	}
	return files, envs
}

// k8sObjects reads every resource of the base kustomization, keyed
// "Kind/name", and fails on manifests in base/ that it does not list.
func k8sObjects(t *testing.T) map[string]map[string]any {
	t.Helper()
	kz := kustomization(t, k8sBase)
	files, envs := generatorFiles(kz, k8sBase)
	listed := map[string]bool{path.Join(k8sBase, "kustomization.yaml"): true}
	for _, fs := range files {
		for _, p := range fs {
			listed[p] = true
		}
	}
	for _, es := range envs {
		for _, p := range es {
			listed[p] = true
		}
	}
	out := map[string]map[string]any{}
	for _, r := range strList(kz["resources"]) {
		rel := path.Join(k8sBase, r)
		listed[rel] = true
		docs, err := yamlDocs(readRepoFile(t, rel))
		if err != nil {
			t.Fatalf("%s: %v", rel, err)
		}
		for _, d := range docs {
			key := str(dig(d, "kind")) + "/" + str(dig(d, "metadata", "name"))
			if out[key] != nil {
				t.Errorf("%s: %s defined twice", rel, key)
			}
			out[key] = mapOf(d)
		}
	}
	entries, err := os.ReadDir(filepath.Join(repoRoot, k8sBase))
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		if p := path.Join(k8sBase, e.Name()); !e.IsDir() && !listed[p] {
			t.Errorf("%s is in %s but not in its kustomization.yaml", e.Name(), k8sBase)
		}
	}
	return out
}

func mustObj(t *testing.T, objs map[string]map[string]any, key string) map[string]any {
	t.Helper()
	o := objs[key]
	if o == nil {
		t.Fatalf("%s has no %s", k8sBase, key)
	}
	return o
}

// subsetOf fails unless every label of sel has the same value in labels.
func subsetOf(t *testing.T, what string, sel any, labels map[string]any) {
	t.Helper()
	if len(mapOf(sel)) == 0 {
		t.Errorf("%s: empty selector", what)
	}
	for k, v := range mapOf(sel) {
		if str(labels[k]) != str(v) {
			t.Errorf("%s: selector %s=%v does not match the worker pods", what, k, v)
		}
	}
}

func namedContainer(podSpec any, name string) map[string]any {
	for _, c := range list(dig(podSpec, "containers")) {
		if name == "" || str(dig(c, "name")) == name {
			return mapOf(c)
		}
	}
	return nil
}

// imageEnv is the SLUICE_* environment an image built from a Dockerfile
// sets, as NAME=value entries.
func imageEnv(t *testing.T, dockerfile string) []string {
	t.Helper()
	var out []string
	for k, v := range dockerEnv(t, dockerfile) {
		if strings.HasPrefix(k, "SLUICE_") {
			out = append(out, k+"="+v)
		}
	}
	return out
}

// literalEnv is a container's env entries that have a literal value.
func literalEnv(c map[string]any) []string {
	var out []string
	for _, e := range list(c["env"]) {
		if v, ok := mapOf(e)["value"]; ok {
			out = append(out, str(dig(e, "name"))+"="+str(v))
		}
	}
	return out
}

func checkProbe(t *testing.T, c map[string]any, probe, wantPath, adminPort string) {
	t.Helper()
	p := dig(c, probe, "httpGet")
	if p == nil {
		t.Errorf("container %s has no %s httpGet", str(c["name"]), probe)
		return
	}
	if got := str(dig(p, "path")); got != wantPath || !adminPaths(repoGo(t))[got] {
		t.Errorf("%s path %q, want %q (served by the admin server)", probe, got, wantPath)
	}
	port := str(dig(p, "port"))
	for _, cp := range list(c["ports"]) {
		if str(dig(cp, "name")) == port || str(dig(cp, "containerPort")) == port {
			if str(dig(cp, "containerPort")) != adminPort {
				t.Errorf("%s goes to port %s, the admin server listens on %s", probe, port, adminPort)
			}
			return
		}
	}
	t.Errorf("%s port %q is not a container port", probe, port)
}

func TestKubernetes(t *testing.T) {
	objs := k8sObjects(t)
	kz := kustomization(t, k8sBase)
	files, envs := generatorFiles(kz, k8sBase)
	if top := strList(kustomization(t, "deploy/kubernetes")["resources"]); len(top) != 1 || top[0] != "base" {
		t.Errorf("deploy/kubernetes/kustomization.yaml resources %v, want [base]", top)
	}
	ns := mustObj(t, objs, "Namespace/"+str(kz["namespace"]))
	if str(dig(ns, "metadata", "labels", "pod-security.kubernetes.io/enforce")) != "restricted" {
		t.Error("the namespace should enforce the restricted Pod Security Standard")
	}
	dep := mustObj(t, objs, "Deployment/sluice")
	podLabels := mapOf(dig(dep, "spec", "template", "metadata", "labels"))
	subsetOf(t, "Deployment selector", dig(dep, "spec", "selector", "matchLabels"), podLabels)
	if dig(dep, "spec", "replicas") != nil {
		t.Error("the Deployment sets replicas, which fights KEDA's HPA on every apply")
	}
	podSpec := dig(dep, "spec", "template", "spec")
	c := namedContainer(podSpec, "")
	if c == nil {
		t.Fatal("the Deployment has no container")
	}
	checkImageListed(t, kz, str(c["image"]), k8sBase)
	_, flags := checkSluiceArgs(t, "Deployment args", strList(c["args"]))
	cfgRel := configMapFileAt(t, podSpec, c, flags["config"], files)
	if cfgRel != k8sConfig {
		t.Fatalf("the Deployment reads --config %s from %q, want %s", flags["config"], cfgRel, k8sConfig)
	}
	cfg := loadConfig(t, k8sConfig, append(imageEnv(t, "Dockerfile"), literalEnv(c)...))
	adminPort := portOf(t, cfg.Admin.Addr)
	checkProbe(t, c, "readinessProbe", "/readyz", adminPort)
	checkProbe(t, c, "livenessProbe", "/healthz", adminPort)
	checkProbe(t, c, "startupProbe", "/healthz", adminPort)
	if dig(podSpec, "securityContext", "runAsNonRoot") != true || atoi(t, "runAsUser", dig(podSpec, "securityContext", "runAsUser")) == 0 {
		t.Error("the pod must run as a non-root uid")
	}
	sc := mapOf(c["securityContext"])
	if sc["allowPrivilegeEscalation"] != false || sc["readOnlyRootFilesystem"] != true || !strings.Contains(str(dig(sc, "capabilities", "drop")), "ALL") {
		t.Errorf("container securityContext %v is not locked down", sc)
	}
	for _, r := range []string{"requests/cpu", "requests/memory", "limits/memory"} {
		kind, res, _ := strings.Cut(r, "/")
		if dig(c, "resources", kind, res) == nil {
			t.Errorf("the container sets no resources.%s.%s", kind, res)
		}
	}
	if grace := atoi(t, "terminationGracePeriodSeconds", dig(podSpec, "terminationGracePeriodSeconds")); float64(grace) <= cfg.Pipeline.ShutdownGrace.Seconds() {
		t.Errorf("terminationGracePeriodSeconds %d is not above pipeline.shutdown_grace %s", grace, cfg.Pipeline.ShutdownGrace)
	}
	for _, e := range list(c["env"]) {
		if n := str(dig(e, "name")); strings.HasPrefix(n, "SLUICE_") && !configEnvNames()[n] {
			t.Errorf("env %s is no config key's variable", n)
		}
	}

	svc := mustObj(t, objs, "Service/sluice")
	subsetOf(t, "Service selector", dig(svc, "spec", "selector"), podLabels)
	for _, p := range list(dig(svc, "spec", "ports")) {
		if tp := str(dig(p, "targetPort")); tp != "admin" && tp != adminPort {
			t.Errorf("Service targetPort %s is not the admin port", tp)
		}
	}
	subsetOf(t, "PodDisruptionBudget selector", dig(mustObj(t, objs, "PodDisruptionBudget/sluice"), "spec", "selector", "matchLabels"), podLabels)
	pm := mustObj(t, objs, "PodMonitor/sluice")
	subsetOf(t, "PodMonitor selector", dig(pm, "spec", "selector", "matchLabels"), podLabels)
	if job := str(podLabels[str(dig(pm, "spec", "jobLabel"))]); job != sluiceJob {
		t.Errorf("PodMonitor jobLabel gives job %q; the alert rules and dashboard expect %q", job, sluiceJob)
	}
	for _, ep := range list(dig(pm, "spec", "podMetricsEndpoints")) {
		if str(dig(ep, "port")) != "admin" || !adminPaths(repoGo(t))[str(dig(ep, "path"))] {
			t.Errorf("PodMonitor endpoint %v is not the admin server's /metrics", ep)
		}
	}
	mustObj(t, objs, "PrometheusRule/sluice")

	partitions := checkTopicsJob(t, mustObj(t, objs, "Job/sluice-topics"), cfg.Kafka.Brokers, files, envs)
	checkScaledObject(t, mustObj(t, objs, "ScaledObject/sluice"), cfg.Effective(), strings.Join(cfg.Kafka.Brokers, ","), partitions)
	for _, tp := range neededTopics(cfg) {
		if partitions[tp] == 0 {
			t.Errorf("the topics Job does not create %s", tp)
		}
	}
	// The same topics as the compose stack's init, with the same partitions:
	// the loop's topics (model events, labels, shadow predictions, quality
	// reports) included.
	compose := composeTopics(t, composeServices(t))
	for tp, n := range compose {
		if partitions[tp] != n {
			t.Errorf("the topics Job creates %s with %d partitions, the compose init with %d", tp, partitions[tp], n)
		}
	}
	for tp := range partitions {
		if compose[tp] == 0 {
			t.Errorf("the topics Job creates %s, which the compose init does not", tp)
		}
	}
	checkGPUOverlay(t, c)
}

func checkImageListed(t *testing.T, kz map[string]any, image, dir string) {
	t.Helper()
	for _, im := range list(kz["images"]) {
		if str(dig(im, "name")) == image && str(dig(im, "newTag")) != "" {
			return
		}
	}
	t.Errorf("image %q has no images: entry with a newTag in %s/kustomization.yaml", image, dir)
}

// configMapFileAt returns the repository file a generated ConfigMap
// provides at path inside container c.
func configMapFileAt(t *testing.T, podSpec any, c map[string]any, inContainer string, files map[string]map[string]string) string {
	t.Helper()
	for _, m := range list(c["volumeMounts"]) {
		if str(dig(m, "mountPath")) != path.Dir(inContainer) {
			continue
		}
		for _, v := range list(dig(podSpec, "volumes")) {
			if str(dig(v, "name")) == str(dig(m, "name")) {
				return files[str(dig(v, "configMap", "name"))][path.Base(inContainer)]
			}
		}
	}
	return ""
}

func checkTopicsJob(t *testing.T, job map[string]any, brokers []string, files map[string]map[string]string, envs map[string][]string) map[string]int {
	t.Helper()
	podSpec := dig(job, "spec", "template", "spec")
	c := namedContainer(podSpec, "")
	env := map[string]string{}
	for _, ef := range list(c["envFrom"]) {
		name := str(dig(ef, "configMapRef", "name"))
		if _, ok := envs[name]; !ok {
			t.Errorf("the topics Job reads ConfigMap %q, which no env generator makes", name)
		}
		for _, f := range envs[name] {
			for k, v := range envFile(t, f) {
				env[k] = v
			}
		}
	}
	for _, kv := range literalEnv(c) {
		k, v, _ := strings.Cut(kv, "=")
		env[k] = v
	}
	if env["BOOTSTRAP"] != strings.Join(brokers, ",") {
		t.Errorf("the topics Job bootstraps from %q, %s says %v", env["BOOTSTRAP"], k8sConfig, brokers)
	}
	if dig(podSpec, "securityContext", "runAsNonRoot") != true {
		t.Error("the topics Job must run as non-root (the namespace enforces restricted)")
	}
	if _, tag, _ := strings.Cut(str(c["image"]), ":"); tag == "" || tag == "latest" {
		t.Errorf("the topics Job's image %q is not pinned", str(c["image"]))
	}
	script := strings.Join(append(strList(c["command"]), strList(c["args"])...), "\n")
	return scriptTopics(t, "topics Job", script, "$", env)
}

// checkScaledObject checks that the ScaledObject scales the worker, at
// most to the partitions of the route inputs with fewest, on one kafka
// trigger per route: its group and input topic, in the config's order.
func checkScaledObject(t *testing.T, so map[string]any, routes []config.RouteSpec, brokers string, partitions map[string]int) {
	t.Helper()
	if k, n := str(dig(so, "spec", "scaleTargetRef", "kind")), str(dig(so, "spec", "scaleTargetRef", "name")); (k != "" && k != "Deployment") || n != "sluice" {
		t.Errorf("ScaledObject scales %s/%s, not Deployment/sluice", k, n)
	}
	minR := atoi(t, "minReplicaCount", dig(so, "spec", "minReplicaCount"))
	maxR := atoi(t, "maxReplicaCount", dig(so, "spec", "maxReplicaCount"))
	if minR < 1 || minR > maxR {
		t.Errorf("ScaledObject replicas %d..%d", minR, maxR)
	}
	triggers := list(dig(so, "spec", "triggers"))
	if len(triggers) != len(routes) {
		t.Fatalf("ScaledObject has %d triggers, want one per route of %s (%d)", len(triggers), k8sConfig, len(routes))
	}
	for i, r := range routes {
		topic := r.Pipeline.InputTopic
		if p := partitions[topic]; p == 0 || maxR > p {
			t.Errorf("ScaledObject maxReplicaCount %d is above the %d partitions of %s", maxR, p, topic)
		}
		if str(dig(triggers[i], "type")) != "kafka" {
			t.Errorf("ScaledObject trigger %d is %v, want a kafka trigger", i, dig(triggers[i], "type"))
		}
		md := mapOf(dig(triggers[i], "metadata"))
		for k, want := range map[string]string{"consumerGroup": r.Pipeline.Group, "topic": topic, "bootstrapServers": brokers} {
			if str(md[k]) != want {
				t.Errorf("ScaledObject trigger %d: %s %q, route %s of %s says %q", i, k, str(md[k]), r.Name, k8sConfig, want)
			}
		}
		if atoi(t, "lagThreshold", md["lagThreshold"]) <= 0 {
			t.Errorf("ScaledObject trigger %d: lagThreshold must be positive", i)
		}
	}
}

func checkGPUOverlay(t *testing.T, base map[string]any) {
	t.Helper()
	kz := kustomization(t, gpuOverlay)
	if r := strList(kz["resources"]); len(r) != 1 || r[0] != "../base" {
		t.Errorf("%s resources %v, want [../base]", gpuOverlay, r)
	}
	var patched bool
	for _, p := range list(kz["patches"]) {
		rel := path.Join(gpuOverlay, str(dig(p, "path")))
		patch := yamlMap(t, rel)
		if str(patch["kind"]) != "Deployment" || str(dig(patch, "metadata", "name")) != "sluice" {
			continue
		}
		patched = true
		c := namedContainer(dig(patch, "spec", "template", "spec"), str(base["name"]))
		if c == nil {
			t.Fatalf("%s patches no container named %s", rel, str(base["name"]))
		}
		checkImageListed(t, kz, str(c["image"]), gpuOverlay)
		cfg := loadConfig(t, k8sConfig, append(imageEnv(t, "Dockerfile.cuda"), literalEnv(c)...))
		if cfg.Inference.Provider != "cuda" {
			t.Errorf("the GPU variant runs provider %q, want cuda", cfg.Inference.Provider)
		}
		if n := atoi(t, "nvidia.com/gpu", dig(c, "resources", "limits", "nvidia.com/gpu")); n < 1 {
			t.Errorf("the GPU variant requests %d GPUs", n)
		}
	}
	if !patched {
		t.Errorf("%s does not patch Deployment/sluice", gpuOverlay)
	}
}
