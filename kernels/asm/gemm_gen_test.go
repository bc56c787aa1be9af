package asm

import (
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"
)

// TestGemmGenerated: the committed GEMM assembly is what _gen/gemmgen.go
// writes (edit the generator, then go generate).
func TestGemmGenerated(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the generator with the go tool")
	}
	goTool, err := exec.LookPath("go")
	if err != nil {
		t.Skip("no go tool on PATH")
	}
	dir := t.TempDir()
	cmd := exec.Command(goTool, "run", "_gen/gemmgen.go", "-o", dir)
	// Build the generator for the host even when this test runs under
	// qemu with GOARCH set for the target.
	cmd.Env = append(os.Environ(), "GOOS=", "GOARCH=", "GOARM=")
	out, err := cmd.CombinedOutput()
	require.NoError(t, err, "%s", out)
	for _, name := range []string{"gemm_avx2_amd64.s", "gemm_avx512_amd64.s"} {
		want, err := os.ReadFile(filepath.Join(dir, name))
		require.NoError(t, err)
		got, err := os.ReadFile(name)
		require.NoError(t, err)
		require.True(t, string(want) == string(got), "%s differs from the generator's output: run go generate ./kernels/asm", name)
	}
}
