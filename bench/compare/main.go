// Command compare runs nasrun's kernels and its peers (XNNPACK, PyTorch) on
// the rows of the benchmark suite, interleaved, and prints one Markdown
// table: `make compare` (see the Makefile) builds the peers and runs it.
//
// The machine is shared and noisy, so every engine runs as a server process
// (--serve) and the rows are measured row by row, engine by engine, for
// several rounds (the engine order rotates each round). A cell is the median
// over rounds of the engines' own medians; the best-peer ratio is taken
// within each round (fastest peer ms / nasrun ms, > 1 means nasrun is
// faster) and its median over rounds is printed. The roofline column is the
// machine's lower bound for the row (bench/peers/roofline) over nasrun's time.
//
// With --scale it times nasrun's kernels at growing batch and image size
// instead, to show that their cost grows linearly with the work.
package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/nasrun/nasrun/bench/suite"
)

const (
	suiteFile = "bench/suite/suite.txt"
	buildDir  = "bench/build"
	openBLAS  = "/usr/lib/x86_64-linux-gnu/openblas-pthread"
)

var (
	flagThreads = flag.String("threads", "1,2", "comma-separated thread counts")
	flagRows    = flag.String("rows", "", "comma-separated row ids (default: the whole suite)")
	flagRounds  = flag.Int("rounds", 5, "rounds over all rows and engines")
	flagSamples = flag.Int("samples", 5, "timed samples per measurement")
	flagSample  = flag.Float64("sample-ms", 10, "duration of one sample, ms")
	flagBudget  = flag.Float64("budget-ms", 5000, "time budget of one measurement, ms: fewer samples (at least 3) for slow rows; calls over it skip the row in that round")
	flagOut     = flag.String("out", "bench/results", "directory for the table file (empty: do not write)")
	flagScale   = flag.Bool("scale", false, "time nasrun's kernels at growing batch and image size instead")
	flagClock   = flag.String("clock", "cpu", "single-thread cells: cpu (the thread's CPU time per call) or wall")
	flagNice    = flag.Int("nice", 0, "run the engines and the roofline probe at this nice level (negative: higher priority, needs root)")
	flagNasb    = flag.String("nasbench", "", "a prebuilt nasbench binary to use (default: go build ./bench/cmd/nasbench)")
	flagLayout  = flag.String("torch-layout", "best", "PyTorch's tensor layout: best (the faster of NCHW and channels_last, per row), nchw (PyTorch's default, the layout of issue #3's reference figures) or nhwc")
)

func main() {
	flag.Parse()
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "compare:", err)
		os.Exit(1)
	}
}

func run() error {
	if *flagClock != "cpu" && *flagClock != "wall" {
		return fmt.Errorf("--clock %q: want cpu or wall", *flagClock)
	}
	if !slices.Contains([]string{"best", "nchw", "nhwc"}, *flagLayout) {
		return fmt.Errorf("--torch-layout %q: want best, nchw or nhwc", *flagLayout)
	}
	threads, err := parseInts(*flagThreads)
	if err != nil {
		return fmt.Errorf("--threads: %w", err)
	}
	rows := suite.All()
	if *flagRows != "" {
		rows = nil
		for _, id := range strings.Split(*flagRows, ",") {
			r, ok := suite.ByID(id)
			if !ok {
				return fmt.Errorf("--rows: no row %q in %s", id, suiteFile)
			}
			rows = append(rows, r)
		}
	}
	nasbench := *flagNasb
	if nasbench == "" {
		nasbench = filepath.Join(buildDir, "nasbench")
		if out, err := exec.Command("go", "build", "-o", nasbench, "./bench/cmd/nasbench").CombinedOutput(); err != nil {
			return fmt.Errorf("building nasbench: %v\n%s", err, out)
		}
	}
	common := []string{"--serve", "--suite", suiteFile, "--samples", strconv.Itoa(*flagSamples),
		"--sample-ms", fmt.Sprint(*flagSample), "--budget-ms", fmt.Sprint(*flagBudget)}
	if *flagScale {
		return scale(nasbench, rows, threads)
	}

	var notes []string
	note := func(format string, a ...any) {
		notes = append(notes, fmt.Sprintf(format, a...))
		fmt.Fprintf(os.Stderr, "compare: "+format+"\n", a...)
	}
	// the roofline probe runs before and after the rows; the best of the
	// two runs is kept
	var rf *roofline
	rfBin := filepath.Join(buildDir, "roofline")
	if exists(rfBin) {
		fmt.Fprintln(os.Stderr, "compare: measuring the roofline")
		if rf, err = runRoofline(rfBin, threads, 15); err != nil {
			note("roofline probe failed: %v", err)
		}
	} else {
		note("roofline probe not built (%s): no roofline column", rfBin)
	}
	engines, err := startEngines(nasbench, common, note)
	if err != nil {
		return err
	}
	defer func() {
		for _, e := range engines {
			e.close()
		}
	}()
	start := time.Now()
	tab, noise := interleave(engines, rows, threads, note)
	if rf != nil {
		if again, err := runRoofline(rfBin, threads, 15); err == nil {
			rf.merge(again)
		}
	}
	notes = append(notes, fmt.Sprintf("Other processes used %.0f%% of a core on average while the engines ran (%.0f%% in the worst round): "+
		"the machine is shared, so figures at %d threads are the most disturbed.", 100*noise.mean(), 100*noise.peak, threads[len(threads)-1]))
	md := tab.markdown(rf, machineLine(engines, start), commandLine(), notes)
	fmt.Print(md)
	return writeResult("compare", start, md)
}

// startEngines starts nasbench and the peers that are installed, in serve
// mode; a missing peer is a note, not an error.
func startEngines(nasbench string, common []string, note func(string, ...any)) ([]*engine, error) {
	nas, err := startEngine("nasrun", nil, append([]string{nasbench}, common...)...)
	if err != nil {
		return nil, err
	}
	engines := []*engine{nas}
	if bin := filepath.Join(buildDir, "bench_xnnpack"); !exists(bin) {
		note("XNNPACK skipped: %s not built (needs Debian libxnnpack-dev libpthreadpool-dev libcpuinfo-dev: `apt-get install -y libxnnpack-dev libpthreadpool-dev libcpuinfo-dev`, then `make compare`)", bin)
	} else if e, err := startEngine("XNNPACK", nil, append([]string{bin}, common...)...); err != nil {
		note("XNNPACK skipped: %v", err)
	} else {
		engines = append(engines, e)
	}
	if err := exec.Command("/usr/bin/python3", "-c", "import torch").Run(); err != nil {
		note("PyTorch skipped: /usr/bin/python3 cannot import torch (Debian python3-torch: `apt-get install -y python3-torch`)")
		return engines, nil
	}
	// PyTorch on the CPU takes every tensor from malloc and gives it back.
	// glibc serves large blocks with mmap and returns freed heap tops to the
	// kernel, raising both thresholds only as blocks come and go, so a
	// training step faulted in fresh zeroed pages for its activations for a
	// while, or for the whole run: mbv3-like's step took 160–298 ms on one
	// thread from one run of make compare to the next (seven runs), and
	// 168–172 ms in two runs of the script with these settings.
	// Fixed thresholds keep the memory in the process, as PyTorch's CPU
	// deployments get from jemalloc or tcmalloc, so the peer runs at its best.
	env := []string{"MALLOC_MMAP_THRESHOLD_=33554432", "MALLOC_TRIM_THRESHOLD_=1073741824"}
	if exists(openBLAS) {
		env = append(env, "LD_LIBRARY_PATH="+openBLAS) // torch.mm on OpenBLAS, whatever libblas.so.3 points to
	} else {
		note("PyTorch's torch.mm uses the default libblas.so.3; install libopenblas0-pthread for a fair GEMM")
	}
	args := append([]string{"/usr/bin/python3", "bench/peers/torch/bench_torch.py", "--layout", *flagLayout}, common...)
	name := "PyTorch"
	if *flagLayout != "best" {
		name += " " + strings.ToUpper(*flagLayout) // a fixed layout, named in the table
	}
	if e, err := startEngine(name, env, args...); err != nil {
		note("PyTorch skipped: %v", err)
	} else {
		engines = append(engines, e)
	}
	return engines, nil
}

// interleave asks every engine for every row and thread count, round after
// round, rotating the engine order; engines[0] is nasrun. An engine that
// dies is noted and left out from then on.
func interleave(engines []*engine, rows []suite.Row, threads []int, note func(string, ...any)) (*table, *foreign) {
	start := time.Now()
	tab, noise, nas := newTable(rows, threads, engines), &foreign{}, engines[0]
	for round := range *flagRounds {
		fmt.Fprintf(os.Stderr, "compare: round %d/%d (%s)\n", round+1, *flagRounds, time.Since(start).Round(time.Second))
		noise.endRound()
		for _, r := range rows {
			for _, t := range threads {
				// a row nasrun cannot run is measured on the peers in the
				// first round only: without nasrun there is no ratio
				if why, skipped := tab.skip[key{r.ID, t, nas.name}]; skipped && round > 0 && !strings.Contains(why, "too busy") {
					continue
				}
				for i := range engines {
					e := engines[(i+round)%len(engines)]
					if e.dead {
						continue
					}
					var res result
					err := noise.measure(e, func() (err error) {
						res, err = e.query(r.ID, t)
						return err
					})
					if err != nil {
						note("%s stopped at row %s, %d thread(s): %v; its later rows are missing", e.name, r.ID, t, err)
						e.dead = true
						continue
					}
					e.waitIdle(500 * time.Millisecond)
					tab.add(round, r.ID, t, e.name, res)
				}
			}
		}
	}
	noise.endRound()
	return tab, noise
}

// writeResult writes a table to --out as NAME-DATE.md, for the README.
func writeResult(name string, at time.Time, md string) error {
	if *flagOut == "" {
		return nil
	}
	path := filepath.Join(*flagOut, name+"-"+at.UTC().Format("2006-01-02")+".md")
	if err := os.MkdirAll(*flagOut, 0o755); err != nil {
		return err
	}
	if err := os.WriteFile(path, []byte(md), 0o644); err != nil {
		return err
	}
	fmt.Fprintln(os.Stderr, "compare: wrote", path)
	return nil
}

// machineLine names the CPU, its cores, the date and the engines' builds.
func machineLine(engines []*engine, at time.Time) string {
	model := "unknown CPU"
	if b, err := os.ReadFile("/proc/cpuinfo"); err == nil {
		info := map[string]string{}
		for _, l := range strings.Split(string(b), "\n") {
			if k, v, ok := strings.Cut(l, ":"); ok {
				if k = strings.TrimSpace(k); info[k] == "" {
					info[k] = strings.TrimSpace(v)
				}
			}
		}
		if info["model name"] != "" {
			// the family and model tell generations apart where the name does not
			model = fmt.Sprintf("%s (family %s, model %s)", info["model name"], info["cpu family"], info["model"])
		}
	}
	s := fmt.Sprintf("%s, %d cores (%s/%s), %s; %s", model, runtime.NumCPU(), runtime.GOOS, runtime.GOARCH,
		at.UTC().Format("2006-01-02 15:04 UTC"), runtime.Version())
	for _, e := range engines {
		switch {
		case e.name == "nasrun":
			if e.kernels != "" {
				s += ", nasrun kernels " + e.kernels
			}
		case e.name == "XNNPACK":
			s += ", XNNPACK" + debVersion("libxnnpack0")
		case strings.HasPrefix(e.name, "PyTorch"):
			s += ", PyTorch" + debVersion("python3-torch")
			var info struct{ BLAS []string }
			if json.Unmarshal(e.info, &info) == nil {
				for _, l := range info.BLAS {
					if strings.Contains(l, "openblas") && strings.HasSuffix(l, ".so") {
						s += " with " + filepath.Base(l)
					}
				}
			}
		}
	}
	return s
}

// debVersion is " VERSION (Debian)" for an installed Debian package, else "".
func debVersion(pkg string) string {
	out, err := exec.Command("dpkg-query", "-W", "-f", "${Version}", pkg).Output()
	if err != nil || len(out) == 0 {
		return ""
	}
	return " " + string(out) + " (Debian)"
}

// commandLine is how this table was made.
func commandLine() string {
	args := strings.Join(os.Args[1:], " ")
	if os.Getenv("MAKELEVEL") != "" {
		if args == "" {
			return "make compare"
		}
		return "make compare COMPARE_FLAGS='" + args + "'"
	}
	return strings.TrimSpace("go run ./bench/compare " + args)
}

func parseInts(s string) ([]int, error) {
	var out []int
	for _, f := range strings.Split(s, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(f))
		if err != nil || n < 1 {
			return nil, fmt.Errorf("%q is not a positive integer", f)
		}
		out = append(out, n)
	}
	return slices.Compact(out), nil
}

func exists(path string) bool {
	_, err := os.Stat(path)
	return err == nil
}
