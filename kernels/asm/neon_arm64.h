// NEON instructions that Go's arm64 assembler (Go 1.26) does not accept,
// emitted as WORD directives. Operands are register numbers (0..31 for
// V0..V31), not register names. All forms are the 128-bit (Q = 1),
// single-precision (4S) ones; the encodings follow the Arm ARM (DDI 0487),
// section C7.2:
//
//	three-same, 4S:  base | Rm<<16 | Rn<<5 | Rd
//	by element, 4S:  base | L<<21 | M:Rm<<16 | H<<11 | Rn<<5 | Rd,
//	                 lane index = H:L, M:Rm = the full 5-bit Vm number
//
// Each macro was checked once (Go 1.26.8) by assembling it in a probe
// function, building the probe's test binary with GOARCH=arm64 go test -c
// and disassembling it with go tool objdump (golang.org/x/arch's arm64asm
// decoder, which prints Go operand order: sources first, then Vd):
//
//	VFADD4S(1, 2, 3)        4e23d441  FADD V3.S4, V2.S4, V1.S4
//	VFSUB4S(1, 2, 3)        4ea3d441  FSUB V3.S4, V2.S4, V1.S4
//	VFMUL4S(1, 2, 3)        6e23dc41  FMUL V3.S4, V2.S4, V1.S4
//	VFMAX4S(1, 2, 3)        4e23f441  FMAX V3.S4, V2.S4, V1.S4
//	VFMIN4S(1, 2, 3)        4ea3f441  FMIN V3.S4, V2.S4, V1.S4
//	VFCMGT4S(1, 2, 3)       6ea3e441  VFCMGT V3.S4, V2.S4, V1.S4
//	VFADDP4S(1, 2, 3)       6e23d441  VFADDP V3.S4, V2.S4, V1.S4
//	VFDIV4S(1, 2, 3)        6e23fc41  FDIV V3.S4, V2.S4, V1.S4
//	VFMLAE4S(8, 2, 0, 3)    4fa01848  VFMLA V0.S[3], V2.S4, V8.S4
//	VFMLAE4S(31, 4, 17, 2)  4f91189f  VFMLA V17.S[2], V4.S4, V31.S4
//	VFMULE4S(9, 30, 1, 1)   4fa193c9  FMUL V1.S[1], V30.S4, V9.S4
//
// and every kernel using them is covered by the arm64 test suite under
// qemu-aarch64, which executes them.
//
// Operand order follows the Arm syntax: destination first.

// FADD Vd.4S, Vn.4S, Vm.4S: Vd = Vn + Vm.
#define VFADD4S(vd, vn, vm) WORD $(0x4E20D400 | (vm)<<16 | (vn)<<5 | (vd))
// FSUB Vd.4S, Vn.4S, Vm.4S: Vd = Vn - Vm.
#define VFSUB4S(vd, vn, vm) WORD $(0x4EA0D400 | (vm)<<16 | (vn)<<5 | (vd))
// FMUL Vd.4S, Vn.4S, Vm.4S: Vd = Vn · Vm.
#define VFMUL4S(vd, vn, vm) WORD $(0x6E20DC00 | (vm)<<16 | (vn)<<5 | (vd))
// FDIV Vd.4S, Vn.4S, Vm.4S: Vd = Vn / Vm.
#define VFDIV4S(vd, vn, vm) WORD $(0x6E20FC00 | (vm)<<16 | (vn)<<5 | (vd))
// FMAX Vd.4S, Vn.4S, Vm.4S: Vd = max(Vn, Vm) (NaN if either is NaN).
#define VFMAX4S(vd, vn, vm) WORD $(0x4E20F400 | (vm)<<16 | (vn)<<5 | (vd))
// FMIN Vd.4S, Vn.4S, Vm.4S: Vd = min(Vn, Vm) (NaN if either is NaN).
#define VFMIN4S(vd, vn, vm) WORD $(0x4EA0F400 | (vm)<<16 | (vn)<<5 | (vd))
// FCMGT Vd.4S, Vn.4S, Vm.4S: Vd = all-ones where Vn > Vm, else 0.
#define VFCMGT4S(vd, vn, vm) WORD $(0x6EA0E400 | (vm)<<16 | (vn)<<5 | (vd))
// FADDP Vd.4S, Vn.4S, Vm.4S: pairwise sums of Vn:Vm.
#define VFADDP4S(vd, vn, vm) WORD $(0x6E20D400 | (vm)<<16 | (vn)<<5 | (vd))
// FMLA Vd.4S, Vn.4S, Vm.S[idx]: Vd += Vn · Vm[idx].
#define VFMLAE4S(vd, vn, vm, idx) WORD $(0x4F801000 | ((idx)&1)<<21 | (vm)<<16 | ((idx)>>1)<<11 | (vn)<<5 | (vd))
// FMUL Vd.4S, Vn.4S, Vm.S[idx]: Vd = Vn · Vm[idx].
#define VFMULE4S(vd, vn, vm, idx) WORD $(0x4F809000 | ((idx)&1)<<21 | (vm)<<16 | ((idx)>>1)<<11 | (vn)<<5 | (vd))
