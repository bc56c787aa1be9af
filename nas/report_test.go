package nas

import (
	"bytes"
	"fmt"
	"image/png"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestReportAndPlot(t *testing.T) {
	trials := runSearch(t, t.TempDir(), testConfig(StrategyEvolution, 20, 9), &fakeEval{})
	front := Front(trials)
	require.NotEmpty(t, front)
	for i := 1; i < len(front); i++ {
		require.Less(t, front[i-1].LatMs, front[i].LatMs)
		require.Less(t, front[i-1].Acc, front[i].Acc)
	}
	ref, err := RefNet("mbv3-like")
	require.NoError(t, err)
	finals := []FinalModel{
		{Name: "trial 3", Trial: 3, Genome: front[0].Genome, TestAcc: 0.9, LatMs: front[0].LatMs, ProxyAcc: front[0].Acc},
		{Name: "mbv3-like", Trial: -1, Genome: ref, Reference: true, TestAcc: 0.91, LatMs: front[0].LatMs / 2}, // faster than the trial: plotting sorts,
	}
	md := ReportInput{Title: "Run", Settings: []string{"seed: 9"}, Trials: trials, Finals: finals}.Markdown()
	require.Contains(t, md, "| mbv3-like |")
	require.Contains(t, md, "90.00%")
	require.Contains(t, md, "- seed: 9")
	require.Contains(t, md, "Pareto front")
	require.Contains(t, md, fmt.Sprintf("| %d | `%s` |", front[0].Index+1, front[0].Genome.Summary()), "trials are numbered from 1, as nasrun evolve prints them")

	path := filepath.Join(t.TempDir(), "pareto.png")
	before := slices.Clone(finals)
	require.NoError(t, PlotPareto(path, trials, finals))
	require.Equal(t, before, finals, "PlotPareto must leave its input's order alone")
	b, err := os.ReadFile(path)
	require.NoError(t, err)
	img, err := png.Decode(bytes.NewReader(b))
	require.NoError(t, err)
	require.Greater(t, img.Bounds().Dx(), 300)
}

func TestWriteJSONIsAtomic(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "x.json")
	require.NoError(t, WriteJSON(path, map[string]int{"a": 1}))
	require.NoError(t, WriteJSON(path, map[string]int{"a": 2}))
	b, err := os.ReadFile(path)
	require.NoError(t, err)
	require.JSONEq(t, `{"a":2}`, string(b))
	entries, err := os.ReadDir(dir)
	require.NoError(t, err)
	require.Len(t, entries, 1, "no temporary file left behind")
}
