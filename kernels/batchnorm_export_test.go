package kernels

// SetBNFused turns batch norm's fused kernels on or off and returns a
// function that restores the setting.
func SetBNFused(on bool) (restore func()) {
	old := bnFused
	bnFused = on
	return func() { bnFused = old }
}
