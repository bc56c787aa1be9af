package kernels

// SetGemmBlocking overrides the cache blocking (tests use tiny blocks to
// reach every edge of the blocked loops on small matrices) and returns a
// function that restores it.
func SetGemmBlocking(kc, mc, nc int) (restore func()) {
	okc, omc, onc := gemmKC, gemmMC, gemmNC
	gemmKC, gemmMC, gemmNC = kc, mc, nc
	return func() { gemmKC, gemmMC, gemmNC = okc, omc, onc }
}

// GemmBlocking returns the cache blocking in use.
func GemmBlocking() (kc, mc, nc int) { return gemmKC, gemmMC, gemmNC }
