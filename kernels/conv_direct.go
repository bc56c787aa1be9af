package kernels

// convDirect runs the convolution with a direct (implicit-GEMM) kernel when
// the active implementation has one for g, and reports whether it did.
func convDirect(g *convGeom, x, w, bias, y []float32, act Act) bool { return false }
