// Package keyerr is the one style of sluice's configuration errors: the
// dotted YAML key, then what is wrong with its value, e.g.
//
//	pipeline.batch.max_delay: must not be negative, got -1s
//
// A package's Validate names its keys relative to its own config (New);
// whoever embeds that config under a key puts the key in front (Under),
// so the message a user reads names the key as sluice.yaml spells it.
package keyerr
