package main

import (
	"slices"
	"time"
)

// result is one timing: median and fastest time per call over the samples.
type result struct {
	med, min time.Duration
	reps     int // calls per sample
}

// measure times fn with the method every engine of the compare harness uses
// (bench/peers/peer.h): warm up until at least 2 calls and one sample time
// have passed; calibrate reps (calls per sample) by doubling until a sample
// takes a quarter of sample, then scale it to one sample; or, when reps > 0
// from an earlier measurement of the same case, run one untimed sample. Then
// nsamp timed samples; time per call = sample / reps.
func measure(fn func(), reps, nsamp int, sample time.Duration) result {
	timeReps := func(n int) time.Duration {
		t0 := time.Now()
		for range n {
			fn()
		}
		return time.Since(t0)
	}
	if reps <= 0 {
		t0 := time.Now()
		for i := 0; i < 2 || time.Since(t0) < sample; i++ {
			fn()
		}
		var t time.Duration
		for reps = 1; ; reps *= 2 {
			if t = timeReps(reps); t >= sample/4 || reps >= 1<<30 {
				break
			}
		}
		reps = max(1, int(float64(reps)*float64(sample)/float64(t)+0.5))
	}
	timeReps(reps) // warm-up sample
	s := make([]time.Duration, nsamp)
	for i := range s {
		s[i] = timeReps(reps) / time.Duration(reps)
	}
	slices.Sort(s)
	med := s[nsamp/2]
	if nsamp%2 == 0 {
		med = (s[nsamp/2-1] + s[nsamp/2]) / 2
	}
	return result{med: med, min: s[0], reps: reps}
}
