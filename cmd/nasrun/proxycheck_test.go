package main

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestProxyCheck(t *testing.T) {
	skipShort(t)
	dataDir := fakeData(t, 300, 60)
	args := []string{"proxy-check", "--data", dataDir, "--nets", "2", "--references", "ghost-like", "--seeds", "2",
		"--proxy-images", "128", "--val-images", "60", "--proxy-batch", "32", "--max-layers", "1", "--threads", "1"}
	stdout, stderr, code := nasrun(args...)
	require.Equal(t, 0, code, stderr)
	require.Contains(t, stdout, "proxy check: 3 networks × 2 training seeds")
	for _, name := range []string{"ghost-like", "random 1", "random 2"} {
		require.Regexp(t, `(?m)^  `+name+` .* MACs +\d+\.\d\d +\d+\.\d\d +mean +\d+\.\d\d% +sd \d+\.\d\d$`, stdout)
	}
	require.Regexp(t, `intraclass correlation ICC\(1\): -?\d\.\d\d`, stdout)
	require.Regexp(t, `Kendall τ -?\d\.\d\d on average`, stdout)
	require.Contains(t, stdout, "verdict: ")
	// The seeds make the results reproducible; the progress lines, printed
	// at most every 10 s to a pipe, depend on the clock and are left out.
	again, _, _ := nasrun(args...)
	require.Equal(t, withoutProgress(stdout), withoutProgress(again))

	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"--seeds", "1"}, "--seeds must be at least 2"},
		{[]string{"--nets", "1", "--references", "none"}, "at least 2 networks"},
		{[]string{"--references", "resnet"}, "resnet"},
		{[]string{"--data", "/nonexistent/data"}, "apt-get install dataset-fashion-mnist"},
	} {
		_, stderr, code := nasrun(append([]string{"proxy-check", "--data", dataDir}, c.args...)...)
		require.Equal(t, 1, code, "%v", c.args)
		require.Contains(t, stderr, c.want, "%v", c.args)
	}
	require.NotContains(t, stdout, "NaN")
}

// withoutProgress drops the progress-bar lines from a command's output.
func withoutProgress(out string) string {
	var kept []string
	for _, line := range strings.Split(out, "\n") {
		if !strings.ContainsAny(line, "█░") {
			kept = append(kept, line)
		}
	}
	return strings.Join(kept, "\n")
}
