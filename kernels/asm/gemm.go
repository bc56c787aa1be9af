package asm

//go:generate go run _gen/gemmgen.go

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
	GemmRefMR, GemmRefNR = 2, 4
	GemmAVX2MR           = 6
	GemmAVX512MR         = 12
)

// GemmRef is the pure-Go micro-kernel, tile 2×4: its 8 accumulators and 6
// operands fit the 16 float registers Go uses on 32-bit ARM and the 15 on
// amd64 without spilling.
func GemmRef(kc int, a []float32, lda int, b []float32, ldb int, c []float32, ldc int, beta float32, rows, nr int) {
	const mr, nr4 = GemmRefMR, GemmRefNR
	var c00, c01, c02, c03, c10, c11, c12, c13 float32
	for p := range kc {
		// Three-index slices: one bounds check each, none on the loads.
		ap := a[p*lda : p*lda+mr : p*lda+mr]
		bp := b[p*ldb : p*ldb+nr4 : p*ldb+nr4]
		a0, a1 := ap[0], ap[1]
		b0, b1, b2, b3 := bp[0], bp[1], bp[2], bp[3]
		c00 += a0 * b0
		c01 += a0 * b1
		c02 += a0 * b2
		c03 += a0 * b3
		c10 += a1 * b0
		c11 += a1 * b1
		c12 += a1 * b2
		c13 += a1 * b3
	}
	acc := [mr][nr4]float32{{c00, c01, c02, c03}, {c10, c11, c12, c13}}
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
