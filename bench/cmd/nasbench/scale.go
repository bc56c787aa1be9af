package main

import (
	"fmt"

	"github.com/nasrun/nasrun/bench/suite"
)

// scale times row id at growing sizes: batch ×1, 2, 4, 8 and image side
// ×1, 2, 4 (for GEMM rows: M, and for flat rows: the element count ×1..8).
// A kernel whose cost grows linearly with its work keeps ms/work constant.
func (b *bench) scale(id string, t int) {
	r, ok := b.rows[id]
	if !ok {
		b.print(line{Row: id, Threads: t, Skip: "no such row"})
		return
	}
	type variant struct {
		name string
		work float64
		row  suite.Row
	}
	var vs []variant
	for _, f := range []int{1, 2, 4, 8} {
		v := r
		var name string
		switch {
		case r.Op == "gemm":
			v.M, name = r.M*f, fmt.Sprintf("m=%d", r.M*f)
		case r.Elems > 0:
			v.Elems, name = r.Elems*f, fmt.Sprintf("elems=%d", r.Elems*f)
		default:
			v.N, name = r.N*f, fmt.Sprintf("n=%d", r.N*f)
		}
		vs = append(vs, variant{name, float64(f), v})
	}
	if r.H > 0 && r.Op != "gemm" {
		for _, f := range []int{2, 4} {
			v := r
			v.H, v.W = r.H*f, r.W*f
			vs = append(vs, variant{fmt.Sprintf("hw=%d", v.H), float64(f * f), v})
		}
	}
	for _, v := range vs {
		l, _ := b.time(v.row, t, 0)
		l.Scale, l.Work = v.name, v.work
		b.print(l)
	}
}
