// Package soak measures whether a running sluice stays flat under
// sustained load: at a fixed interval it samples the resident memory of
// each process it is given (sluice dev, its redis-server, the producer),
// Redis's own used memory and key count, the disk use of the data
// directory, and the input and output topics' offsets (events in,
// predictions out, and the group's lag against its committed offsets). It
// prints one line per sample and, at the end, a verdict per series: memory
// flat after the warm-up, Redis under its limit. `sluice soak` (make soak)
// starts `sluice dev` and `sluice produce --labels` as child processes and
// hands them to Run.
package soak
