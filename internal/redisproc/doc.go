// Package redisproc runs the real redis-server as a child process: on a
// loopback port, its files in a directory of the caller's, dying with its
// parent even when the parent is SIGKILLed. It is the one way sluice starts
// a redis-server: the tests (internal/testkit: no persistence, a password
// when asked, killed and restarted for outages), the benchmark (no
// persistence) and `sluice dev` (append-only file and snapshots in the
// data directory, a server left behind by a crashed run replaced).
package redisproc
