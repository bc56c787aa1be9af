package latency

import (
	"context"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/nasrun/nasrun/nas"
	"github.com/stretchr/testify/require"
)

func newTestServer(t *testing.T) (*Server, *httptest.Server) {
	t.Helper()
	s := NewServer(Options{Runs: 3, Warmup: 1})
	ts := httptest.NewServer(s)
	t.Cleanup(ts.Close)
	return s, ts
}

// post sends body to the server and returns the status and the answer.
func post(t *testing.T, url, body string) (int, string) {
	t.Helper()
	resp, err := http.Post(url, "application/json", strings.NewReader(body))
	require.NoError(t, err)
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	return resp.StatusCode, string(data)
}

func genomeJSON(t *testing.T, name string) string { return string(refNet(t, name).Encode()) }

func TestServerMeasure(t *testing.T) {
	_, ts := newTestServer(t)
	code, body := post(t, ts.URL+"/measure?runs=4", genomeJSON(t, "mbv3-like"))
	require.Equal(t, http.StatusOK, code, body)
	var st Stats
	require.NoError(t, json.Unmarshal([]byte(body), &st))
	requireSane(t, st, 4)
	require.Equal(t, 1, st.Warmup, "the server's default")

	code, body = post(t, ts.URL+"/measure-pair?runs=5", `{"genome": `+genomeJSON(t, "ghost-like")+`, "ref": `+genomeJSON(t, "mbv3-like")+`}`)
	require.Equal(t, http.StatusOK, code, body)
	var pair PairStats
	require.NoError(t, json.Unmarshal([]byte(body), &pair))
	requireSane(t, pair.Genome, 5)
	requireSane(t, pair.Ref, 5)

	code, body = post(t, ts.URL+"/parts?keys=head_h7w7_c96-192-10_hswish&warmup=0", genomeJSON(t, "mbv3-like"))
	require.Equal(t, http.StatusOK, code, body)
	var ps []PartStats
	require.NoError(t, json.Unmarshal([]byte(body), &ps))
	require.Len(t, ps, 1)
	require.Equal(t, PartHead, ps[0].Kind)
	require.Equal(t, 0, ps[0].Stats.Warmup)
}

func TestServerErrors(t *testing.T) {
	s, ts := newTestServer(t)
	bad := strings.Replace(genomeJSON(t, "mbv3-like"), `"k": 5`, `"k": 7`, 1)
	for _, c := range []struct {
		name, path, body string
		code             int
		msg              string
	}{
		{"kernel out of the space", "/measure", bad, 400, "stages[2].k: 7 is not in the search space"},
		{"unknown field", "/measure", strings.Replace(genomeJSON(t, "ghost-like"), `"classes"`, `"klasses"`, 1), 400, "klasses"},
		{"not JSON", "/parts", "hello", 400, "not a JSON document"},
		{"empty", "/measure", "", 400, "genome"},
		{"bad runs", "/measure?runs=lots", genomeJSON(t, "mbv3-like"), 400, "parameter runs"},
		{"too many runs", "/measure?runs=1000000", genomeJSON(t, "mbv3-like"), 400, "parameter runs"},
		{"bad threads", "/measure?threads=0", genomeJSON(t, "mbv3-like"), 400, "parameter threads"},
		{"bad no_pin", "/measure?no_pin=maybe", genomeJSON(t, "mbv3-like"), 400, "parameter no_pin"},
		{"too big a network", "/measure", strings.Replace(genomeJSON(t, "mbv3-like"), `"h": 28, "w": 28`, `"h": 4096, "w": 4096`, 1), 400, "million MACs"},
		{"too big a body", "/measure", strings.Repeat(" ", DefaultMaxBody+1), 413, "over 1048576 bytes"},
		{"pair: one genome", "/measure-pair", genomeJSON(t, "mbv3-like"), 400, `want {"genome": …, "ref": …}`},
		{"pair: bad ref", "/measure-pair", `{"genome": ` + genomeJSON(t, "ghost-like") + `, "ref": ` + bad + `}`, 400, "ref: stages[2].k: 7 is not in the search space"},
		{"pair: no genome", "/measure-pair", `{"ref": ` + genomeJSON(t, "ghost-like") + `}`, 400, "genome: "},
		{"pair: bad runs", "/measure-pair?runs=0", `{}`, 400, "parameter runs"},
	} {
		code, body := post(t, ts.URL+c.path, c.body)
		require.Equal(t, c.code, code, "%s: %s", c.name, body)
		var e errorBody
		require.NoError(t, json.Unmarshal([]byte(body), &e), c.name)
		require.Contains(t, e.Error, c.msg, c.name)
	}

	s.MaxBody = 100
	code, _ := post(t, ts.URL+"/measure", genomeJSON(t, "mbv3-like"))
	require.Equal(t, http.StatusRequestEntityTooLarge, code)

	resp, err := http.Get(ts.URL + "/measure")
	require.NoError(t, err)
	resp.Body.Close()
	require.Equal(t, http.StatusMethodNotAllowed, resp.StatusCode)
	require.Contains(t, resp.Header.Get("Allow"), "POST")

	resp, err = http.Get(ts.URL + "/nothing")
	require.NoError(t, err)
	resp.Body.Close()
	require.Equal(t, http.StatusNotFound, resp.StatusCode)
}

func TestServerHealthz(t *testing.T) {
	_, ts := newTestServer(t)
	resp, err := http.Get(ts.URL + "/healthz")
	require.NoError(t, err)
	defer resp.Body.Close()
	require.Equal(t, http.StatusOK, resp.StatusCode)
	var h Health
	require.NoError(t, json.NewDecoder(resp.Body).Decode(&h))
	require.True(t, h.OK)
	require.Equal(t, ThisDevice(), h.Device)
}

// TestServerSerialises sends concurrent requests and checks through the
// test hook that no two measurements ever overlap.
func TestServerSerialises(t *testing.T) {
	s, ts := newTestServer(t)
	var active, most, calls atomic.Int32
	s.hook = func() {
		n := active.Add(1)
		defer active.Add(-1)
		for {
			m := most.Load()
			if n <= m || most.CompareAndSwap(m, n) {
				break
			}
		}
		calls.Add(1)
		time.Sleep(30 * time.Millisecond) // widen the window for an overlap
	}
	// The hook returns before the measurement: also check the measurements
	// themselves through the process-wide lock's holder.
	var wg sync.WaitGroup
	const n = 4
	codes := make([]int, n)
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			codes[i], _ = post(t, ts.URL+"/measure?runs=2&warmup=0", genomeJSON(t, "ghost-like"))
		}()
	}
	wg.Wait()
	for _, c := range codes {
		require.Equal(t, http.StatusOK, c)
	}
	require.Equal(t, int32(n), calls.Load())
	require.Equal(t, int32(1), most.Load(), "two measurements overlapped")
}

// TestServerQueueFull fills the queue behind a measurement that the hook
// holds, and checks that one more request is turned away with 503.
func TestServerQueueFull(t *testing.T) {
	s, ts := newTestServer(t)
	s.MaxQueue = 1
	release, entered := make(chan struct{}), make(chan struct{}, 4)
	s.hook = func() { entered <- struct{}{}; <-release }
	// Let the held request go however the test ends: the server's own
	// cleanup (registered earlier, so run later) waits for it.
	var once sync.Once
	unblock := func() { once.Do(func() { close(release) }) }
	t.Cleanup(unblock)
	g := genomeJSON(t, "ghost-like")
	var wg sync.WaitGroup
	send := func() {
		wg.Add(1)
		go func() { defer wg.Done(); post(t, ts.URL+"/measure?runs=1", g) }()
	}
	send()
	<-entered // one measures, …
	send()
	require.Eventually(t, func() bool { return s.waiting.Load() == 1 }, 2*time.Minute, 5*time.Millisecond)
	code, body := post(t, ts.URL+"/measure?runs=1", g) // … one waits: full
	require.Equal(t, http.StatusServiceUnavailable, code, body)
	unblock()
	wg.Wait()
}

func TestClient(t *testing.T) {
	_, ts := newTestServer(t)
	ctx := context.Background()
	c := Client{URL: ts.URL + "/"}
	var _ Measurer = c
	d, err := c.Device(ctx)
	require.NoError(t, err)
	require.Equal(t, ThisDevice(), d)

	g := refNet(t, "mbv3-like")
	st, err := c.Measure(ctx, g, Options{Runs: 3, Warmup: -1, NoPin: true})
	require.NoError(t, err)
	requireSane(t, st, 3)
	require.Equal(t, 0, st.Warmup)
	require.False(t, st.Pinned)

	ps, err := c.MeasureParts(ctx, g, []string{Parts(g)[0].Key}, Options{Runs: 2})
	require.NoError(t, err)
	require.Len(t, ps, 1)
	require.Equal(t, PartStem, ps[0].Kind)

	var _ PairMeasurer = c
	gs, rs, err := c.MeasurePair(ctx, refNet(t, "ghost-like"), g, Options{Runs: 4})
	require.NoError(t, err)
	requireSane(t, gs, 4)
	requireSane(t, rs, 4)
	// Calibrated measures through the server's pair endpoint.
	cal := &Calibrated{Measurer: c, Ref: g, BaseMs: rs.MedianMs}
	st, err = cal.Measure(ctx, refNet(t, "ghost-like"), Options{Runs: 4})
	require.NoError(t, err)
	require.Positive(t, st.Calibration)

	// The lookup table works through the client as through Local.
	tab, err := OpenTable(ctx, "", c, Options{Runs: 2, Warmup: 1})
	require.NoError(t, err)
	require.Equal(t, ThisDevice().Key(1), tab.Device())
	ms, err := tab.Estimate(ctx, g)
	require.NoError(t, err)
	require.Positive(t, ms)

	// A genome the server refuses: the error carries its reason.
	bad := g.Clone()
	bad.Stages[1].K = 7 // Encode does not validate; the server does
	_, err = c.Measure(ctx, bad, Options{Runs: 1})
	require.ErrorContains(t, err, "400 Bad Request")
	require.ErrorContains(t, err, "stages[1].k")
	require.True(t, IsBadRequest(err))
}

func TestClientErrors(t *testing.T) {
	ctx := context.Background()
	g := refNet(t, "mbv3-like")
	// A port nothing listens on.
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	url := "http://" + l.Addr().String()
	l.Close()
	_, err = Client{URL: url}.Measure(ctx, g, Options{})
	require.ErrorContains(t, err, "unreachable")
	require.False(t, IsBadRequest(err))

	_, err = Client{URL: "localhost:8765"}.Device(ctx)
	require.ErrorContains(t, err, "want http://HOST:PORT")

	// Something else answering: a non-200 and a 200 that is not ours.
	ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/healthz" {
			io.WriteString(w, "<html>hello</html>")
			return
		}
		http.Error(w, "teapot here", http.StatusTeapot)
	}))
	defer ts.Close()
	_, err = Client{URL: ts.URL}.Measure(ctx, g, Options{})
	require.ErrorContains(t, err, "418 I'm a teapot: teapot here")
	_, err = Client{URL: ts.URL}.Device(ctx)
	require.ErrorContains(t, err, "not what a latency server sends")

	// A server without the pair endpoint (an older nasrun): the error says
	// what to do.
	old := httptest.NewServer(http.NotFoundHandler())
	defer old.Close()
	_, _, err = Client{URL: old.URL}.MeasurePair(ctx, g, g, Options{})
	require.ErrorContains(t, err, "404 Not Found")
	require.ErrorContains(t, err, "older than this one")

	cctx, cancel := context.WithCancel(ctx)
	cancel()
	_, err = Client{URL: ts.URL}.Measure(cctx, g, Options{})
	require.ErrorIs(t, err, context.Canceled)
}

// TestServeShutdown starts Serve on a listener and checks that cancelling
// its context stops it cleanly.
func TestServeShutdown(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- NewServer(Options{}).Serve(ctx, l, 5*time.Second) }()
	d, err := Client{URL: "http://" + l.Addr().String()}.Device(context.Background())
	require.NoError(t, err)
	require.Equal(t, ThisDevice(), d)
	cancel()
	select {
	case err := <-done:
		require.NoError(t, err)
	case <-time.After(10 * time.Second):
		t.Fatal("Serve did not return after its context ended")
	}
	_, err = net.Dial("tcp", l.Addr().String())
	require.Error(t, err, "still listening")
}

var _ = nas.Genome{}
