package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"os/exec"
	"strconv"
	"strings"

	"github.com/nasrun/nasrun/bench/cost"
	"github.com/nasrun/nasrun/bench/suite"
)

// roofline holds the machine's limits from bench/peers/roofline, by thread
// count: peak FMA GFLOP/s (the best ISA) and copy bandwidth in GB/s per
// memory level.
type roofline struct {
	l2, l3 float64                    // cache sizes, bytes (L2 per core)
	fma    map[int]map[string]float64 // threads → isa → GFLOP/s
	bw     map[int]map[string]float64 // threads → level → GB/s (copy)
}

func runRoofline(bin string, threads []int, samples int) (*roofline, error) {
	ts := make([]string, len(threads))
	for i, t := range threads {
		ts[i] = strconv.Itoa(t)
	}
	argv := niced([]string{bin, "--threads", strings.Join(ts, ","), "--samples", strconv.Itoa(samples), "--sample-ms", "5"})
	out, err := exec.Command(argv[0], argv[1:]...).Output()
	if err != nil {
		return nil, fmt.Errorf("%s: %w", bin, err)
	}
	rf := &roofline{fma: map[int]map[string]float64{}, bw: map[int]map[string]float64{}}
	sc := bufio.NewScanner(bytes.NewReader(out))
	for sc.Scan() {
		var p struct {
			Probe, ISA, Level, Kernel string
			Threads                   int
			GFlops, GBs               float64
			L2Bytes                   float64 `json:"l2_bytes"`
			L3Bytes                   float64 `json:"l3_bytes"`
		}
		if err := json.Unmarshal(sc.Bytes(), &p); err != nil {
			return nil, fmt.Errorf("roofline: %q: %w", sc.Text(), err)
		}
		switch {
		case p.Probe == "caches":
			rf.l2, rf.l3 = p.L2Bytes, p.L3Bytes
		case p.Probe == "fma":
			put(rf.fma, p.Threads, p.ISA, p.GFlops)
		case p.Probe == "bw" && p.Kernel == "copy":
			put(rf.bw, p.Threads, p.Level, p.GBs)
		}
	}
	return rf, nil
}

// put keeps the larger of v and what m holds: noise only slows a probe.
func put(m map[int]map[string]float64, t int, k string, v float64) {
	if m[t] == nil {
		m[t] = map[string]float64{}
	}
	m[t][k] = max(m[t][k], v)
}

// merge keeps the best of two runs of the probe.
func (rf *roofline) merge(o *roofline) {
	for _, p := range [][2]map[int]map[string]float64{{rf.fma, o.fma}, {rf.bw, o.bw}} {
		for t, m := range p[1] {
			for k, v := range m {
				put(p[0], t, k, v)
			}
		}
	}
}

// peak is the best FMA rate on t threads.
func (rf *roofline) peak(t int) float64 {
	best := 0.0
	for _, v := range rf.fma[t] {
		best = max(best, v)
	}
	return best
}

// level is the memory level a working set of b bytes fits in on t threads.
func (rf *roofline) level(b float64, t int) string {
	switch {
	case b <= rf.l2*float64(t):
		return "L2"
	case b <= rf.l3:
		return "L3"
	}
	return "DRAM"
}

// bound returns the roofline's lower bound on the time of row r on t
// threads, in ms, and the limit that sets it (FMA or a memory level): the
// larger of FLOPs / peak FMA rate and bytes / bandwidth of the level the
// row's working set fits in.
func (rf *roofline) bound(r suite.Row, t int) (float64, string) {
	f, b := cost.Flops(r), cost.Bytes(r)
	lvl := rf.level(b, t)
	tf, tb := 0.0, 0.0
	if p := rf.peak(t); p > 0 {
		tf = f / p / 1e6
	}
	if bw := rf.bw[t][lvl]; bw > 0 {
		tb = b / bw / 1e6
	}
	if tf >= tb {
		return tf, "FMA"
	}
	return tb, lvl
}

// summary is one line of the machine's limits.
func (rf *roofline) summary(threads []int) string {
	var parts []string
	for _, t := range threads {
		parts = append(parts, fmt.Sprintf("%d thread(s): FMA %.0f GFLOP/s (AVX2 %.0f), copy L2 %.0f / L3 %.0f / DRAM %.0f GB/s",
			t, rf.peak(t), rf.fma[t]["avx2"], rf.bw[t]["L2"], rf.bw[t]["L3"], rf.bw[t]["DRAM"]))
	}
	return strings.Join(parts, "; ")
}
