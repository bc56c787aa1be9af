package latency

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/nasrun/nasrun/nas"
)

// Client measures on a latency server (`nasrun latency-server`) at URL,
// e.g. "http://192.168.1.20:8765". It implements [Measurer] and
// [PairMeasurer].
type Client struct {
	URL string
	// HTTP is the client to use; nil means one without a timeout (a
	// measurement may wait behind others): bound calls with the context.
	HTTP *http.Client
}

// Device asks the server's /healthz for its device.
func (c Client) Device(ctx context.Context) (Device, error) {
	var h Health
	if err := c.do(ctx, http.MethodGet, "/healthz", nil, nil, &h); err != nil {
		return Device{}, err
	}
	if !h.OK {
		return Device{}, fmt.Errorf("latency server %s: not healthy", c.URL)
	}
	return h.Device, nil
}

// Measure asks the server to measure g.
func (c Client) Measure(ctx context.Context, g nas.Genome, opt Options) (Stats, error) {
	var st Stats
	err := c.do(ctx, http.MethodPost, "/measure", optionQuery(opt), g.Encode(), &st)
	return st, err
}

// MeasureParts asks the server to measure g's parts (all when keys is nil).
func (c Client) MeasureParts(ctx context.Context, g nas.Genome, keys []string, opt Options) ([]PartStats, error) {
	q := optionQuery(opt)
	if keys != nil {
		q.Set("keys", strings.Join(keys, ","))
	}
	var ps []PartStats
	err := c.do(ctx, http.MethodPost, "/parts", q, g.Encode(), &ps)
	return ps, err
}

// MeasurePair asks the server to time g and ref run by run in turn
// (POST /measure-pair), which makes Client a [PairMeasurer].
func (c Client) MeasurePair(ctx context.Context, g, ref nas.Genome, opt Options) (Stats, Stats, error) {
	body, err := json.Marshal(PairRequest{Genome: g.Encode(), Ref: ref.Encode()})
	if err != nil {
		return Stats{}, Stats{}, err
	}
	var ps PairStats
	err = c.do(ctx, http.MethodPost, "/measure-pair", optionQuery(opt), body, &ps)
	var se *ServerError
	if errors.As(err, &se) && se.Code == http.StatusNotFound {
		err = fmt.Errorf("%w (a nasrun older than this one on the device? copy this nasrun there, or measure without --latency-calibrate)", err)
	}
	return ps.Genome, ps.Ref, err
}

// optionQuery encodes the options the caller set (the server's defaults
// fill the rest).
func optionQuery(opt Options) url.Values {
	q := url.Values{}
	if opt.Threads > 0 {
		q.Set("threads", strconv.Itoa(opt.Threads))
	}
	if opt.Runs > 0 {
		q.Set("runs", strconv.Itoa(opt.Runs))
	}
	switch {
	case opt.Warmup > 0:
		q.Set("warmup", strconv.Itoa(opt.Warmup))
	case opt.Warmup < 0:
		q.Set("warmup", "0")
	}
	if opt.NoPin {
		q.Set("no_pin", "true")
	}
	return q
}

// do sends one request and decodes a 200 answer into out; any other
// answer becomes an error carrying the server's message.
func (c Client) do(ctx context.Context, method, path string, q url.Values, body []byte, out any) error {
	base, err := url.Parse(strings.TrimSuffix(c.URL, "/"))
	if err != nil || (base.Scheme != "http" && base.Scheme != "https") || base.Host == "" {
		return fmt.Errorf("latency server URL %q: want http://HOST:PORT", c.URL)
	}
	u := base.JoinPath(path)
	u.RawQuery = q.Encode()
	req, err := http.NewRequestWithContext(ctx, method, u.String(), bytes.NewReader(body))
	if err != nil {
		return err
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	hc := c.HTTP
	if hc == nil {
		hc = http.DefaultClient
	}
	resp, err := hc.Do(req)
	if err != nil {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		return fmt.Errorf("latency server %s unreachable: %w", c.URL, err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, 64<<20))
	if err != nil {
		return fmt.Errorf("latency server %s: reading the answer: %w", c.URL, err)
	}
	if resp.StatusCode != http.StatusOK {
		var e errorBody
		msg := strings.TrimSpace(string(data))
		if json.Unmarshal(data, &e) == nil && e.Error != "" {
			msg = e.Error
		}
		if len(msg) > 500 {
			msg = msg[:500] + "…"
		}
		return &ServerError{URL: c.URL, Code: resp.StatusCode, Msg: msg}
	}
	if err := json.Unmarshal(data, out); err != nil {
		return fmt.Errorf("latency server %s: answer is not what a latency server sends: %w", c.URL, err)
	}
	return nil
}

// ServerError is a non-200 answer of a latency server.
type ServerError struct {
	URL  string
	Code int    // HTTP status
	Msg  string // the server's message
}

func (e *ServerError) Error() string {
	return fmt.Sprintf("latency server %s: %d %s: %s", e.URL, e.Code, http.StatusText(e.Code), e.Msg)
}

// IsBadRequest reports whether err is a server's refusal of the request
// itself (a bad genome or parameter), which retrying cannot fix.
func IsBadRequest(err error) bool {
	var se *ServerError
	return errors.As(err, &se) && se.Code >= 400 && se.Code < 500 && se.Code != http.StatusTooManyRequests
}
