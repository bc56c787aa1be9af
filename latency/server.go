package latency

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/nasrun/nasrun/nas"
)

// Server limits and defaults (see [Server]).
const (
	DefaultAddr     = "127.0.0.1:8765"
	DefaultMaxBody  = 1 << 20 // a genome is about 1 KiB
	DefaultMaxRuns  = 1000
	DefaultMaxMMACs = 2000 // MobileNetV3-Large at 224×224 is ~220
	DefaultMaxQueue = 16
)

// Server answers latency requests over HTTP, measuring on the machine it
// runs on ([Local]). Requests are measured one at a time, in arrival order
// as far as Go's mutexes allow, so that measurements never share the CPU:
//
//	GET  /healthz            {"ok": true, "device": Device}
//	POST /measure?threads=&runs=&warmup=&no_pin=     body: a genome → Stats
//	POST /parts?keys=K1,K2&threads=&runs=&warmup=&no_pin= body: a genome → []PartStats
//	POST /measure-pair?threads=&runs=&warmup=&no_pin=
//	     body: {"genome": a genome, "ref": a genome} → {"genome": Stats, "ref": Stats}
//
// /measure-pair times the two networks run by run in turn ([Local.MeasurePair]),
// which [Calibrated] uses: a phone that throttles mid-measurement slows both.
//
// Errors are JSON {"error": "..."}: 400 for a bad genome (the message
// names the field) or a bad parameter, 413 for a body over MaxBody, 405
// for a wrong method, 503 when MaxQueue requests already wait, 500 when a
// measurement fails.
type Server struct {
	// Defaults fill the options a request leaves out.
	Defaults Options
	// MaxBody is the largest request body in bytes; 0 means DefaultMaxBody.
	MaxBody int64
	// MaxRuns caps runs and warm-up runs per request; 0 means DefaultMaxRuns.
	MaxRuns int
	// MaxMMACs rejects genomes above this many million multiply-adds, which
	// would take too long or too much memory; 0 means DefaultMaxMMACs.
	MaxMMACs int64
	// MaxQueue is how many requests may wait for their turn; 0 means
	// DefaultMaxQueue.
	MaxQueue int
	// Log receives one line per request; nil logs nothing.
	Log *log.Logger

	turn    chan struct{} // a token: the holder measures
	waiting atomic.Int32
	mux     *http.ServeMux
	// hook, when set (tests), runs while a request holds the turn.
	hook func()
}

// NewServer returns a server measuring with defaults for what requests
// leave out.
func NewServer(defaults Options) *Server {
	s := &Server{Defaults: defaults, turn: make(chan struct{}, 1), mux: http.NewServeMux()}
	s.mux.HandleFunc("GET /healthz", s.healthz)
	s.mux.HandleFunc("POST /measure", s.measure)
	s.mux.HandleFunc("POST /parts", s.parts)
	s.mux.HandleFunc("POST /measure-pair", s.measurePair)
	return s
}

// ServeHTTP dispatches to the endpoints.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	start := time.Now()
	rec := &statusWriter{ResponseWriter: w, code: http.StatusOK}
	s.mux.ServeHTTP(rec, r)
	if s.Log != nil {
		s.Log.Printf("%s %s %s → %d in %s", r.RemoteAddr, r.Method, r.URL.RequestURI(), rec.code, time.Since(start).Round(time.Millisecond))
	}
}

// statusWriter remembers the status code for the log.
type statusWriter struct {
	http.ResponseWriter
	code int
}

func (w *statusWriter) WriteHeader(code int) {
	w.code = code
	w.ResponseWriter.WriteHeader(code)
}

// Health is the answer of GET /healthz.
type Health struct {
	OK     bool   `json:"ok"`
	Device Device `json:"device"`
}

func (s *Server) healthz(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, http.StatusOK, Health{OK: true, Device: ThisDevice()})
}

func (s *Server) measure(w http.ResponseWriter, r *http.Request) {
	g, opt, ok := s.request(w, r)
	if !ok {
		return
	}
	s.serve(w, r, func(ctx context.Context) (any, error) { return Local{}.Measure(ctx, g, opt) })
}

func (s *Server) parts(w http.ResponseWriter, r *http.Request) {
	g, opt, ok := s.request(w, r)
	if !ok {
		return
	}
	var keys []string
	if k := r.URL.Query().Get("keys"); k != "" {
		keys = strings.Split(k, ",")
	}
	s.serve(w, r, func(ctx context.Context) (any, error) { return Local{}.MeasureParts(ctx, g, keys, opt) })
}

// PairRequest is the body of POST /measure-pair.
type PairRequest struct {
	Genome json.RawMessage `json:"genome"`
	Ref    json.RawMessage `json:"ref"`
}

// PairStats is the answer of POST /measure-pair.
type PairStats struct {
	Genome Stats `json:"genome"`
	Ref    Stats `json:"ref"`
}

func (s *Server) measurePair(w http.ResponseWriter, r *http.Request) {
	opt, body, ok := s.read(w, r)
	if !ok {
		return
	}
	var req PairRequest
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&req); err != nil {
		writeError(w, http.StatusBadRequest, `want {"genome": …, "ref": …}: `+err.Error())
		return
	}
	g, err := s.genome("genome", req.Genome)
	var ref nas.Genome
	if err == nil {
		ref, err = s.genome("ref", req.Ref)
	}
	if err != nil {
		writeError(w, http.StatusBadRequest, err.Error())
		return
	}
	s.serve(w, r, func(ctx context.Context) (any, error) {
		st, rst, err := Local{}.MeasurePair(ctx, g, ref, opt)
		return PairStats{st, rst}, err
	})
}

// request reads and checks a measurement request: the options from the
// query, the genome from the body. It answers the error itself.
func (s *Server) request(w http.ResponseWriter, r *http.Request) (nas.Genome, Options, bool) {
	opt, body, ok := s.read(w, r)
	if !ok {
		return nas.Genome{}, opt, false
	}
	g, err := s.genome("genome", body)
	if err != nil {
		writeError(w, http.StatusBadRequest, err.Error())
		return nas.Genome{}, opt, false
	}
	return g, opt, true
}

// read reads a request's options from the query and its body, up to
// MaxBody. It answers the error itself.
func (s *Server) read(w http.ResponseWriter, r *http.Request) (Options, []byte, bool) {
	opt, err := s.options(r.URL.Query())
	if err != nil {
		writeError(w, http.StatusBadRequest, err.Error())
		return opt, nil, false
	}
	maxBody := s.MaxBody
	if maxBody <= 0 {
		maxBody = DefaultMaxBody
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxBody))
	if err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			writeError(w, http.StatusRequestEntityTooLarge, fmt.Sprintf("request body over %d bytes", tooBig.Limit))
		} else {
			writeError(w, http.StatusBadRequest, "reading the request: "+err.Error())
		}
		return opt, nil, false
	}
	return opt, body, true
}

// genome parses and checks the genome JSON of a request; the error starts
// with what (e.g. "genome: ").
func (s *Server) genome(what string, data []byte) (nas.Genome, error) {
	g, err := nas.Parse(data)
	if err != nil {
		return g, fmt.Errorf("%s: %w", what, err)
	}
	maxMMACs := s.MaxMMACs
	if maxMMACs <= 0 {
		maxMMACs = DefaultMaxMMACs
	}
	if m := g.Cost().MACs; m > maxMMACs*1e6 {
		return g, fmt.Errorf("%s: %.0f million MACs is over this server's limit of %d", what, float64(m)/1e6, maxMMACs)
	}
	return g, nil
}

// options parses threads, runs, warmup and no_pin over s.Defaults.
func (s *Server) options(q url.Values) (Options, error) {
	opt := s.Defaults
	maxRuns := s.MaxRuns
	if maxRuns <= 0 {
		maxRuns = DefaultMaxRuns
	}
	for _, p := range []struct {
		name   string
		lo, hi int
		dst    *int
	}{
		{"threads", 1, 1024, &opt.Threads},
		{"runs", 1, maxRuns, &opt.Runs},
		{"warmup", 0, maxRuns, &opt.Warmup},
	} {
		v := q.Get(p.name)
		if v == "" {
			continue
		}
		n, err := strconv.Atoi(v)
		if err != nil || n < p.lo || n > p.hi {
			return opt, fmt.Errorf("parameter %s: %q is not an integer in %d..%d", p.name, v, p.lo, p.hi)
		}
		*p.dst = n
	}
	if q.Get("warmup") == "0" {
		opt.Warmup = -1 // none (0 would mean the default)
	}
	if v := q.Get("no_pin"); v != "" {
		b, err := strconv.ParseBool(v)
		if err != nil {
			return opt, fmt.Errorf("parameter no_pin: %q is not a boolean", v)
		}
		opt.NoPin = b
	}
	return opt, nil
}

// serve waits for the turn, runs the measurement and writes its result.
func (s *Server) serve(w http.ResponseWriter, r *http.Request, fn func(context.Context) (any, error)) {
	maxQueue := s.MaxQueue
	if maxQueue <= 0 {
		maxQueue = DefaultMaxQueue
	}
	// Only a request that finds the turn taken counts as waiting: counting
	// every arrival let a request be refused while the one before it was
	// still on its way to a free turn.
	select {
	case s.turn <- struct{}{}:
	default:
		if int(s.waiting.Add(1)) > maxQueue {
			s.waiting.Add(-1)
			w.Header().Set("Retry-After", "10")
			writeError(w, http.StatusServiceUnavailable, fmt.Sprintf("%d requests are already waiting", maxQueue))
			return
		}
		select {
		case s.turn <- struct{}{}:
			s.waiting.Add(-1)
		case <-r.Context().Done():
			s.waiting.Add(-1)
			return // the client is gone
		}
	}
	defer func() { <-s.turn }()
	if s.hook != nil {
		s.hook()
	}
	v, err := fn(r.Context())
	if err != nil {
		if r.Context().Err() != nil {
			return
		}
		writeError(w, http.StatusInternalServerError, err.Error())
		return
	}
	writeJSON(w, http.StatusOK, v)
}

// errorBody is the JSON of an error answer.
type errorBody struct {
	Error string `json:"error"`
}

func writeError(w http.ResponseWriter, code int, msg string) {
	writeJSON(w, code, errorBody{msg})
}

func writeJSON(w http.ResponseWriter, code int, v any) {
	data, err := json.Marshal(v)
	if err != nil {
		code, data = http.StatusInternalServerError, []byte(`{"error":"encoding the answer failed"}`)
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	_, _ = w.Write(append(data, '\n'))
}

// Serve answers on l until ctx is done, then shuts down gracefully: it
// stops accepting, lets the requests in flight finish for up to grace,
// then cancels what still runs. It returns nil after a shutdown through
// ctx.
func (s *Server) Serve(ctx context.Context, l net.Listener, grace time.Duration) error {
	base, cancel := context.WithCancel(context.Background())
	defer cancel()
	hs := &http.Server{
		Handler:           s,
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       30 * time.Second,
		// Long enough to wait for a full queue of measurements.
		WriteTimeout:   30 * time.Minute,
		IdleTimeout:    2 * time.Minute,
		MaxHeaderBytes: 64 << 10,
		BaseContext:    func(net.Listener) context.Context { return base },
	}
	errc := make(chan error, 1)
	go func() { errc <- hs.Serve(l) }()
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	sctx, scancel := context.WithTimeout(context.Background(), grace)
	defer scancel()
	err := hs.Shutdown(sctx)
	if err != nil {
		cancel() // measurements stop between runs
		err = hs.Close()
	}
	<-errc // http.ErrServerClosed
	return err
}
