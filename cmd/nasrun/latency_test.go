package main

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"testing"

	"github.com/nasrun/nasrun/latency"
	"github.com/nasrun/nasrun/nas"
	"github.com/stretchr/testify/require"
)

// runOK runs nasrun with args and returns its output, failing on an error.
func runOK(t *testing.T, args ...string) string {
	t.Helper()
	var out, errb bytes.Buffer
	require.Equal(t, 0, run(args, &out, &errb), errb.String())
	return out.String()
}

func TestLatencyRefNetText(t *testing.T) {
	out := runOK(t, "latency", "--refnet", "mbv3-like", "--runs", "3", "--warmup", "1", "--parts")
	require.Contains(t, out, "model:    mbv3-like")
	require.Contains(t, out, "latency:  median")
	require.Contains(t, out, "p90")
	require.Contains(t, out, "head_h7w7_c96-192-10_hswish")
	require.Contains(t, out, "sum of parts")
}

func TestLatencyArchJSON(t *testing.T) {
	g, err := nas.RefNet("ghost-like")
	require.NoError(t, err)
	path := filepath.Join(t.TempDir(), "g.json")
	require.NoError(t, g.Save(path))
	out := runOK(t, "latency", "--arch", path, "--runs", "4", "--warmup", "0", "--threads", "2", "--json")
	var r latencyResult
	require.NoError(t, json.Unmarshal([]byte(out), &r))
	require.Equal(t, g.ID(), r.ID)
	require.Equal(t, "local", r.Source)
	require.Equal(t, 4, r.Stats.Runs)
	require.Equal(t, 0, r.Stats.Warmup)
	require.Positive(t, r.Stats.MedianMs)
	require.LessOrEqual(t, r.Stats.MedianMs, r.Stats.P90Ms)
	require.Positive(t, r.MACs)
}

func TestLatencyModelAndTableCheck(t *testing.T) {
	g, err := nas.RefNet("mbv3-like")
	require.NoError(t, err)
	net, err := latency.BuildForLatency(g)
	require.NoError(t, err)
	dir := t.TempDir()
	model := filepath.Join(dir, "m.safetensors")
	require.NoError(t, net.Save(model))
	table := filepath.Join(dir, "table.json")
	out := runOK(t, "latency", "--model", model, "--runs", "2", "--warmup", "1", "--table-check", "2", "--table", table, "--json")
	var r latencyResult
	require.NoError(t, json.Unmarshal([]byte(out), &r))
	require.Equal(t, g.ID(), r.ID)
	require.NotNil(t, r.Table)
	require.Len(t, r.Table.Rows, 3)
	_, err = os.Stat(table)
	require.NoError(t, err, "the table is cached")
}

func TestLatencyFlagErrors(t *testing.T) {
	for _, args := range [][]string{
		{"latency"},
		{"latency", "--refnet", "mbv3-like", "--arch", "x.json"},
		{"latency", "--refnet", "nonesuch"},
		{"latency", "--arch", "/nonexistent/g.json"},
		{"latency", "--refnet", "mbv3-like", "--runs", "0"},
		{"latency", "--refnet", "mbv3-like", "extra"},
		{"latency-server", "--addr", "256.0.0.1:1"},
		{"latency-server", "--threads", "0"},
	} {
		var out, errb bytes.Buffer
		require.Equal(t, 1, run(args, &out, &errb), "%v", args)
		require.NotEmpty(t, errb.String(), "%v", args)
	}
	var out, errb bytes.Buffer
	require.Equal(t, 0, run([]string{"latency-server", "-h"}, &out, &errb))
}
