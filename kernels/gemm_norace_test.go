//go:build !race

package kernels_test

const gemmRace = false
