package main

import (
	"bufio"
	"context"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/nasrun/nasrun/latency"
	"github.com/nasrun/nasrun/nas"
	"github.com/stretchr/testify/require"
)

// TestLatencyServerArm64EndToEnd builds nasrun for linux/arm64, runs its
// latency server under qemu-aarch64-static on 127.0.0.1 (a free port the
// server picks), and measures a real genome through latency.Client from
// this amd64 process: the path a search takes to a phone or board. The
// numbers are emulated, so only their sanity is checked.
func TestLatencyServerArm64EndToEnd(t *testing.T) {
	if runtime.GOOS != "linux" || runtime.GOARCH != "amd64" {
		t.Skipf("end-to-end arm64 test runs on a linux/amd64 host (this is %s/%s)", runtime.GOOS, runtime.GOARCH)
	}
	qemu, err := exec.LookPath("qemu-aarch64-static")
	if err != nil {
		t.Skip("qemu-aarch64-static is not installed (Debian: apt-get install qemu-user-static)")
	}
	goBin, err := exec.LookPath("go")
	if err != nil {
		goBin = filepath.Join(runtime.GOROOT(), "bin", "go")
	}

	start := time.Now()
	bin := filepath.Join(t.TempDir(), "nasrun-arm64")
	build := exec.Command(goBin, "build", "-o", bin, ".")
	build.Env = append(os.Environ(), "GOOS=linux", "GOARCH=arm64", "CGO_ENABLED=0")
	out, err := build.CombinedOutput()
	require.NoError(t, err, "building nasrun for linux/arm64:\n%s", out)
	t.Logf("built in %s", time.Since(start).Round(time.Millisecond))

	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	srv := exec.CommandContext(ctx, qemu, bin, "latency-server", "--addr", "127.0.0.1:0", "--runs", "3", "--warmup", "1", "--quiet")
	stdout, err := srv.StdoutPipe()
	require.NoError(t, err)
	var stderr strings.Builder
	srv.Stderr = &stderr
	require.NoError(t, srv.Start())
	exited := make(chan error, 1)
	lines := bufio.NewScanner(stdout)
	// First line: "listening on http://127.0.0.1:PORT (linux/arm64 …)".
	first := make(chan string, 1)
	go func() {
		var rest []string
		if lines.Scan() {
			first <- lines.Text()
		}
		close(first)
		for lines.Scan() {
			rest = append(rest, lines.Text())
		}
		exited <- srv.Wait()
	}()
	stopped := false
	defer func() {
		if !stopped {
			_ = srv.Process.Kill()
			<-exited
		}
	}()

	var line string
	select {
	case line = <-first:
	case <-time.After(2 * time.Minute):
		t.Fatalf("the server printed no address in 2 minutes; stderr:\n%s", stderr.String())
	}
	require.True(t, strings.HasPrefix(line, "listening on http://"), "first line %q; stderr:\n%s", line, stderr.String())
	base := strings.Fields(strings.TrimPrefix(line, "listening on "))[0]
	u, err := url.Parse(base)
	require.NoError(t, err)
	require.Equal(t, "127.0.0.1", u.Hostname(), "the server must listen on loopback only")
	require.Contains(t, line, "linux/arm64")

	c := latency.Client{URL: base}
	// /healthz: wait until it answers (emulated start-up is slow).
	var dev latency.Device
	require.Eventually(t, func() bool {
		dev, err = c.Device(ctx)
		return err == nil
	}, time.Minute, 100*time.Millisecond, "healthz never answered")
	require.Equal(t, "arm64", dev.Arch)
	require.Equal(t, "linux", dev.OS)
	t.Logf("server up at %s after %s", base, time.Since(start).Round(time.Millisecond))

	g, err := nas.RefNet("mbv3-like")
	require.NoError(t, err)
	st, err := c.Measure(ctx, g, latency.Options{Runs: 2, Warmup: 1})
	require.NoError(t, err)
	require.Equal(t, 2, st.Runs)
	require.Equal(t, 1, st.Threads)
	require.Equal(t, "arm64", st.Device.Arch)
	require.Positive(t, st.MinMs)
	require.LessOrEqual(t, st.MinMs, st.MedianMs)
	require.LessOrEqual(t, st.MedianMs, st.P90Ms)
	t.Logf("mbv3-like under emulation: %s (after %s)", st, time.Since(start).Round(time.Millisecond))

	// The search's calibrated measurement: candidate and reference in turn
	// on the device.
	ghost, err := nas.RefNet("ghost-like")
	require.NoError(t, err)
	gs, rs, err := c.MeasurePair(ctx, ghost, g, latency.Options{Runs: 2, Warmup: 1})
	require.NoError(t, err)
	require.Equal(t, 2, gs.Runs)
	require.Equal(t, "arm64", rs.Device.Arch)
	require.Positive(t, gs.MedianMs)
	require.Positive(t, rs.MedianMs)

	bad := g.Clone()
	bad.Stages[0].Expand = 4
	_, err = c.Measure(ctx, bad, latency.Options{Runs: 1})
	require.ErrorContains(t, err, "stages[0].expand")
	require.True(t, latency.IsBadRequest(err))

	// SIGTERM: a graceful shutdown and a clean exit.
	require.NoError(t, srv.Process.Signal(syscall.SIGTERM))
	select {
	case err := <-exited:
		stopped = true
		require.NoError(t, err, "stderr:\n%s", stderr.String())
	case <-time.After(time.Minute):
		t.Fatal("the server did not stop within a minute of SIGTERM")
	}
}
