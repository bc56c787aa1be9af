package nas

import (
	"encoding/json"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"
)

func trial(i int) Trial {
	g, err := RefNet("mbv3-like")
	if err != nil {
		panic(err)
	}
	return Trial{Index: i, ID: g.ID(), Genome: g, Parent: -1, Status: TrialOK,
		Acc: 0.5 + float64(i)/100, LatMs: 1, LatFrom: "measured", Reward: 0.5}
}

func TestTrialLogAppendAndReopen(t *testing.T) {
	dir := t.TempDir()
	l, got, err := OpenTrialLog(dir)
	require.NoError(t, err)
	require.Empty(t, got)
	for i := range 3 {
		require.NoError(t, l.Append(trial(i)))
	}
	require.NoError(t, l.Close())

	l, got, err = OpenTrialLog(dir)
	require.NoError(t, err)
	require.Len(t, got, 3)
	require.Equal(t, trial(2), got[2])
	require.NoError(t, l.Append(trial(3)))
	require.NoError(t, l.Close())
	all, err := ReadTrials(dir)
	require.NoError(t, err)
	require.Len(t, all, 4)
}

func TestTrialLogCutsTornLastLine(t *testing.T) {
	dir := t.TempDir()
	l, _, err := OpenTrialLog(dir)
	require.NoError(t, err)
	require.NoError(t, l.Append(trial(0)))
	require.NoError(t, l.Close())
	path := filepath.Join(dir, TrialLogName)
	good, err := os.ReadFile(path)
	require.NoError(t, err)
	b, _ := json.Marshal(trial(1))
	for cut := 1; cut < len(b); cut += 7 {
		require.NoError(t, os.WriteFile(path, append(append([]byte{}, good...), b[:cut]...), 0o644))
		l, got, err := OpenTrialLog(dir)
		require.NoError(t, err, "cut at %d", cut)
		require.Len(t, got, 1)
		require.NoError(t, l.Append(trial(1)))
		require.NoError(t, l.Close())
		all, err := ReadTrials(dir)
		require.NoError(t, err)
		require.Len(t, all, 2, "the torn line is replaced, not kept")
	}
}

func TestTrialLogRejectsCorruptMiddle(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, TrialLogName)
	a, _ := json.Marshal(trial(0))
	c, _ := json.Marshal(trial(1))
	require.NoError(t, os.WriteFile(path, []byte(string(a)+"\n{garbage\n"+string(c)+"\n"), 0o644))
	_, _, err := OpenTrialLog(dir)
	require.ErrorContains(t, err, "line 2")
	require.ErrorContains(t, err, "corrupt")

	require.NoError(t, os.WriteFile(path, []byte(string(c)+"\n"), 0o644))
	_, _, err = OpenTrialLog(dir)
	require.ErrorContains(t, err, "trial 1 where trial 0 was expected")

	require.NoError(t, os.WriteFile(path, []byte(`{"trial":0,"bogus":1}`+"\n"), 0o644))
	_, _, err = OpenTrialLog(dir)
	require.ErrorContains(t, err, `unknown field "bogus"`)
}
