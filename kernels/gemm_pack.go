package kernels

// gemmPackAPanel packs the MR-row micro-panel of op(A) at rows i0..i0+h,
// k range pc..pc+kcb: ap[p*mr+i] = op(A)[i0+i][pc+p], rows past h zero.
func gemmPackAPanel(ap, a []float32, lda int, transA bool, i0, h, pc, kcb, mr int) {
	ap = ap[:kcb*mr]
	if h < mr {
		clear(ap) // once, not a short clear per k step
	}
	if transA {
		// op(A)[i][p] = a[p*lda+i]: each k step is a contiguous run.
		for p := range kcb {
			copy(ap[p*mr:p*mr+h], a[(pc+p)*lda+i0:(pc+p)*lda+i0+h])
		}
		return
	}
	for i := range h {
		src := a[(i0+i)*lda+pc : (i0+i)*lda+pc+kcb]
		for p, v := range src {
			ap[p*mr+i] = v
		}
	}
}

// gemmBT8 packs 8 columns of a transposed B, kc/8·8 k steps
// (asm.GemmPackBT8AVX2).
type gemmBT8 = func(kc int, b []float32, ldb int, dst []float32, ldd int, alpha float32)

// gemmPackBPanel packs the micro-panel of alpha·op(B) at columns j0..j0+w,
// k range pc..pc+kcb, with row stride sw ≥ w (the width of the
// micro-kernel that will read it): bp[p*sw+j] = alpha·op(B)[pc+p][j0+j],
// columns past w zero. bt8, if not nil, transposes blocks of 8×8.
func gemmPackBPanel(bp, b []float32, ldb int, transB bool, pc, kcb, j0, w, sw int, alpha float32, bt8 gemmBT8) {
	bp = bp[:kcb*sw]
	if !transB {
		for p := range kcb {
			src := b[(pc+p)*ldb+j0 : (pc+p)*ldb+j0+w]
			dst := bp[p*sw : p*sw+sw]
			if alpha == 1 {
				copy(dst, src)
			} else {
				for j, v := range src {
					dst[j] = alpha * v
				}
			}
			clear(dst[w:])
		}
		return
	}
	// op(B)[p][j] = b[j*ldb+p]: a transpose. bt8 does whole 8×8 blocks,
	// the loops below the rest: columns j < w8 for k steps p ≥ k8, and
	// columns j ≥ w8 for all k steps, reading each B row once.
	w8, k8 := 0, 0
	if bt8 != nil {
		w8, k8 = w/8*8, kcb/8*8
		for j := 0; j < w8; j += 8 {
			bt8(kcb, b[(j0+j)*ldb+pc:], ldb, bp[j:], sw, alpha)
		}
	}
	for j := range w {
		p0 := 0
		if j < w8 {
			p0 = k8
		}
		src := b[(j0+j)*ldb+pc+p0 : (j0+j)*ldb+pc+kcb]
		for p, v := range src {
			bp[(p0+p)*sw+j] = alpha * v
		}
	}
	if w < sw {
		for p := range kcb {
			clear(bp[p*sw+w : p*sw+sw])
		}
	}
}
