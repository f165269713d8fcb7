// Package dlq names why an input record went to the dead-letter topic: the
// fixed set of dead-letter classes. A class is the value of a dead
// letter's sluice.error.class header and of the reason label of
// sluice_dead_letters_total, so the set is closed and every class is
// defined here once. The packages that find a record bad (schemas when it
// cannot be read, inference when it cannot become a tensor row, pipeline
// when it cannot be scored or its output cannot be written) return these
// values; consumers writes them into the dead letter.
//
// It has no dependencies, so that schemas and inference, which know
// nothing of Kafka, can share it with the packages that do.
package dlq
