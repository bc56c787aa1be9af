package kernels

// gemmPackA packs rows ic..ic+mcb, k range pc..pc+kcb of op(A) into MR-high
// micro-panels: panel q holds ap[q*kcb*mr + p*mr + i] = op(A)[ic+q*mr+i][pc+p],
// rows past mcb zero.
func gemmPackA(ap, a []float32, lda int, transA bool, ic, mcb, pc, kcb, mr int) {
	for q := 0; q*mr < mcb; q++ {
		h := min(mr, mcb-q*mr)
		d := ap[q*kcb*mr : (q+1)*kcb*mr]
		i0 := ic + q*mr
		if transA {
			// op(A)[i][p] = a[p*lda+i]: each k step is a contiguous run.
			for p := range kcb {
				src := a[(pc+p)*lda+i0 : (pc+p)*lda+i0+h]
				dst := d[p*mr : p*mr+mr]
				copy(dst, src)
				clear(dst[h:])
			}
			continue
		}
		for i := range h {
			src := a[(i0+i)*lda+pc : (i0+i)*lda+pc+kcb]
			for p, v := range src {
				d[p*mr+i] = v
			}
		}
		if h < mr {
			for p := range kcb {
				clear(d[p*mr+h : p*mr+mr])
			}
		}
	}
}

// gemmPackB packs k range pc..pc+kcb, columns jc..jc+ncb of alpha·op(B)
// into NR-wide micro-panels: panel q holds
// bp[q*kcb*nr + p*nr + j] = alpha·op(B)[pc+p][jc+q*nr+j], columns past ncb zero.
func gemmPackB(bp, b []float32, ldb int, transB bool, pc, kcb, jc, ncb int, alpha float32, nr int) {
	for q := 0; q*nr < ncb; q++ {
		w := min(nr, ncb-q*nr)
		d := bp[q*kcb*nr : (q+1)*kcb*nr]
		j0 := jc + q*nr
		if !transB {
			for p := range kcb {
				src := b[(pc+p)*ldb+j0 : (pc+p)*ldb+j0+w]
				dst := d[p*nr : p*nr+nr]
				if alpha == 1 {
					copy(dst, src)
				} else {
					for j, v := range src {
						dst[j] = alpha * v
					}
				}
				clear(dst[w:])
			}
			continue
		}
		// op(B)[p][j] = b[j*ldb+p]: read each B row once, scatter by nr.
		for j := range w {
			src := b[(j0+j)*ldb+pc : (j0+j)*ldb+pc+kcb]
			for p, v := range src {
				d[p*nr+j] = alpha * v
			}
		}
		if w < nr {
			for p := range kcb {
				clear(d[p*nr+w : p*nr+nr])
			}
		}
	}
}
