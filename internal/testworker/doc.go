// Package testworker is the sluice side of the test stack, on the servers
// internal/testkit starts: the embedded schema registry on a free port
// (StartRegistry, on schemas.Listen as `sluice dev` and the bench serve
// it), ONNX Runtime loaded once (InitRuntime), the demo model trained once
// per test binary (DemoModel), an environment of all of them with the
// demo topics (New, Attach), and a running worker with its admin server
// (Env.StartWorker, built by package worker as `sluice run` builds one).
// Like internal/testkit, only tests may import it.
package testworker
