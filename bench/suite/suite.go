// Package suite is nasrun's benchmark suite: the shapes of DESIGN.md, kept
// once in suite.txt and read by the Go benchmarks, the XNNPACK program and
// the PyTorch script alike.
package suite

import (
	_ "embed"
	"fmt"
	"strconv"
	"strings"
)

//go:embed suite.txt
var text string

// Row is one benchmark of the suite. Fields a row does not set are zero.
type Row struct {
	ID string // suite id, e.g. "dw3s1"
	Op string // dwconv, conv, gemm, maxpool, avgpool, gap, hardsigmoid, ...

	N, H, W, C int // input batch, height, width, channels (NHWC)
	Cout       int // output channels (conv)
	K, S, P    int // square kernel, stride, padding
	M, KK, NN  int // GEMM sizes: C[M,NN] = A[M,KK]·B[KK,NN]
	Elems      int // flat activation size (elementwise rows)
	R          int // SE reduction

	Net string // model rows: a reference network of nas/refnets, e.g. "mbv3-like"
}

// OutH and OutW are the output spatial size of a windowed op.
func (r Row) OutH() int { return (r.H+2*r.P-r.K)/r.S + 1 }

// OutW is the output width of a windowed op.
func (r Row) OutW() int { return (r.W+2*r.P-r.K)/r.S + 1 }

// Size is the element count of the row's input activation.
func (r Row) Size() int {
	if r.Elems > 0 {
		return r.Elems
	}
	return r.N * r.H * r.W * r.C
}

// Name is the sub-benchmark name of the row, e.g. "k=3,s=1,c=144,hw=56",
// prefixed by its suite id.
func (r Row) Name() string {
	switch r.Op {
	case "dwconv", "train-dw":
		return fmt.Sprintf("%s/n=%d,k=%d,s=%d,c=%d,hw=%d", r.ID, r.N, r.K, r.S, r.C, r.H)
	case "conv", "train-conv":
		return fmt.Sprintf("%s/n=%d,k=%d,s=%d,c=%d,co=%d,hw=%d", r.ID, r.N, r.K, r.S, r.C, r.Cout, r.H)
	case "gemm":
		return fmt.Sprintf("%s/m=%d,k=%d,n=%d", r.ID, r.M, r.KK, r.NN)
	case "maxpool", "avgpool":
		return fmt.Sprintf("%s/k=%d,s=%d,c=%d,hw=%d", r.ID, r.K, r.S, r.C, r.H)
	case "model-train", "model-latency":
		return fmt.Sprintf("%s/net=%s,n=%d", r.ID, r.Net, r.N)
	}
	if r.Elems > 0 {
		return fmt.Sprintf("%s/elems=%d", r.ID, r.Elems)
	}
	return fmt.Sprintf("%s/n=%d,c=%d,hw=%d", r.ID, r.N, r.C, r.H)
}

// All returns every row of the suite in file order.
func All() []Row { return rows }

// Op returns the rows of one op, in file order.
func Op(op string) []Row {
	var out []Row
	for _, r := range rows {
		if r.Op == op {
			out = append(out, r)
		}
	}
	return out
}

// ByID returns the row with the given id.
func ByID(id string) (Row, bool) {
	for _, r := range rows {
		if r.ID == id {
			return r, true
		}
	}
	return Row{}, false
}

var rows = mustParse(text)

func mustParse(s string) []Row {
	rs, err := Parse(s)
	if err != nil {
		panic(err)
	}
	return rs
}

// Parse reads suite rows in the format of suite.txt.
func Parse(s string) ([]Row, error) {
	var out []Row
	for ln, line := range strings.Split(s, "\n") {
		if i := strings.IndexByte(line, '#'); i >= 0 {
			line = line[:i]
		}
		f := strings.Fields(line)
		if len(f) == 0 {
			continue
		}
		r := Row{ID: f[0]}
		for _, kv := range f[1:] {
			k, v, ok := strings.Cut(kv, "=")
			if !ok {
				return nil, fmt.Errorf("suite line %d: %q is not key=value", ln+1, kv)
			}
			switch k {
			case "op":
				r.Op = v
				continue
			case "net":
				r.Net = v
				continue
			}
			n, err := strconv.Atoi(v)
			if err != nil {
				return nil, fmt.Errorf("suite line %d: %s: %v", ln+1, k, err)
			}
			dst := map[string]*int{"n": &r.N, "h": &r.H, "w": &r.W, "c": &r.C, "co": &r.Cout,
				"k": &r.K, "s": &r.S, "p": &r.P, "m": &r.M, "kk": &r.KK, "nn": &r.NN,
				"elems": &r.Elems, "r": &r.R}[k]
			if dst == nil {
				return nil, fmt.Errorf("suite line %d: unknown field %q", ln+1, k)
			}
			*dst = n
		}
		if r.Op == "" {
			return nil, fmt.Errorf("suite line %d: row %s has no op", ln+1, r.ID)
		}
		out = append(out, r)
	}
	return out, nil
}
