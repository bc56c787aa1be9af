package kernels

// SetGemmBlocking overrides the cache blocking (tests use tiny blocks to
// reach every edge of the blocked loops on small matrices) and returns a
// function that restores it.
func SetGemmBlocking(kc, nc int) (restore func()) {
	okc, onc := gemmKC, gemmNC
	gemmKC, gemmNC = kc, nc
	return func() { gemmKC, gemmNC = okc, onc }
}

// SetGemmDirectA turns reading A in place on or off and returns a function
// that restores the setting.
func SetGemmDirectA(on bool) (restore func()) {
	old := gemmDirectA
	gemmDirectA = -1
	if on {
		gemmDirectA = 1
	}
	return func() { gemmDirectA = old }
}

// SetGemmDirectB turns reading B in place on or off and returns a function
// that restores the setting.
func SetGemmDirectB(on bool) (restore func()) {
	old := gemmDirectB
	gemmDirectB = -1
	if on {
		gemmDirectB = 1
	}
	return func() { gemmDirectB = old }
}
