// Package faults proves sluice's delivery promise under faults: a worker
// process SIGKILLed or SIGTERMed mid-stream, the dev stack killed, the broker
// restarted, a rebalance, Redis down, inference slowed down, a batch that
// makes ONNX Runtime fail. Each test publishes events with known ids, reads
// back every prediction and dead letter, and counts them against that ledger
// (lost = published − seen, duplicates = seen − unique).
//
// The package holds tests only; the real servers come from internal/testkit
// and the worker is the real `sluice` binary or a real pipeline.Worker.
package faults
