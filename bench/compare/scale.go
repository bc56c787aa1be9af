package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/nasrun/nasrun/bench/suite"
)

// scaleRows are the rows --scale times when --rows is not given: one of each
// kind of kernel.
var scaleRows = []string{"dw3s1", "conv5", "pw-exp", "maxpool", "gap-n32", "hswish", "sgemm-pw"}

// scale runs nasbench --scale and prints how each kernel's time grows with
// its work (batch, image side): ms ÷ work relative to the row itself stays
// near 1.00 when the cost is linear.
func scale(nasbench string, rows []suite.Row, threads []int) error {
	ids := scaleRows
	if *flagRows != "" {
		ids = nil
		for _, r := range rows {
			ids = append(ids, r.ID)
		}
	}
	var ts []string
	for _, t := range threads {
		ts = append(ts, strconv.Itoa(t))
	}
	type variant struct {
		row, scale string
		threads    int
		work       float64
	}
	start := time.Now()
	var order []variant
	ms := map[variant][]float64{}
	skipped := map[string]bool{}
	for round := range *flagRounds {
		fmt.Fprintf(os.Stderr, "compare: scale round %d/%d\n", round+1, *flagRounds)
		cmd := exec.Command(nasbench, "--scale", "--rows", strings.Join(ids, ","), "--threads", strings.Join(ts, ","),
			"--samples", strconv.Itoa(*flagSamples), "--sample-ms", fmt.Sprint(*flagSample), "--budget-ms", fmt.Sprint(*flagBudget))
		cmd.Stderr = os.Stderr
		out, err := cmd.Output()
		if err != nil {
			return err
		}
		sc := bufio.NewScanner(bytes.NewReader(out))
		for sc.Scan() {
			var l struct {
				Row, Scale, Skip string
				Threads          int
				Ms, Work         float64
				CPUMs            float64 `json:"cpu_ms"`
			}
			if err := json.Unmarshal(sc.Bytes(), &l); err != nil {
				return err
			}
			if l.Skip != "" {
				skipped[l.Row+": "+l.Skip] = true
				continue
			}
			v := variant{l.Row, l.Scale, l.Threads, l.Work}
			if ms[v] == nil {
				order = append(order, v)
			}
			if *flagClock == "cpu" && l.CPUMs > 0 {
				l.Ms = l.CPUMs
			}
			ms[v] = append(ms[v], l.Ms)
		}
	}
	var b strings.Builder
	fmt.Fprintf(&b, "Machine: %s  \nCommand: `%s` (median of %d rounds; single-thread rows: %s time)\n\n",
		machineLine(nil, start), commandLine(), *flagRounds, *flagClock)
	b.WriteString("| row | threads | variant | work | nasrun ms | ms ÷ work, relative to ×1 |\n|---|--:|---|--:|--:|--:|\n")
	base := map[string]float64{}
	for _, v := range order {
		m, k := median(ms[v]), fmt.Sprint(v.row, "/", v.threads)
		if v.work == 1 {
			base[k] = m
		}
		fmt.Fprintf(&b, "| %s | %d | %s | ×%g | %s | %.2f |\n", v.row, v.threads, v.scale, v.work, fmtMs(m), m/v.work/base[k])
	}
	var notes []string
	for s := range skipped {
		notes = append(notes, "- skipped "+s+"\n")
	}
	slices.Sort(notes)
	b.WriteString(strings.Join(notes, ""))
	fmt.Print(b.String())
	return writeResult("scale", start, b.String())
}
