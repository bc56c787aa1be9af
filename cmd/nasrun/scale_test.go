package main

import (
	"encoding/json"
	"math"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestScaleGrid(t *testing.T) {
	all := scaleGrid(100)
	require.Greater(t, len(all), 5)
	for _, g := range all {
		require.GreaterOrEqual(t, g[0], 1.0)
		require.GreaterOrEqual(t, g[1], 1.0)
		require.GreaterOrEqual(t, g[2], 1.0)
		require.InDelta(t, 2, g[0]*g[1]*g[1]*g[2]*g[2], 0.2, "%v", g)
	}
	few := scaleGrid(4)
	require.Len(t, few, 4)
	require.Equal(t, all[0], few[0])
	require.Equal(t, all[len(all)-1], few[3])
}

func TestScaleCommand(t *testing.T) {
	skipShort(t)
	dir := fakeData(t, 300, 50)
	out := filepath.Join(t.TempDir(), "scale")
	stdout, stderr, code := nasrun("scale", "--arch", tinyArch(t), "--data", dir, "--out", out, "--phi", "2", "--candidates", "2",
		"--proxy-images", "96", "--val-images", "48", "--proxy-batch", "32", "--latency-runs", "3", "--threads", "1")
	require.Equal(t, 0, code, stderr)
	require.Contains(t, stdout, "chosen α")
	var res scaleResult
	b, err := os.ReadFile(filepath.Join(out, "scale.json"))
	require.NoError(t, err)
	require.NoError(t, json.Unmarshal(b, &res))
	require.Len(t, res.Family, 3)
	for i, p := range res.Family {
		require.Equal(t, i, p.Phi)
		require.Empty(t, p.Error)
		require.InDelta(t, math.Pow(res.Gamma, float64(i)), p.Res, 1e-9)
		require.Greater(t, p.LatMs, 0.0)
		if i > 0 {
			require.Greater(t, p.MACs, res.Family[i-1].MACs, "each φ step grows the network")
			require.GreaterOrEqual(t, p.Genome.Input.H, res.Family[i-1].Genome.Input.H)
		}
	}
	md, err := os.ReadFile(filepath.Join(out, "scale.md"))
	require.NoError(t, err)
	require.Contains(t, string(md), "| φ |")
}
