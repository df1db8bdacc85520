#include "textflag.h"

DATA quantConsts<>+0(SB)/4, $0x437f0000 // 255
GLOBL quantConsts<>(SB), RODATA|NOPTR, $4

// func quantizeU8AVX2(dst *uint8, src *float32, n int, scale, zero float32)
// dst[i] = clamp(roundEven(src[i]/scale) + zero, 0, 255), NaN → 0;
// n a multiple of 8.
TEXT ·quantizeU8AVX2(SB), NOSPLIT, $0-32
	MOVQ dst+0(FP), DI
	MOVQ src+8(FP), SI
	MOVQ n+16(FP), CX
	VBROADCASTSS scale+24(FP), Y8
	VBROADCASTSS zero+28(FP), Y9
	VXORPS Y10, Y10, Y10
	VBROADCASTSS quantConsts<>+0(SB), Y11
	SHRQ $3, CX
	JZ   qdone

qloop:
	VMOVUPS (SI), Y0
	VDIVPS Y8, Y0, Y0
	VROUNDPS $0, Y0, Y0
	VADDPS Y9, Y0, Y0
	VMAXPS Y10, Y0, Y0 // NaN (first operand) gives the second: 0
	VMINPS Y11, Y0, Y0
	VCVTPS2DQ Y0, Y0
	VEXTRACTI128 $1, Y0, X1
	VPACKUSDW X1, X0, X0
	VPACKUSWB X0, X0, X0
	MOVQ X0, (DI)
	ADDQ $32, SI
	ADDQ $8, DI
	DECQ CX
	JNZ  qloop

qdone:
	VZEROUPPER
	RET

// func minMaxAVX2(x *float32, n int) (lo, hi float32)
// n a positive multiple of 8.
TEXT ·minMaxAVX2(SB), NOSPLIT, $0-24
	MOVQ x+0(FP), SI
	MOVQ n+8(FP), CX
	SHRQ $3, CX
	VMOVUPS (SI), Y0
	VMOVAPS Y0, Y1
	ADDQ $32, SI
	DECQ CX
	JZ   mmreduce

mmloop:
	VMOVUPS (SI), Y2
	VMINPS Y2, Y0, Y0
	VMAXPS Y2, Y1, Y1
	ADDQ $32, SI
	DECQ CX
	JNZ  mmloop

mmreduce:
	VEXTRACTF128 $1, Y0, X2
	VMINPS X2, X0, X0
	VPERMILPS $0x4E, X0, X2
	VMINPS X2, X0, X0
	VPERMILPS $0xB1, X0, X2
	VMINPS X2, X0, X0
	VEXTRACTF128 $1, Y1, X2
	VMAXPS X2, X1, X1
	VPERMILPS $0x4E, X1, X2
	VMAXPS X2, X1, X1
	VPERMILPS $0xB1, X1, X2
	VMAXPS X2, X1, X1
	VZEROUPPER
	MOVSS X0, lo+16(FP)
	MOVSS X1, hi+20(FP)
	RET

// func dequantRowAVX2(dst *float32, src *int32, scale *float32, bias *float32, n int, s float32)
// dst[j] = float(src[j])·s·scale[j] + bias[j]; n a multiple of 8. scale
// and bias are per column.
TEXT ·dequantRowAVX2(SB), NOSPLIT, $0-44
	MOVQ dst+0(FP), DI
	MOVQ src+8(FP), SI
	MOVQ scale+16(FP), R8
	MOVQ bias+24(FP), R9
	MOVQ n+32(FP), CX
	VBROADCASTSS s+40(FP), Y8
	SHRQ $3, CX
	JZ   dqdone

dqloop:
	VCVTDQ2PS (SI), Y0
	VMULPS Y8, Y0, Y0
	VMULPS (R8), Y0, Y0
	VADDPS (R9), Y0, Y0
	VMOVUPS Y0, (DI)
	ADDQ $32, SI
	ADDQ $32, DI
	ADDQ $32, R8
	ADDQ $32, R9
	DECQ CX
	JNZ  dqloop

dqdone:
	VZEROUPPER
	RET

// func dequantScaleAVX2(dst *float32, src *int32, n int, s float32)
// dst[j] = float(src[j])·s; n a multiple of 8.
TEXT ·dequantScaleAVX2(SB), NOSPLIT, $0-28
	MOVQ dst+0(FP), DI
	MOVQ src+8(FP), SI
	MOVQ n+16(FP), CX
	VBROADCASTSS s+24(FP), Y8
	SHRQ $3, CX
	JZ   dsdone

dsloop:
	VCVTDQ2PS (SI), Y0
	VMULPS Y8, Y0, Y0
	VMOVUPS Y0, (DI)
	ADDQ $32, SI
	ADDQ $32, DI
	DECQ CX
	JNZ  dsloop

dsdone:
	VZEROUPPER
	RET

// func dequantTileAVX2(dst *float32, ldd int, src *int32, lds, rows, cols int, scale, bias, res *float32, ldr int)
// dst[r·ldd+j] = float(src[r·lds+j])·scale[j] + bias[j] + res[r·ldr+j]
// for r < rows (≥ 1), j < cols (a multiple of 8, ≥ 8), each operation
// rounded (no FMA), as the unfused Cast → Mul → Add (→ Add); bias and res
// may be nil. GemmU8Linear's epilogue of one int8 GEMM tile.
TEXT ·dequantTileAVX2(SB), NOSPLIT, $0-80
	MOVQ dst+0(FP), DI
	MOVQ ldd+8(FP), R10
	SHLQ $2, R10
	MOVQ src+16(FP), SI
	MOVQ lds+24(FP), R11
	SHLQ $2, R11
	MOVQ rows+32(FP), BX
	MOVQ cols+40(FP), R12
	SHRQ $3, R12
	MOVQ bias+56(FP), R9
	MOVQ res+64(FP), R13
	MOVQ ldr+72(FP), DX
	SHLQ $2, DX

dtrow:
	MOVQ scale+48(FP), R8
	XORQ AX, AX // byte offset into the row (and into scale, bias)
	MOVQ R12, CX

dtcol:
	VCVTDQ2PS (SI)(AX*1), Y0
	VMULPS (R8)(AX*1), Y0, Y0
	TESTQ R9, R9
	JZ   dtnobias
	VADDPS (R9)(AX*1), Y0, Y0

dtnobias:
	TESTQ R13, R13
	JZ   dtnores
	VADDPS (R13)(AX*1), Y0, Y0

dtnores:
	VMOVUPS Y0, (DI)(AX*1)
	ADDQ $32, AX
	DECQ CX
	JNZ  dtcol
	ADDQ R10, DI
	ADDQ R11, SI
	TESTQ R13, R13
	JZ   dtnext
	ADDQ DX, R13

dtnext:
	DECQ BX
	JNZ  dtrow
	VZEROUPPER
	RET

// func storeTileAVX2(dst *float32, ldd int, src *float32, lds, rows, cols int, res *float32, ldr int)
// dst[r·ldd+j] = src[r·lds+j] (+ res[r·ldr+j]) for r < rows (≥ 1), j <
// cols (a multiple of 8, ≥ 8); res may be nil. The activated strip of
// GemmU8Linear's epilogue into Y.
TEXT ·storeTileAVX2(SB), NOSPLIT, $0-64
	MOVQ dst+0(FP), DI
	MOVQ ldd+8(FP), R10
	SHLQ $2, R10
	MOVQ src+16(FP), SI
	MOVQ lds+24(FP), R11
	SHLQ $2, R11
	MOVQ rows+32(FP), BX
	MOVQ cols+40(FP), R12
	SHRQ $3, R12
	MOVQ res+48(FP), R13
	MOVQ ldr+56(FP), DX
	SHLQ $2, DX

strow:
	XORQ AX, AX
	MOVQ R12, CX

stcol:
	VMOVUPS (SI)(AX*1), Y0
	TESTQ R13, R13
	JZ   stnores
	VADDPS (R13)(AX*1), Y0, Y0

stnores:
	VMOVUPS Y0, (DI)(AX*1)
	ADDQ $32, AX
	DECQ CX
	JNZ  stcol
	ADDQ R10, DI
	ADDQ R11, SI
	TESTQ R13, R13
	JZ   stnext
	ADDQ DX, R13

stnext:
	DECQ BX
	JNZ  strow
	VZEROUPPER
	RET
