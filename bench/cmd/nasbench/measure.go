package main

import (
	"slices"
	"time"
)

// result is one timing: median and fastest time per call over the samples.
type result struct {
	med, min time.Duration
	cpu      time.Duration // median thread CPU time per call (single-thread rows)
	reps     int           // calls per sample
	samples  int
	slow     time.Duration // > 0: a call took this long, over the budget; nothing measured
}

// measure times fn with the method every engine of the compare harness uses
// (bench/peers/peer.h): warm up with at least 2 calls and one sample time
// of calls, timing each; reps (calls per sample) = sample / the fastest call,
// so that a preempted call cannot shrink it. When reps > 0 comes from an
// earlier measurement of the same case, one untimed sample is the warm-up.
// Then nsamp timed samples (fewer, at least 3, where the samples would
// overrun budget); time per call = sample / reps. Two warm-up calls, or a
// warm-up sample, slower than budget end the measurement (result.slow): on a
// machine that busy there is nothing to learn from waiting.
//
// Each sample also takes the calling thread's CPU time, the engine's own
// time on a single thread however busy the machine; the caller locks its
// goroutine to its thread.
func measure(fn func(), reps, nsamp int, sample, budget time.Duration) result {
	timeReps := func(n int) time.Duration {
		t0 := time.Now()
		for range n {
			fn()
		}
		return time.Since(t0)
	}
	if reps <= 0 {
		fastest := time.Duration(1 << 62)
		for t0, i := time.Now(), 0; i < 2 || time.Since(t0) < sample; i++ {
			fastest = min(fastest, timeReps(1))
			if i >= 1 && fastest > budget { // two calls over it (the first may pay for setup)
				return result{slow: fastest}
			}
		}
		reps = max(1, int(float64(sample)/float64(max(fastest, 1))+0.5))
	}
	warm := timeReps(reps) // warm-up sample
	if warm/time.Duration(reps) > budget {
		return result{slow: warm / time.Duration(reps)}
	}
	nsamp = min(nsamp, max(3, int(budget/max(warm, 1))-1))
	s, cpu := make([]time.Duration, nsamp), make([]time.Duration, nsamp)
	for i := range s {
		c0 := threadCPU()
		s[i] = timeReps(reps) / time.Duration(reps)
		cpu[i] = (threadCPU() - c0) / time.Duration(reps)
	}
	return result{med: median(s), min: slices.Min(s), cpu: median(cpu), reps: reps, samples: nsamp}
}

func median(s []time.Duration) time.Duration {
	slices.Sort(s)
	if n := len(s); n%2 == 0 {
		return (s[n/2-1] + s[n/2]) / 2
	}
	return s[len(s)/2]
}
