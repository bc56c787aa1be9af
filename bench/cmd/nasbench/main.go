// Command nasbench times the rows of nasrun's benchmark suite on nasrun's
// kernels, with the timing method and the JSON-lines output of the peer
// programs in bench/peers, so that `make compare` measures every engine the
// same way.
//
//	nasbench [--suite FILE] [--threads 1,2] [--rows id,id] [--samples N] [--sample-ms MS] [--budget-ms MS]
//	nasbench --serve        reads "ID THREADS" lines, answers one JSON line each
//	nasbench --scale        times rows at growing batch and image size
//
// Output lines look like
//
//	{"row":"sgemm","impl":"nasrun","threads":1,"ms":1.21,"min_ms":1.2,"reps":16,"samples":9,"kernels":"avx512"}
//
// or carry "skip" with the reason for a row nasrun has no kernel for yet.
package main

import (
	"bufio"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"runtime"
	"strconv"
	"strings"
	"time"

	"github.com/nasrun/nasrun/bench/suite"
	"github.com/nasrun/nasrun/kernels"
)

// line is one output line.
type line struct {
	Row     string  `json:"row"`
	Impl    string  `json:"impl"`
	Threads int     `json:"threads"`
	Ms      float64 `json:"ms,omitempty"`
	MinMs   float64 `json:"min_ms,omitempty"`
	CPUMs   float64 `json:"cpu_ms,omitempty"` // single thread: median thread CPU time per call
	Reps    int     `json:"reps,omitempty"`
	Samples int     `json:"samples,omitempty"`
	Kernels string  `json:"kernels,omitempty"`
	Scale   string  `json:"scale,omitempty"` // --scale: the variant, e.g. "n=4"
	Work    float64 `json:"work,omitempty"`  // --scale: work relative to the row
	Skip    string  `json:"skip,omitempty"`
}

type bench struct {
	rows   map[string]suite.Row
	order  []string
	nsamp  int
	sample time.Duration
	budget time.Duration
	reps   map[string]int // calibrated calls per sample, by row id and threads
	out    *json.Encoder
}

func main() {
	suitePath := flag.String("suite", "", "suite file (default: the suite compiled in, bench/suite/suite.txt)")
	threads := flag.String("threads", "1", "comma-separated thread counts")
	rows := flag.String("rows", "", "comma-separated row ids (default: all)")
	nsamp := flag.Int("samples", 9, "timed samples per measurement")
	sampleMs := flag.Float64("sample-ms", 20, "target duration of one sample, ms")
	budgetMs := flag.Float64("budget-ms", 5000, "time budget of one measurement, ms: fewer samples (at least 3) for slow rows; a single call over it skips the row")
	serve := flag.Bool("serve", false, `read "ID THREADS" lines from stdin, answer one JSON line each`)
	scale := flag.Bool("scale", false, "time each row at 1, 2, 4, 8 times its batch and 1, 2, 4 times its image side")
	flag.Parse()

	all := suite.All()
	if *suitePath != "" {
		text, err := os.ReadFile(*suitePath)
		if err == nil {
			all, err = suite.Parse(string(text))
		}
		if err != nil {
			fmt.Fprintln(os.Stderr, "nasbench:", err)
			os.Exit(2)
		}
	}
	b := &bench{rows: map[string]suite.Row{}, nsamp: max(1, *nsamp), reps: map[string]int{},
		sample: time.Duration(*sampleMs * float64(time.Millisecond)), out: json.NewEncoder(os.Stdout),
		budget: time.Duration(*budgetMs * float64(time.Millisecond))}
	for _, r := range all {
		b.rows[r.ID] = r
		b.order = append(b.order, r.ID)
	}
	if *serve {
		sc := bufio.NewScanner(os.Stdin)
		for sc.Scan() {
			f := strings.Fields(sc.Text())
			if len(f) != 2 {
				continue
			}
			t, err := strconv.Atoi(f[1])
			if err != nil {
				continue
			}
			b.run(f[0], t)
		}
		return
	}
	ids := b.order
	if *rows != "" {
		ids = strings.Split(*rows, ",")
	}
	for _, ts := range strings.Split(*threads, ",") {
		t, err := strconv.Atoi(ts)
		if err != nil {
			fmt.Fprintln(os.Stderr, "nasbench: --threads:", err)
			os.Exit(2)
		}
		for _, id := range ids {
			if *scale {
				b.scale(id, t)
			} else {
				b.run(id, t)
			}
		}
	}
}

// run times row id on t threads and prints its line.
func (b *bench) run(id string, t int) {
	r, ok := b.rows[id]
	if !ok {
		b.print(line{Row: id, Threads: t, Skip: "no such row"})
		return
	}
	key := fmt.Sprint(id, "/", t)
	l, reps := b.time(r, t, b.reps[key])
	b.reps[key] = reps
	b.print(l)
}

// time measures row r on t threads; reps > 0 reuses an earlier calibration.
func (b *bench) time(r suite.Row, t, reps int) (line, int) {
	l := line{Row: r.ID, Threads: t}
	var fn func()
	if mk := runners[r.Op]; mk != nil {
		fn = mk(r)
	}
	if fn == nil {
		l.Skip = skipNote(r)
		return l, 0
	}
	kernels.SetThreads(t)
	// One thread: the kernels run on this goroutine, and threadCPU, read for
	// single-thread cells only, must cover them. More threads: not locked,
	// since every hand-off to the worker pool then has to wake this one OS
	// thread (measured: mbv3-train at 2 threads 79–88 ms unlocked against
	// 99–127 ms locked, 3 runs each in turn).
	if t == 1 {
		runtime.LockOSThread()
		defer runtime.UnlockOSThread()
	}
	res := measure(fn, reps, b.nsamp, b.sample, b.budget)
	if res.slow > 0 {
		l.Skip = fmt.Sprintf("a call took %.0f ms, over the %.0f ms budget of a measurement: machine too busy", ms(res.slow), ms(b.budget))
		return l, reps
	}
	l.Ms, l.MinMs = ms(res.med), ms(res.min)
	if t == 1 {
		l.CPUMs = ms(res.cpu)
	}
	l.Reps, l.Samples, l.Kernels = res.reps, res.samples, kernels.Active().String()
	return l, res.reps
}

func (b *bench) print(l line) {
	l.Impl = "nasrun"
	if err := b.out.Encode(l); err != nil {
		os.Exit(1)
	}
}

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }
