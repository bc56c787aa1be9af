package kernels

import "fmt"

// Sgemm computes C = alpha·op(A)·op(B) + beta·C for row-major matrices,
// where op(A) is m×k (A is k×m when transA) and op(B) is k×n (B is n×k
// when transB). lda, ldb and ldc are the row strides. With beta = 0, C is
// not read (NaN in C does not propagate).
//
// This is the placeholder reference; the packed, register-blocked and
// threaded implementation replaces it.
func Sgemm(transA, transB bool, m, n, k int, alpha float32, a []float32, lda int, b []float32, ldb int, beta float32, c []float32, ldc int) {
	checkGemm(transA, transB, m, n, k, len(a), lda, len(b), ldb, len(c), ldc)
	for i := range m {
		for j := range n {
			var s float32
			for p := range k {
				var av, bv float32
				if transA {
					av = a[p*lda+i]
				} else {
					av = a[i*lda+p]
				}
				if transB {
					bv = b[j*ldb+p]
				} else {
					bv = b[p*ldb+j]
				}
				s += av * bv
			}
			if beta == 0 {
				c[i*ldc+j] = alpha * s
			} else {
				c[i*ldc+j] = alpha*s + beta*c[i*ldc+j]
			}
		}
	}
}

func checkGemm(transA, transB bool, m, n, k, la, lda, lb, ldb, lc, ldc int) {
	need := func(name string, rows, cols, ld, l int) {
		if rows == 0 || cols == 0 {
			return
		}
		if ld < cols || l < (rows-1)*ld+cols {
			panic(fmt.Sprintf("kernels.Sgemm: %s is %d×%d with stride %d but has %d elements (m=%d n=%d k=%d transA=%v transB=%v)",
				name, rows, cols, ld, l, m, n, k, transA, transB))
		}
	}
	if transA {
		need("A", k, m, lda, la)
	} else {
		need("A", m, k, lda, la)
	}
	if transB {
		need("B", n, k, ldb, lb)
	} else {
		need("B", k, n, ldb, lb)
	}
	need("C", m, n, ldc, lc)
}
