//go:build race

package kernels_test

// raceEnabled: the race detector makes sync.Pool drop items at random, so
// pooled scratch is allocated again and allocation counts mean nothing.
const raceEnabled = true
