package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log"
	"net"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/nasrun/nasrun/latency"
)

func init() {
	register(command{name: "latency-server", summary: "answer latency requests over HTTP (run it on the phone or board)", run: runLatencyServer})
}

func runLatencyServer(args []string, stdout io.Writer) error {
	fs := newFlags("latency-server", "[flags]",
		`Runs on the phone or board and measures genomes' latency for a search on
another machine (nasrun evolve --latency-server http://HOST:PORT):

  GET  /healthz   {"ok": true, "device": {...}}
  POST /measure   a genome JSON in, the measurement JSON out
                  (query: threads, runs, warmup, no_pin)
  POST /parts     the same, per part (stem, blocks, head), for the lookup table

Requests are measured one at a time, so they never disturb each other. A bad
genome gets 400 with the reason, a body over --max-body 413.

The default address, 127.0.0.1, answers this machine only: to reach it from
the search machine, either forward the port (adb forward tcp:8765 tcp:8765, or
ssh -L 8765:127.0.0.1:8765 board) or listen on the network with
--addr 0.0.0.0:8765, which lets anyone who can reach the device use it (no
authentication): do that only on a network you trust. Port 0 picks a free
port; the first line printed gives the address. SIGINT or SIGTERM shuts the
server down after the measurement in progress.`)
	var lf latencyFlags
	addr := fs.String("addr", latency.DefaultAddr, "`HOST:PORT` to listen on (0.0.0.0 exposes the server to the network)")
	fs.IntVar(&lf.threads, "threads", 1, "default kernel threads (a request's threads= overrides)")
	fs.IntVar(&lf.runs, "runs", latency.DefaultRuns, "default timed runs (a request's runs= overrides)")
	fs.IntVar(&lf.warmup, "warmup", latency.DefaultWarmup, "default warm-up runs (a request's warmup= overrides)")
	fs.BoolVar(&lf.noPin, "no-pin", false, "do not pin the measuring thread to a CPU")
	maxBody := fs.Int64("max-body", latency.DefaultMaxBody, "largest request body in `bytes`")
	maxRuns := fs.Int("max-runs", latency.DefaultMaxRuns, "most runs (and warm-up runs) a request may ask for")
	maxMMACs := fs.Int64("max-mmacs", latency.DefaultMaxMMACs, "refuse genomes over this many million multiply-adds")
	quiet := fs.Bool("quiet", false, "do not log requests (to stderr)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("unexpected argument %q", fs.Arg(0))
	}
	if lf.threads < 1 || lf.runs < 1 || lf.warmup < 0 || *maxBody < 1 || *maxRuns < 1 || *maxMMACs < 1 {
		return errors.New("--threads, --runs, --max-body, --max-runs and --max-mmacs must be at least 1, --warmup at least 0")
	}
	s := latency.NewServer(lf.options())
	s.MaxBody, s.MaxRuns, s.MaxMMACs = *maxBody, *maxRuns, *maxMMACs
	if !*quiet {
		s.Log = log.New(os.Stderr, "latency-server: ", log.LstdFlags)
	}
	l, err := net.Listen("tcp", *addr)
	if err != nil {
		return err
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	d := latency.ThisDevice()
	fmt.Fprintf(stdout, "listening on http://%s (%s/%s %s, kernels %s)\n", l.Addr(), d.OS, d.Arch, d.CPU, d.Kernels)
	err = s.Serve(ctx, l, 30*time.Second)
	fmt.Fprintln(stdout, "latency-server: stopped")
	return err
}
