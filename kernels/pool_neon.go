package kernels

import "github.com/nasrun/nasrun/kernels/asm"

// poolNEON is the arm64 pooling kernel set (stand-ins elsewhere, never
// called: NEON is only Supported on arm64 builds with assembly).
var poolNEON = poolKernels{max: asm.MaxPoolNEON, avg: asm.AvgPoolNEON, maxBack: asm.MaxPoolBackNEON, avgBack: asm.AvgPoolBackNEON}
