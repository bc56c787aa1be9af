package main

import (
	"fmt"
	"io"
	"runtime"

	"github.com/klauspost/cpuid/v2"
	"github.com/nasrun/nasrun/kernels"
)

func init() {
	register(command{name: "info", summary: "show the CPU, the kernel implementations and the thread count", run: runInfo})
}

func runInfo(args []string, stdout io.Writer) error {
	fs := newFlags("info", "", "Prints what nasrun detected on this machine: CPU model and features, the kernel\nimplementations it can run (NASRUN_KERNELS forces one) and the default thread count.")
	if err := fs.Parse(args); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "cpu:       %s (%s/%s, %d logical cores)\n", cpuid.CPU.BrandName, runtime.GOOS, runtime.GOARCH, runtime.NumCPU())
	fmt.Fprintf(stdout, "caches:    L1d %d KiB, L2 %d KiB, L3 %d KiB\n", cpuid.CPU.Cache.L1D>>10, cpuid.CPU.Cache.L2>>10, cpuid.CPU.Cache.L3>>10)
	fmt.Fprintf(stdout, "kernels:   %v available, %s active\n", kernels.Available(), kernels.Active())
	fmt.Fprintf(stdout, "threads:   %d\n", kernels.Threads())
	return nil
}
