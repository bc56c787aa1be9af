package main

import (
	"os"
	"strconv"
	"strings"
	"time"
)

// busyNs is the CPU time the whole machine has spent busy (every state but
// idle and iowait), from /proc/stat, in nanoseconds; 0 if unavailable.
func busyNs() int64 {
	b, err := os.ReadFile("/proc/stat")
	if err != nil {
		return 0
	}
	line, _, _ := strings.Cut(string(b), "\n")
	f := strings.Fields(line)
	var busy int64
	for i, s := range f[1:] {
		if i == 3 || i == 4 { // idle, iowait
			continue
		}
		v, _ := strconv.ParseInt(s, 10, 64)
		busy += v
	}
	return busy * int64(time.Second) / 100 // USER_HZ is 100 on Linux
}

// foreign measures how much CPU the rest of the machine used while the
// engines ran: busy time of the machine minus the engine's own CPU time, as
// a fraction of one core, over all measurements and per round (/proc/stat
// counts in 10 ms ticks, too coarse for one short measurement).
type foreign struct {
	other, wall           int64 // all rounds, ns
	roundOther, roundWall int64
	peak                  float64 // the worst round
}

func (f *foreign) measure(e *engine, run func() error) error {
	b0, c0, t0 := busyNs(), e.cpuTime(), time.Now()
	err := run()
	wall := int64(time.Since(t0))
	other := max(0, busyNs()-b0-(e.cpuTime()-c0))
	f.other += other
	f.wall += wall
	f.roundOther += other
	f.roundWall += wall
	return err
}

// endRound closes a round's account.
func (f *foreign) endRound() {
	if f.roundWall > 0 {
		f.peak = max(f.peak, float64(f.roundOther)/float64(f.roundWall))
	}
	f.roundOther, f.roundWall = 0, 0
}

func (f *foreign) mean() float64 { return float64(f.other) / float64(max(f.wall, 1)) }
