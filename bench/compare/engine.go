package main

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// result is one line of an engine's JSON output.
type result struct {
	Row     string          `json:"row"`
	Impl    string          `json:"impl"`
	Threads int             `json:"threads"`
	Ms      float64         `json:"ms"`
	CPUMs   float64         `json:"cpu_ms"` // one thread: the calling thread's CPU time per call
	Skip    string          `json:"skip"`
	Layout  string          `json:"layout"`  // PyTorch: the faster layout
	Kernels string          `json:"kernels"` // nasrun: the kernel implementation
	Info    json.RawMessage `json:"info"`    // PyTorch: its first line describes the build
}

// engine is a running benchmark program in --serve mode: it reads
// "ID THREADS" lines and answers one JSON line each.
type engine struct {
	name    string          // column title
	info    json.RawMessage // the engine's {"info": ...} line, if it printed one
	kernels string          // nasrun: the kernel implementation it reported
	cmd     *exec.Cmd
	in      io.WriteCloser
	out     *bufio.Scanner
	dead    bool // it exited or misbehaved; no more queries
}

// startEngine starts argv in serve mode with extra environment variables.
func startEngine(name string, env []string, argv ...string) (*engine, error) {
	argv = niced(argv)
	cmd := exec.Command(argv[0], argv[1:]...)
	cmd.Env = append(os.Environ(), env...)
	cmd.Stderr = os.Stderr
	in, err := cmd.StdinPipe()
	if err != nil {
		return nil, err
	}
	out, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	sc := bufio.NewScanner(out)
	sc.Buffer(make([]byte, 1<<16), 1<<20)
	return &engine{name: name, cmd: cmd, in: in, out: sc}, nil
}

// query times one row on t threads.
func (e *engine) query(row string, t int) (result, error) {
	if _, err := fmt.Fprintf(e.in, "%s %d\n", row, t); err != nil {
		return result{}, fmt.Errorf("%s: %w", e.name, err)
	}
	for e.out.Scan() {
		var r result
		if err := json.Unmarshal(e.out.Bytes(), &r); err != nil {
			return result{}, fmt.Errorf("%s: bad line %q: %w", e.name, e.out.Text(), err)
		}
		if r.Info != nil {
			e.info = r.Info
			continue
		}
		if r.Row != row || r.Threads != t {
			return result{}, fmt.Errorf("%s: asked for %s/%d, got %s/%d", e.name, row, t, r.Row, r.Threads)
		}
		if r.Kernels != "" {
			e.kernels = r.Kernels
		}
		return r, nil
	}
	err := e.out.Err()
	if err == nil {
		err = io.ErrUnexpectedEOF
	}
	return result{}, fmt.Errorf("%s exited: %w", e.name, err)
}

// niced prefixes argv with `nice -n N` when --nice asks for it: a higher
// priority (N < 0, root only) shields every engine alike from the other
// processes of a shared machine.
func niced(argv []string) []string {
	if *flagNice == 0 {
		return argv
	}
	return append([]string{"nice", "-n", strconv.Itoa(*flagNice)}, argv...)
}

// cpuTime is the CPU time all of the engine's threads have used, from
// /proc/PID/task/*/schedstat (nanoseconds); 0 where that is not available.
func (e *engine) cpuTime() int64 {
	dir := fmt.Sprintf("/proc/%d/task", e.cmd.Process.Pid)
	tasks, _ := os.ReadDir(dir)
	var sum int64
	for _, t := range tasks {
		b, err := os.ReadFile(filepath.Join(dir, t.Name(), "schedstat"))
		if err != nil {
			continue
		}
		if f := strings.Fields(string(b)); len(f) > 0 {
			n, _ := strconv.ParseInt(f[0], 10, 64)
			sum += n
		}
	}
	return sum
}

// waitIdle returns once the engine has stopped using the CPU (up to max):
// thread pools spin for a while after their last task (OpenMP, pthreadpool,
// OpenBLAS: up to ~0.1 s), and would steal the cores from the next engine.
func (e *engine) waitIdle(max time.Duration) {
	const poll = 5 * time.Millisecond
	deadline := time.Now().Add(max)
	last := e.cpuTime()
	for time.Now().Before(deadline) {
		time.Sleep(poll)
		now := e.cpuTime()
		if now-last < int64(poll/10) { // under 10% of one core
			return
		}
		last = now
	}
}

func (e *engine) close() {
	e.in.Close()
	e.cmd.Wait()
}
