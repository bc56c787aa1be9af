// Loop templates shared by act_*_amd64.s and eltwise_*_amd64.s.
//
// A template expands to a whole TEXT function. Its arguments are macro names
// (so they may contain commas): ARGS loads the pointers and the length, INIT
// broadcasts constants, OP is the per-vector operation.
//
// Register map, AVX-512 (16 lanes; any length, masked tail):
//   SI, DX  input pointers   DI  output pointer   CX  elements left
//   Z0-Z3   values of the first input (and the result), 4 vectors unrolled
//   Z8-Z11  values of the second input (FLAT2 only)
//   Z4-Z7   one temporary per unrolled vector
//   Z16-Z31 constants set by INIT     K1 tail mask    K2, K3 free for OP
// Register map, AVX2 (8 lanes; the length must be a multiple of 8):
//   SI, DX, DI, CX as above; Y0-Y3 first input and result, Y8-Y11 second
//   input; Y4, Y5 temporaries (shared by the unrolled vectors: renaming keeps
//   them independent); Y6, Y7, Y12-Y15 constants set by INIT.

// Go loop of FLAT1: for i := range y { y[i] = OP(x[i]) }   OP(X, T)
#define FLAT1_512(NAME, FRAME, ARGS, INIT, OP) \
TEXT NAME(SB), NOSPLIT, $0-FRAME; \
	ARGS; \
	INIT; \
loop4: \
	CMPQ CX, $64; \
	JLT  loop1; \
	VMOVUPS (SI), Z0; \
	VMOVUPS 64(SI), Z1; \
	VMOVUPS 128(SI), Z2; \
	VMOVUPS 192(SI), Z3; \
	OP(Z0, Z4); \
	OP(Z1, Z5); \
	OP(Z2, Z6); \
	OP(Z3, Z7); \
	VMOVUPS Z0, (DI); \
	VMOVUPS Z1, 64(DI); \
	VMOVUPS Z2, 128(DI); \
	VMOVUPS Z3, 192(DI); \
	ADDQ $256, SI; \
	ADDQ $256, DI; \
	SUBQ $64, CX; \
	JMP  loop4; \
loop1: \
	CMPQ CX, $16; \
	JLT  tail; \
	VMOVUPS (SI), Z0; \
	OP(Z0, Z4); \
	VMOVUPS Z0, (DI); \
	ADDQ $64, SI; \
	ADDQ $64, DI; \
	SUBQ $16, CX; \
	JMP  loop1; \
tail: \
	TESTQ CX, CX; \
	JZ    done; \
	MOVL  $1, AX; \
	SHLL  CX, AX; \
	DECL  AX; \
	KMOVW AX, K1; \
	VMOVUPS.Z (SI), K1, Z0; \
	OP(Z0, Z4); \
	VMOVUPS Z0, K1, (DI); \
done: \
	VZEROUPPER; \
	RET

// Go loop of FLAT2: for i := range y { y[i] = OP(a[i], b[i]) }   OP(A, B, T), result in A
#define FLAT2_512(NAME, FRAME, ARGS, INIT, OP) \
TEXT NAME(SB), NOSPLIT, $0-FRAME; \
	ARGS; \
	INIT; \
loop4: \
	CMPQ CX, $64; \
	JLT  loop1; \
	VMOVUPS (SI), Z0; \
	VMOVUPS 64(SI), Z1; \
	VMOVUPS 128(SI), Z2; \
	VMOVUPS 192(SI), Z3; \
	VMOVUPS (DX), Z8; \
	VMOVUPS 64(DX), Z9; \
	VMOVUPS 128(DX), Z10; \
	VMOVUPS 192(DX), Z11; \
	OP(Z0, Z8, Z4); \
	OP(Z1, Z9, Z5); \
	OP(Z2, Z10, Z6); \
	OP(Z3, Z11, Z7); \
	VMOVUPS Z0, (DI); \
	VMOVUPS Z1, 64(DI); \
	VMOVUPS Z2, 128(DI); \
	VMOVUPS Z3, 192(DI); \
	ADDQ $256, SI; \
	ADDQ $256, DX; \
	ADDQ $256, DI; \
	SUBQ $64, CX; \
	JMP  loop4; \
loop1: \
	CMPQ CX, $16; \
	JLT  tail; \
	VMOVUPS (SI), Z0; \
	VMOVUPS (DX), Z8; \
	OP(Z0, Z8, Z4); \
	VMOVUPS Z0, (DI); \
	ADDQ $64, SI; \
	ADDQ $64, DX; \
	ADDQ $64, DI; \
	SUBQ $16, CX; \
	JMP  loop1; \
tail: \
	TESTQ CX, CX; \
	JZ    done; \
	MOVL  $1, AX; \
	SHLL  CX, AX; \
	DECL  AX; \
	KMOVW AX, K1; \
	VMOVUPS.Z (SI), K1, Z0; \
	VMOVUPS.Z (DX), K1, Z8; \
	OP(Z0, Z8, Z4); \
	VMOVUPS Z0, K1, (DI); \
done: \
	VZEROUPPER; \
	RET

#define FLAT1_256(NAME, FRAME, ARGS, INIT, OP) \
TEXT NAME(SB), NOSPLIT, $0-FRAME; \
	ARGS; \
	INIT; \
loop4: \
	CMPQ CX, $32; \
	JLT  loop1; \
	VMOVUPS (SI), Y0; \
	VMOVUPS 32(SI), Y1; \
	VMOVUPS 64(SI), Y2; \
	VMOVUPS 96(SI), Y3; \
	OP(Y0, Y4); \
	OP(Y1, Y4); \
	OP(Y2, Y4); \
	OP(Y3, Y4); \
	VMOVUPS Y0, (DI); \
	VMOVUPS Y1, 32(DI); \
	VMOVUPS Y2, 64(DI); \
	VMOVUPS Y3, 96(DI); \
	ADDQ $128, SI; \
	ADDQ $128, DI; \
	SUBQ $32, CX; \
	JMP  loop4; \
loop1: \
	CMPQ CX, $8; \
	JLT  done; \
	VMOVUPS (SI), Y0; \
	OP(Y0, Y4); \
	VMOVUPS Y0, (DI); \
	ADDQ $32, SI; \
	ADDQ $32, DI; \
	SUBQ $8, CX; \
	JMP  loop1; \
done: \
	VZEROUPPER; \
	RET

#define FLAT2_256(NAME, FRAME, ARGS, INIT, OP) \
TEXT NAME(SB), NOSPLIT, $0-FRAME; \
	ARGS; \
	INIT; \
loop4: \
	CMPQ CX, $32; \
	JLT  loop1; \
	VMOVUPS (SI), Y0; \
	VMOVUPS 32(SI), Y1; \
	VMOVUPS 64(SI), Y2; \
	VMOVUPS 96(SI), Y3; \
	VMOVUPS (DX), Y8; \
	VMOVUPS 32(DX), Y9; \
	VMOVUPS 64(DX), Y10; \
	VMOVUPS 96(DX), Y11; \
	OP(Y0, Y8, Y4); \
	OP(Y1, Y9, Y4); \
	OP(Y2, Y10, Y4); \
	OP(Y3, Y11, Y4); \
	VMOVUPS Y0, (DI); \
	VMOVUPS Y1, 32(DI); \
	VMOVUPS Y2, 64(DI); \
	VMOVUPS Y3, 96(DI); \
	ADDQ $128, SI; \
	ADDQ $128, DX; \
	ADDQ $128, DI; \
	SUBQ $32, CX; \
	JMP  loop4; \
loop1: \
	CMPQ CX, $8; \
	JLT  done; \
	VMOVUPS (SI), Y0; \
	VMOVUPS (DX), Y8; \
	OP(Y0, Y8, Y4); \
	VMOVUPS Y0, (DI); \
	ADDQ $32, SI; \
	ADDQ $32, DX; \
	ADDQ $32, DI; \
	SUBQ $8, CX; \
	JMP  loop1; \
done: \
	VZEROUPPER; \
	RET

// Argument loaders. X_Y: (x, y []float32); A_B_Y: three slices (a, b, y), n from the
// third; X_DY_DX: (x, dy, dx); AL_X_Y: (alpha float32, x, y []float32).
#define ARGS_X_Y \
	MOVQ x_base+0(FP), SI; \
	MOVQ y_base+24(FP), DI; \
	MOVQ y_len+32(FP), CX

#define ARGS_A_B_Y \
	MOVQ a_base+0(FP), SI; \
	MOVQ b_base+24(FP), DX; \
	MOVQ y_base+48(FP), DI; \
	MOVQ y_len+56(FP), CX

#define ARGS_AL_X_Y \
	MOVQ x_base+8(FP), SI; \
	MOVQ y_base+32(FP), DI; \
	MOVQ y_len+40(FP), CX

// Float32 bit patterns of the constants.
#define F_ZERO  $0x00000000
#define F_ONE   $0x3f800000
#define F_THREE $0x40400000
#define F_MTHREE $0xc0400000
#define F_SIX   $0x40c00000
#define F_SIXTH $0x3e2aaaab
#define F_TWO   $0x40000000

// K1 = mask of the low w%16 lanes of a row of w floats (w in R9; uses AX
// and CX), for the AVX-512 row primitives.
#define TAILMASK512 \
	MOVQ  R9, CX; \
	ANDQ  $15, CX; \
	MOVL  $1, AX; \
	SHLL  CX, AX; \
	DECL  AX; \
	KMOVW AX, K1

// Broadcast a 32-bit constant into a vector register.
#define BCAST512(C, Z) MOVL C, AX; VPBROADCASTD AX, Z
#define BCAST256(C, Y) MOVL C, AX; VMOVD AX, X5; VPBROADCASTD X5, Y

#define ARGS_X_DY_DX \
	MOVQ x_base+0(FP), SI; \
	MOVQ dy_base+24(FP), DX; \
	MOVQ dx_base+48(FP), DI; \
	MOVQ dx_len+56(FP), CX

// STREAMPF(OFF, R) asks for the cache line STREAMDIST bytes past
// OFF(R)(BX*1), OFF the offset of a load in the unrolled loop. The row
// kernels that stream a tensor from memory (Affine2: a fused block's
// output gradient; BNAct: its normalised input) issue one per cache line
// they load. The hardware prefetchers of the virtual Zen 5 they were
// measured on keep too few lines in flight: AVX-512 Affine2 over two 128 MB
// arrays, in 192 KB chunks on one core, read 17–29 GB/s without and 28–36
// GB/s with (distances of 0.5–4 KB; 2 KB the best), and a training step at
// batch 64 took 2.4–4.7% less time (steps alternated in one process). The
// AVX2 kernels, run on the same machine over 245 rows of 480 channels from
// 64 MB arrays: Affine2 46–74 → 39–40 µs, BNAct with hardswish 41–57 →
// 28–31 µs; steps with NASRUN_KERNELS=avx2 took 0.965–0.991× as long
// (medians of three alternated runs). NEON has none: unmeasured.
#define STREAMDIST 2048
#define STREAMPF(OFF, R) PREFETCHT0 STREAMDIST+OFF(R)(BX*1)

// COLPF asks for the cache lines right of x's at (SI)(AX*1) (to read) and
// g's at (R13)(AX*1) (to write), in BNGRAD. BNGRAD walks a block of
// channels down the rows, one cache line of each row in turn, which the
// hardware prefetchers do not follow, so x (in memory, not in cache)
// would arrive one line at a time; the lines to the right are those the
// next block of channels reads. Go's assembler has no PREFETCHW (0F 0D /1:
// Intel's since Broadwell and every AMD processor have it, and Haswell, the
// first Intel one with AVX2, runs it as a NOP), hence its bytes:
// PREFETCHW 64(R13)(AX*1).
#define COLPF \
	PREFETCHT0 64(SI)(AX*1); \
	BYTE $0x41; BYTE $0x0F; BYTE $0x0D; BYTE $0x4C; BYTE $0x05; BYTE $0x40
