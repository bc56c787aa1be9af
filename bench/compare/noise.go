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

// foreign measures how much CPU the rest of the machine used while an
// engine ran: busy time of the machine minus the engine's own CPU time,
// as a fraction of one core.
type foreign struct {
	sum, peak float64
	n         int
}

func (f *foreign) measure(e *engine, run func() error) error {
	b0, c0, t0 := busyNs(), e.cpuTime(), time.Now()
	err := run()
	wall := time.Since(t0)
	other := float64(busyNs()-b0-(e.cpuTime()-c0)) / float64(wall)
	if other < 0 {
		other = 0
	}
	f.sum += other
	f.peak = max(f.peak, other)
	f.n++
	return err
}

func (f *foreign) mean() float64 { return f.sum / float64(max(f.n, 1)) }
