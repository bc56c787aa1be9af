package asm

// SGEMM micro-kernels. Each computes one MR×NR tile of
//
//	C = beta·C + Ap·Bp
//
// where Bp holds kc steps of NR values of op(B), ldb apart: bp[p*ldb+j],
// a packed micro-panel (ldb = NR, alpha folded in by the packing) or a
// row-major B read in place; and Ap holds kc steps of MR values of op(A),
// lda apart: ap[p*lda+i]. That is a packed A panel
// (lda = MR) or a transposed A read in place (A stored k×m, lda its row
// stride). beta == 0 means C is not read. Only the first `rows` (1..MR)
// rows and `nr` columns are stored; kernels that cannot mask columns
// (AVX2) require nr = NR. The Direct variants read all MR rows of a
// row-major A in place instead: a[i*lda+p]. Package kernels does the
// blocking, packing, edges and threading.

// Tile shapes of the micro-kernels: MR rows; the widths are in the names
// of the assembly kernels (GemmAVX512_12x32 is 12 rows × 32 columns).
const (
	GemmRefMR, GemmRefNR = 4, 4
	GemmAVX2MR           = 6
	GemmAVX512MR         = 12
)

// GemmRef is the pure-Go micro-kernel, tile 4×4.
func GemmRef(kc int, a []float32, lda int, b []float32, ldb int, c []float32, ldc int, beta float32, rows, nr int) {
	const mr, nr4 = GemmRefMR, GemmRefNR
	a = a[:(kc-1)*lda+mr] // kc ≥ 1
	b = b[:(kc-1)*ldb+nr4]
	var c00, c01, c02, c03, c10, c11, c12, c13 float32
	var c20, c21, c22, c23, c30, c31, c32, c33 float32
	for p := 0; p < kc; p++ {
		ap := a[p*lda : p*lda+mr : p*lda+mr]
		bp := b[p*ldb : p*ldb+nr4 : p*ldb+nr4]
		b0, b1, b2, b3 := bp[0], bp[1], bp[2], bp[3]
		a0 := ap[0]
		c00 += a0 * b0
		c01 += a0 * b1
		c02 += a0 * b2
		c03 += a0 * b3
		a1 := ap[1]
		c10 += a1 * b0
		c11 += a1 * b1
		c12 += a1 * b2
		c13 += a1 * b3
		a2 := ap[2]
		c20 += a2 * b0
		c21 += a2 * b1
		c22 += a2 * b2
		c23 += a2 * b3
		a3 := ap[3]
		c30 += a3 * b0
		c31 += a3 * b1
		c32 += a3 * b2
		c33 += a3 * b3
	}
	acc := [mr][nr4]float32{
		{c00, c01, c02, c03},
		{c10, c11, c12, c13},
		{c20, c21, c22, c23},
		{c30, c31, c32, c33},
	}
	for i := range rows {
		row := c[i*ldc : i*ldc+nr]
		if beta == 0 {
			copy(row, acc[i][:nr])
			continue
		}
		for j := range row {
			row[j] = acc[i][j] + beta*row[j]
		}
	}
}
