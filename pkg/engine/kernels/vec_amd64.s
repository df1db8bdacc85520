#include "textflag.h"

// BINARYVEC is the body of the four Binary kernels at the end of this file: dst[i] =
// x[i] op y[i] for i < n, two ymm vectors per step; n a multiple of 16.
// The labels are arguments, as each expansion needs its own.
#define BINARYVEC(op, loop, done) \
	MOVQ dst+0(FP), DI \
	MOVQ x+8(FP), SI \
	MOVQ y+16(FP), DX \
	MOVQ n+24(FP), CX \
	SHRQ $4, CX \
	JZ   done \
loop: \
	VMOVUPS (SI), Y0 \
	VMOVUPS 32(SI), Y1 \
	op (DX), Y0, Y0 \
	op 32(DX), Y1, Y1 \
	VMOVUPS Y0, (DI) \
	VMOVUPS Y1, 32(DI) \
	ADDQ $64, SI \
	ADDQ $64, DX \
	ADDQ $64, DI \
	DECQ CX \
	JNZ  loop \
done: \
	VZEROUPPER \
	RET

// func addAVX2(dst, src *float32, n int)
// dst[i] += src[i] for i < n; n a multiple of 32.
TEXT ·addAVX2(SB), NOSPLIT, $0-24
	MOVQ dst+0(FP), DI
	MOVQ src+8(FP), SI
	MOVQ n+16(FP), CX
	SHRQ $5, CX
	JZ   adddone

addloop:
	VMOVUPS (DI), Y0
	VMOVUPS 32(DI), Y1
	VMOVUPS 64(DI), Y2
	VMOVUPS 96(DI), Y3
	VADDPS  (SI), Y0, Y0
	VADDPS  32(SI), Y1, Y1
	VADDPS  64(SI), Y2, Y2
	VADDPS  96(SI), Y3, Y3
	VMOVUPS Y0, (DI)
	VMOVUPS Y1, 32(DI)
	VMOVUPS Y2, 64(DI)
	VMOVUPS Y3, 96(DI)
	ADDQ    $128, SI
	ADDQ    $128, DI
	DECQ    CX
	JNZ     addloop

adddone:
	VZEROUPPER
	RET

// func transpose8AVX2(dst *float32, ldd int, src *float32, lds int, blocks int)
// For b < blocks: dst[(8b+i)·ldd + j] = src[j·lds + 8b + i], i, j < 8:
// 8×8 transposes of consecutive blocks along src's rows (unpack, shuffle,
// 128-bit permute).
TEXT ·transpose8AVX2(SB), NOSPLIT, $0-40
	MOVQ dst+0(FP), DI
	MOVQ ldd+8(FP), R8
	SHLQ $2, R8
	MOVQ src+16(FP), SI
	MOVQ lds+24(FP), R9
	SHLQ $2, R9
	MOVQ blocks+32(FP), CX
	TESTQ CX, CX
	JZ   trdone
	LEAQ (R9)(R9*2), R10 // 3·lds

trloop:
	MOVQ SI, AX
	VMOVUPS (AX), Y0
	VMOVUPS (AX)(R9*1), Y1
	VMOVUPS (AX)(R9*2), Y2
	VMOVUPS (AX)(R10*1), Y3
	LEAQ (AX)(R9*4), AX
	VMOVUPS (AX), Y4
	VMOVUPS (AX)(R9*1), Y5
	VMOVUPS (AX)(R9*2), Y6
	VMOVUPS (AX)(R10*1), Y7

	VUNPCKLPS Y1, Y0, Y8
	VUNPCKHPS Y1, Y0, Y9
	VUNPCKLPS Y3, Y2, Y10
	VUNPCKHPS Y3, Y2, Y11
	VUNPCKLPS Y5, Y4, Y12
	VUNPCKHPS Y5, Y4, Y13
	VUNPCKLPS Y7, Y6, Y14
	VUNPCKHPS Y7, Y6, Y15

	VSHUFPS $0x44, Y10, Y8, Y0
	VSHUFPS $0xEE, Y10, Y8, Y1
	VSHUFPS $0x44, Y11, Y9, Y2
	VSHUFPS $0xEE, Y11, Y9, Y3
	VSHUFPS $0x44, Y14, Y12, Y4
	VSHUFPS $0xEE, Y14, Y12, Y5
	VSHUFPS $0x44, Y15, Y13, Y6
	VSHUFPS $0xEE, Y15, Y13, Y7

	VPERM2F128 $0x20, Y4, Y0, Y8
	VPERM2F128 $0x20, Y5, Y1, Y9
	VPERM2F128 $0x20, Y6, Y2, Y10
	VPERM2F128 $0x20, Y7, Y3, Y11
	VPERM2F128 $0x31, Y4, Y0, Y12
	VPERM2F128 $0x31, Y5, Y1, Y13
	VPERM2F128 $0x31, Y6, Y2, Y14
	VPERM2F128 $0x31, Y7, Y3, Y15

	MOVQ DI, AX
	VMOVUPS Y8, (AX)
	ADDQ R8, AX
	VMOVUPS Y9, (AX)
	ADDQ R8, AX
	VMOVUPS Y10, (AX)
	ADDQ R8, AX
	VMOVUPS Y11, (AX)
	ADDQ R8, AX
	VMOVUPS Y12, (AX)
	ADDQ R8, AX
	VMOVUPS Y13, (AX)
	ADDQ R8, AX
	VMOVUPS Y14, (AX)
	ADDQ R8, AX
	VMOVUPS Y15, (AX)
	ADDQ R8, AX
	MOVQ AX, DI

	ADDQ $32, SI
	DECQ CX
	JNZ  trloop

trdone:
	VZEROUPPER
	RET

// func sumAVX2(x *float32, n int) float32
// Σ x[0:n] with 4×8 partial sums; n a multiple of 32.
TEXT ·sumAVX2(SB), NOSPLIT, $0-20
	MOVQ x+0(FP), SI
	MOVQ n+8(FP), CX
	VXORPS Y0, Y0, Y0
	VXORPS Y1, Y1, Y1
	VXORPS Y2, Y2, Y2
	VXORPS Y3, Y3, Y3
	SHRQ $5, CX
	JZ   sumreduce

sumloop:
	VADDPS (SI), Y0, Y0
	VADDPS 32(SI), Y1, Y1
	VADDPS 64(SI), Y2, Y2
	VADDPS 96(SI), Y3, Y3
	ADDQ $128, SI
	DECQ CX
	JNZ  sumloop

sumreduce:
	VADDPS Y1, Y0, Y0
	VADDPS Y3, Y2, Y2
	VADDPS Y2, Y0, Y0
	VEXTRACTF128 $1, Y0, X1
	VADDPS X1, X0, X0
	VHADDPS X0, X0, X0
	VHADDPS X0, X0, X0
	VZEROUPPER
	MOVSS X0, ret+16(FP)
	RET

// func sumSqDevAVX2(x *float32, n int, mean float32) float32
// Σ (x[i] − mean)² with 4×8 partial sums; n a multiple of 32.
TEXT ·sumSqDevAVX2(SB), NOSPLIT, $0-28
	MOVQ x+0(FP), SI
	MOVQ n+8(FP), CX
	VBROADCASTSS mean+16(FP), Y8
	VXORPS Y0, Y0, Y0
	VXORPS Y1, Y1, Y1
	VXORPS Y2, Y2, Y2
	VXORPS Y3, Y3, Y3
	SHRQ $5, CX
	JZ   ssdreduce

ssdloop:
	VSUBPS (SI), Y8, Y4
	VSUBPS 32(SI), Y8, Y5
	VSUBPS 64(SI), Y8, Y6
	VSUBPS 96(SI), Y8, Y7
	VFMADD231PS Y4, Y4, Y0
	VFMADD231PS Y5, Y5, Y1
	VFMADD231PS Y6, Y6, Y2
	VFMADD231PS Y7, Y7, Y3
	ADDQ $128, SI
	DECQ CX
	JNZ  ssdloop

ssdreduce:
	VADDPS Y1, Y0, Y0
	VADDPS Y3, Y2, Y2
	VADDPS Y2, Y0, Y0
	VEXTRACTF128 $1, Y0, X1
	VADDPS X1, X0, X0
	VHADDPS X0, X0, X0
	VHADDPS X0, X0, X0
	VZEROUPPER
	MOVSS X0, ret+24(FP)
	RET

// func normAffineAVX2(dst, src, gamma, beta *float32, n int, mean, rstd float32)
// dst[i] = (src[i] − mean)·rstd·gamma[i] + beta[i]; n a multiple of 8.
TEXT ·normAffineAVX2(SB), NOSPLIT, $0-48
	MOVQ dst+0(FP), DI
	MOVQ src+8(FP), SI
	MOVQ gamma+16(FP), R8
	MOVQ beta+24(FP), R9
	MOVQ n+32(FP), CX
	VBROADCASTSS mean+40(FP), Y8
	VBROADCASTSS rstd+44(FP), Y9
	SHRQ $3, CX
	JZ   nadone

naloop:
	VMOVUPS (SI), Y0
	VSUBPS Y8, Y0, Y0
	VMULPS Y9, Y0, Y0
	VMOVUPS (R9), Y1
	VFMADD231PS (R8), Y0, Y1
	VMOVUPS Y1, (DI)
	ADDQ $32, SI
	ADDQ $32, DI
	ADDQ $32, R8
	ADDQ $32, R9
	DECQ CX
	JNZ  naloop

nadone:
	VZEROUPPER
	RET

// func packA6AVX2(dst *float32, a *float32, lda int, blocks int, alpha float32)
// Packs 6 rows of A (from a, row stride lda) over 8·blocks columns into
// dst[p·6 + r] = alpha·a[r·lda + p]: an 8×8 transpose per 8 columns (rows
// 6 and 7 repeat row 5) whose 8-float results are stored at a stride of 6
// floats, each store's last two lanes overwritten by the next one. The
// last store runs 2 floats past the panel, which the caller must allow.
TEXT ·packA6AVX2(SB), NOSPLIT, $0-36
	MOVQ dst+0(FP), DI
	MOVQ a+8(FP), SI
	MOVQ lda+16(FP), R9
	SHLQ $2, R9
	MOVQ blocks+24(FP), CX
	VBROADCASTSS alpha+32(FP), Y15
	TESTQ CX, CX
	JZ   padone
	LEAQ (R9)(R9*2), R10 // 3·lda

paloop:
	MOVQ SI, AX
	VMOVUPS (AX), Y0
	VMOVUPS (AX)(R9*1), Y1
	VMOVUPS (AX)(R9*2), Y2
	VMOVUPS (AX)(R10*1), Y3
	LEAQ (AX)(R9*4), AX
	VMOVUPS (AX), Y4
	VMOVUPS (AX)(R9*1), Y5
	VMOVAPS Y5, Y6
	VMOVAPS Y5, Y7

	VUNPCKLPS Y1, Y0, Y8
	VUNPCKHPS Y1, Y0, Y9
	VUNPCKLPS Y3, Y2, Y10
	VUNPCKHPS Y3, Y2, Y11
	VUNPCKLPS Y5, Y4, Y12
	VUNPCKHPS Y5, Y4, Y13
	VUNPCKLPS Y7, Y6, Y14
	VUNPCKHPS Y7, Y6, Y7

	VSHUFPS $0x44, Y10, Y8, Y0
	VSHUFPS $0xEE, Y10, Y8, Y1
	VSHUFPS $0x44, Y11, Y9, Y2
	VSHUFPS $0xEE, Y11, Y9, Y3
	VSHUFPS $0x44, Y14, Y12, Y4
	VSHUFPS $0xEE, Y14, Y12, Y5
	VSHUFPS $0x44, Y7, Y13, Y6
	VSHUFPS $0xEE, Y7, Y13, Y7

	VPERM2F128 $0x20, Y4, Y0, Y8
	VPERM2F128 $0x20, Y5, Y1, Y9
	VPERM2F128 $0x20, Y6, Y2, Y10
	VPERM2F128 $0x20, Y7, Y3, Y11
	VPERM2F128 $0x31, Y4, Y0, Y12
	VPERM2F128 $0x31, Y5, Y1, Y13
	VPERM2F128 $0x31, Y6, Y2, Y14
	VPERM2F128 $0x31, Y7, Y3, Y0

	VMULPS Y15, Y8, Y8
	VMULPS Y15, Y9, Y9
	VMULPS Y15, Y10, Y10
	VMULPS Y15, Y11, Y11
	VMULPS Y15, Y12, Y12
	VMULPS Y15, Y13, Y13
	VMULPS Y15, Y14, Y14
	VMULPS Y15, Y0, Y0
	VMOVUPS Y8, (DI)
	VMOVUPS Y9, 24(DI)
	VMOVUPS Y10, 48(DI)
	VMOVUPS Y11, 72(DI)
	VMOVUPS Y12, 96(DI)
	VMOVUPS Y13, 120(DI)
	VMOVUPS Y14, 144(DI)
	VMOVUPS Y0, 168(DI)

	ADDQ $192, DI
	ADDQ $32, SI
	DECQ CX
	JNZ  paloop

padone:
	VZEROUPPER
	RET

// func addVecAVX2(dst, x, y *float32, n int)
TEXT ·addVecAVX2(SB), NOSPLIT, $0-32
	BINARYVEC(VADDPS, addvloop, addvdone)

// func subVecAVX2(dst, x, y *float32, n int): x − y
TEXT ·subVecAVX2(SB), NOSPLIT, $0-32
	BINARYVEC(VSUBPS, subvloop, subvdone)

// func mulVecAVX2(dst, x, y *float32, n int)
TEXT ·mulVecAVX2(SB), NOSPLIT, $0-32
	BINARYVEC(VMULPS, mulvloop, mulvdone)

// func divVecAVX2(dst, x, y *float32, n int): x / y
TEXT ·divVecAVX2(SB), NOSPLIT, $0-32
	BINARYVEC(VDIVPS, divvloop, divvdone)
