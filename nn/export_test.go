package nn

// IsFused reports whether m, an MBConv or a Ghost bottleneck, has a fused
// training plan (built at its first training pass with SetFusedBlocks on).
func IsFused(m Module) bool {
	switch b := m.(type) {
	case *MBConv:
		return b.fused != nil
	case *GhostBottleneck:
		return b.fused != nil
	}
	return false
}
