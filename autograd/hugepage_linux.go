package autograd

import (
	"unsafe"

	"golang.org/x/sys/unix"
)

// hugePage is the size of a transparent huge page on the platforms nasrun
// runs on (x86-64, and arm64 with 4 KB base pages).
const hugePage = 2 << 20

// adviseHugePages asks the kernel to back the 2 MB-aligned part of b with
// transparent huge pages (madvise MADV_HUGEPAGE). It is advice: a kernel
// without them, or with them off, ignores it or fails, and nothing changes.
// It must run before b's pages are first touched, as for a fresh slab.
func adviseHugePages(b []float32) {
	if len(b)*4 < hugePage {
		return
	}
	p := uintptr(unsafe.Pointer(&b[0]))
	lo := (p + hugePage - 1) &^ (hugePage - 1)
	hi := (p + uintptr(len(b))*4) &^ (hugePage - 1)
	if hi <= lo {
		return
	}
	_ = unix.Madvise(unsafe.Slice((*byte)(unsafe.Add(unsafe.Pointer(&b[0]), lo-p)), hi-lo), unix.MADV_HUGEPAGE)
}
