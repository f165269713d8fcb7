// Package deploy holds the production shape of sluice: the Kubernetes and
// KEDA manifests (kubernetes/), the Prometheus scrape config and alert rules
// (prometheus/), the Grafana provisioning and dashboard (grafana/), and the
// example worker config (sluice.yaml). The Dockerfiles, .dockerignore and
// docker-compose.yml at the repository root belong to it too.
//
// No Docker engine or cluster runs where the tests do, so the package's
// tests parse every one of those files and cross-check what they refer to:
// metric names against those the Go code exports, sluice subcommands
// against cmd/sluice, mounted files against the tree, ports against the
// admin address, probes against the admin server's paths, KEDA's replica
// bound against the topic's partitions, and the pinned ONNX Runtime
// checksum against scripts/fetch-onnxruntime.sh. The package has no
// non-test code; deploy/demomodel is the small command the Dockerfiles run
// to bake the demo model into the images.
package deploy
