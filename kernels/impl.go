// Package kernels is nasrun's compute layer: SGEMM, depthwise and dense
// convolution, pooling, activations, batch norm and the small elementwise
// ops, forward and backward, on raw float32 slices in NHWC layout; and
// Block, a training block of convolutions and batch norms run as fused
// passes over chunks of images (block.go).
//
// Every kernel has a pure-Go reference (Ref) and, where the CPU allows,
// assembly implementations from package kernels/asm. The implementation is
// chosen once at start-up from the CPU's features and can be forced with the
// environment variable NASRUN_KERNELS=ref|avx2|avx512|neon (for tests,
// benchmarks and bug reports). Work is split over one package-level worker
// pool sized by GOMAXPROCS (see SetThreads).
//
// Kernels panic on inconsistent sizes: they are the lowest level, and
// package tensor turns shape mistakes into errors before calling them.
package kernels

import (
	"fmt"
	"os"
	"strings"

	"github.com/nasrun/nasrun/kernels/asm"
)

// Impl names one implementation of the kernel set.
type Impl uint8

// The implementations. Ref is pure Go and exists on every target.
const (
	Ref Impl = iota
	AVX2
	AVX512
	NEON
	numImpls
)

var implNames = [numImpls]string{"ref", "avx2", "avx512", "neon"}

func (i Impl) String() string {
	if i < numImpls {
		return implNames[i]
	}
	return fmt.Sprintf("Impl(%d)", uint8(i))
}

// ParseImpl parses an implementation name as NASRUN_KERNELS spells it.
func ParseImpl(s string) (Impl, error) {
	for i, n := range implNames {
		if strings.EqualFold(strings.TrimSpace(s), n) {
			return Impl(i), nil
		}
	}
	return 0, fmt.Errorf("kernels: unknown implementation %q (want one of %s)", s, strings.Join(implNames[:], ", "))
}

// Supported reports whether this build and this CPU can run implementation i.
func Supported(i Impl) bool {
	switch i {
	case Ref:
		return true
	case AVX2:
		return asm.HasAVX2
	case AVX512:
		return asm.HasAVX512
	case NEON:
		return asm.HasNEON
	}
	return false
}

// Available lists the implementations this build and CPU support, Ref first
// and the best last.
func Available() []Impl {
	var out []Impl
	for i := Ref; i < numImpls; i++ {
		if Supported(i) {
			out = append(out, i)
		}
	}
	return out
}

// Best returns the fastest implementation this build and CPU support.
func Best() Impl {
	a := Available()
	return a[len(a)-1]
}

// active is read by every kernel call; it is written only at init and by
// SetImpl, which is not safe to call while kernels run on other goroutines.
var active Impl

func init() {
	active = Best()
	if s, ok := os.LookupEnv("NASRUN_KERNELS"); ok && s != "" {
		i, err := ParseImpl(s)
		if err != nil {
			panic("NASRUN_KERNELS: " + err.Error())
		}
		if !Supported(i) {
			panic(fmt.Sprintf("NASRUN_KERNELS=%s: not supported by this build or CPU (available: %v)", i, Available()))
		}
		active = i
	}
}

// Active returns the implementation kernels currently use.
func Active() Impl { return active }

// SetImpl switches every kernel to implementation i and returns the previous
// one. It panics if i is not Supported. It must not be called while kernels
// run concurrently; tests and benchmarks use it to cover every implementation
// in one run.
func SetImpl(i Impl) Impl {
	if !Supported(i) {
		panic(fmt.Sprintf("kernels: implementation %s not supported here (available: %v)", i, Available()))
	}
	prev := active
	active = i
	return prev
}
