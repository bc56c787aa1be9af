package asm

import (
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"
)

// TestNEONGenerated: the committed NEON assembly and its generated binding
// are what the _gen/neon*.go generators write (edit a generator, then run
// it from kernels/asm).
func TestNEONGenerated(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the generators with the go tool")
	}
	goTool, err := exec.LookPath("go")
	if err != nil {
		t.Skip("no go tool on PATH")
	}
	dir := t.TempDir()
	for _, gen := range []string{"neongemm.go", "neonelt.go", "neondw.go"} {
		cmd := exec.Command(goTool, "run", filepath.Join("_gen", gen), "-o", dir)
		// Build the generator for the host even when this test runs
		// under qemu with GOARCH set for the target.
		cmd.Env = append(os.Environ(), "GOOS=", "GOARCH=", "GOARM=")
		out, err := cmd.CombinedOutput()
		require.NoError(t, err, "%s: %s", gen, out)
	}
	for _, name := range []string{"gemm_neon_arm64.s", "eltwise_neon_arm64.s", "dwconv_neon_arm64.s", "dwconv_arm64.go"} {
		want, err := os.ReadFile(filepath.Join(dir, name))
		require.NoError(t, err)
		got, err := os.ReadFile(name)
		require.NoError(t, err)
		require.True(t, string(want) == string(got), "%s differs from its generator's output", name)
	}
}
