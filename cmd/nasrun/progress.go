package main

import (
	"fmt"
	"io"
	"os"
	"strings"
	"time"
)

// status prints a live one-line status to a terminal (rewritten in place)
// or, when the output is a file or a pipe, a plain line at most every
// interval so logs stay readable.
type status struct {
	w        io.Writer
	tty      bool
	interval time.Duration
	last     time.Time
	width    int // length of the line on screen, to blank it
}

func newStatus(w io.Writer) *status {
	tty := false
	if f, ok := w.(*os.File); ok {
		if fi, err := f.Stat(); err == nil && fi.Mode()&os.ModeCharDevice != 0 {
			tty = true
		}
	}
	return &status{w: w, tty: tty, interval: 10 * time.Second}
}

// update shows line; force prints it even between intervals (epoch ends).
func (s *status) update(line string, force bool) {
	if s.tty {
		pad := max(0, s.width-len(line))
		fmt.Fprintf(s.w, "\r%s%s", line, strings.Repeat(" ", pad))
		s.width = len(line)
		return
	}
	if force || time.Since(s.last) >= s.interval {
		fmt.Fprintln(s.w, line)
		s.last = time.Now()
	}
}

// println ends the live line (if any) and prints a permanent line.
func (s *status) println(format string, args ...any) {
	if s.tty && s.width > 0 {
		fmt.Fprint(s.w, "\r"+strings.Repeat(" ", s.width)+"\r")
		s.width = 0
	}
	fmt.Fprintf(s.w, format+"\n", args...)
}

// bar renders a progress bar of the given width for done out of total.
func bar(done, total, width int) string {
	if total <= 0 {
		return strings.Repeat(" ", width)
	}
	n := min(width, done*width/total)
	return strings.Repeat("█", n) + strings.Repeat("░", width-n)
}

// dur formats a duration for humans: 1h02m, 3m05s, 12s.
func dur(d time.Duration) string {
	d = d.Round(time.Second)
	switch {
	case d >= time.Hour:
		return fmt.Sprintf("%dh%02dm", int(d.Hours()), int(d.Minutes())%60)
	case d >= time.Minute:
		return fmt.Sprintf("%dm%02ds", int(d.Minutes()), int(d.Seconds())%60)
	}
	return fmt.Sprintf("%ds", int(d.Seconds()))
}

// mib formats a byte count in MiB ("unknown" for 0, where the system does
// not report it).
func mib(b int64) string {
	if b <= 0 {
		return "unknown"
	}
	return fmt.Sprintf("%.0f MiB", float64(b)/(1<<20))
}
