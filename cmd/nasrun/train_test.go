package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"runtime"
	"testing"

	"github.com/nasrun/nasrun/nas"
	"github.com/stretchr/testify/require"
)

func TestTrainCommand(t *testing.T) {
	skipShort(t)
	dir := fakeData(t, 512, 128)
	out := filepath.Join(t.TempDir(), "run")
	args := []string{"train", "--arch", tinyArch(t), "--data", dir, "--epochs", "2", "--batch", "32", "--lr", "0.1", "--val", "64", "--out", out, "--threads", "1"}
	stdout, stderr, code := nasrun(args...)
	require.Equal(t, 0, code, stderr)
	require.Contains(t, stdout, "epoch 2/2")
	require.Contains(t, stdout, "val acc")
	require.Contains(t, stdout, "test accuracy")

	var sum trainSummary
	b, err := os.ReadFile(filepath.Join(out, "summary.json"))
	require.NoError(t, err)
	require.NoError(t, json.Unmarshal(b, &sum))
	require.Greater(t, sum.TestAcc, 0.6, "three textures are easy to tell apart")
	require.Len(t, sum.Result.EpochValAcc, 2)
	if runtime.GOOS != "windows" {
		require.Greater(t, sum.PeakRSS, int64(1<<20), "peak RSS is reported")
	}
	require.Contains(t, stdout, "peak RSS ")

	net, g, err := nas.LoadNetwork(filepath.Join(out, "model.safetensors"))
	require.NoError(t, err)
	require.Equal(t, "tiny", g.Name)
	require.Equal(t, 10, net.Classes)

	// Resuming a finished run trains nothing more and reports the same.
	stdout, stderr, code = nasrun(append(args, "--resume")...)
	require.Equal(t, 0, code, stderr)
	require.NotContains(t, stdout, "epoch 1/2")
}

func TestTrainErrors(t *testing.T) {
	_, stderr, code := nasrun("train", "--refnet", "mbv3-like", "--data", filepath.Join(t.TempDir(), "nowhere"))
	require.Equal(t, 1, code)
	require.Contains(t, stderr, "apt-get install dataset-fashion-mnist")
	require.NoDirExists(t, "runs", "a run that cannot start must not leave its default output directory behind")

	_, stderr, _ = nasrun("train")
	require.Contains(t, stderr, "--arch FILE.json or --refnet NAME")
	_, stderr, _ = nasrun("train", "--refnet", "mbv3-like", "--resume")
	require.Contains(t, stderr, "--resume needs --out")
	_, stderr, _ = nasrun("train", "--refnet", "mbv3-like", "--lr", "-1")
	require.Contains(t, stderr, "learning rate")
	bad := filepath.Join(t.TempDir(), "bad.json")
	require.NoError(t, os.WriteFile(bad, []byte(`{"version": 1, "stages": "x"}`), 0o644))
	_, stderr, _ = nasrun("train", "--arch", bad)
	require.Contains(t, stderr, bad)
}
