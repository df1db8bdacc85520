#include "textflag.h"

// Constants of the float32 exp (see exp.go for the algorithm and error).
DATA expConsts<>+0(SB)/4, $0x3fb8aa3b  // log2(e)
DATA expConsts<>+4(SB)/4, $0x3f318000  // ln2 high part (exact in 9 bits)
DATA expConsts<>+8(SB)/4, $0xb95e8083  // ln2 low part
DATA expConsts<>+12(SB)/4, $0x42b17217 // 88.72283: above, exp overflows to +Inf
DATA expConsts<>+16(SB)/4, $0xc2aeac4f // -87.33654: below, exp flushes to 0
DATA expConsts<>+20(SB)/4, $0x39506967 // c0 (Cephes expf polynomial)
DATA expConsts<>+24(SB)/4, $0x3ab743ce // c1
DATA expConsts<>+28(SB)/4, $0x3c088908 // c2
DATA expConsts<>+32(SB)/4, $0x3d2aa9c1 // c3
DATA expConsts<>+36(SB)/4, $0x3e2aaaaa // c4
DATA expConsts<>+40(SB)/4, $0x3f000000 // c5 = 0.5
DATA expConsts<>+44(SB)/4, $0x3f800000 // 1
DATA expConsts<>+48(SB)/4, $0x0000007f // exponent bias 127
DATA expConsts<>+52(SB)/4, $0x7f800000 // +Inf
GLOBL expConsts<>(SB), RODATA|NOPTR, $56

// EXP8 computes Y0 = exp(Y0) for 8 lanes. Uses Y1-Y7; expects the
// constants loaded in Y8-Y15 as set up by LOADEXPCONSTS.
#define LOADEXPCONSTS \
	VBROADCASTSS expConsts<>+0(SB), Y8; \
	VBROADCASTSS expConsts<>+4(SB), Y9; \
	VBROADCASTSS expConsts<>+8(SB), Y10; \
	VBROADCASTSS expConsts<>+12(SB), Y11; \
	VBROADCASTSS expConsts<>+16(SB), Y12; \
	VBROADCASTSS expConsts<>+44(SB), Y13; \
	VPBROADCASTD expConsts<>+48(SB), Y14; \
	VBROADCASTSS expConsts<>+52(SB), Y15

#define EXP8 \
	VMINPS Y11, Y0, Y1; \
	VMAXPS Y12, Y1, Y1; \
	VMULPS Y8, Y1, Y2; \
	VROUNDPS $0, Y2, Y2; \
	VFNMADD231PS Y9, Y2, Y1; \
	VFNMADD231PS Y10, Y2, Y1; \
	VBROADCASTSS expConsts<>+20(SB), Y3; \
	VBROADCASTSS expConsts<>+24(SB), Y4; \
	VFMADD213PS Y4, Y1, Y3; \
	VBROADCASTSS expConsts<>+28(SB), Y4; \
	VFMADD213PS Y4, Y1, Y3; \
	VBROADCASTSS expConsts<>+32(SB), Y4; \
	VFMADD213PS Y4, Y1, Y3; \
	VBROADCASTSS expConsts<>+36(SB), Y4; \
	VFMADD213PS Y4, Y1, Y3; \
	VBROADCASTSS expConsts<>+40(SB), Y4; \
	VFMADD213PS Y4, Y1, Y3; \
	VMULPS Y1, Y1, Y4; \
	VFMADD213PS Y1, Y4, Y3; \
	VADDPS Y13, Y3, Y3; \
	VCVTPS2DQ Y2, Y2; \
	VPSRAD $1, Y2, Y5; \
	VPSUBD Y5, Y2, Y6; \
	VPADDD Y14, Y5, Y5; \
	VPADDD Y14, Y6, Y6; \
	VPSLLD $23, Y5, Y5; \
	VPSLLD $23, Y6, Y6; \
	VMULPS Y5, Y3, Y3; \
	VMULPS Y6, Y3, Y3; \
	VCMPPS $3, Y0, Y0, Y7; \
	VBLENDVPS Y7, Y0, Y3, Y3; \
	VCMPPS $0x1e, Y11, Y0, Y7; \
	VBLENDVPS Y7, Y15, Y3, Y3; \
	VCMPPS $0x11, Y12, Y0, Y7; \
	VANDNPS Y3, Y7, Y0

// func expAVX2(dst, src *float32, n int)
// n must be a multiple of 8.
TEXT ·expAVX2(SB), NOSPLIT, $0-24
	MOVQ dst+0(FP), DI
	MOVQ src+8(FP), SI
	MOVQ n+16(FP), CX
	SHRQ $3, CX
	JZ   expdone
	LOADEXPCONSTS

exploop:
	VMOVUPS (SI), Y0
	EXP8
	VMOVUPS Y0, (DI)
	ADDQ $32, SI
	ADDQ $32, DI
	DECQ CX
	JNZ  exploop

expdone:
	VZEROUPPER
	RET

// func quickGELUAVX2(dst, src *float32, n int)
// dst = x·sigmoid(1.702·x) = x / (1 + exp(-1.702·x)); n a multiple of 8.
DATA qgeluConsts<>+0(SB)/4, $0xbfd9db23 // -1.702
GLOBL qgeluConsts<>(SB), RODATA|NOPTR, $4

TEXT ·quickGELUAVX2(SB), NOSPLIT, $0-24
	MOVQ dst+0(FP), DI
	MOVQ src+8(FP), SI
	MOVQ n+16(FP), CX
	SHRQ $3, CX
	JZ   qgdone
	LOADEXPCONSTS

qgloop:
	VMOVUPS (SI), Y0
	VBROADCASTSS qgeluConsts<>+0(SB), Y1
	VMULPS Y1, Y0, Y0
	EXP8
	VADDPS Y13, Y0, Y0
	VMOVUPS (SI), Y7 // x again (EXP8 uses every register)
	VDIVPS Y0, Y7, Y0
	VMOVUPS Y0, (DI)
	ADDQ $32, SI
	ADDQ $32, DI
	DECQ CX
	JNZ  qgloop

qgdone:
	VZEROUPPER
	RET

// func geluTanhAVX2(dst, src *float32, n int)
// dst = x·sigmoid(2u) = x / (1 + exp(−2u)) with u = √(2/π)·(x + 0.044715·x³)
// computed as √(2/π)·x·(1 + 0.044715·x²): the tanh GELU without the
// cancellation of 1 + tanh u for negative u; n a multiple of 8.
DATA gtanhConsts<>+0(SB)/4, $0xbfcc422a // -2·√(2/π)
DATA gtanhConsts<>+4(SB)/4, $0x3d372713 // 0.044715
GLOBL gtanhConsts<>(SB), RODATA|NOPTR, $8

TEXT ·geluTanhAVX2(SB), NOSPLIT, $0-24
	MOVQ dst+0(FP), DI
	MOVQ src+8(FP), SI
	MOVQ n+16(FP), CX
	SHRQ $3, CX
	JZ   gtdone
	LOADEXPCONSTS

gtloop:
	VMOVUPS (SI), Y0
	VMULPS Y0, Y0, Y1
	VBROADCASTSS gtanhConsts<>+4(SB), Y2
	VFMADD213PS Y13, Y2, Y1 // 1 + 0.044715·x² (Y13 is 1)
	VMULPS Y1, Y0, Y0
	VBROADCASTSS gtanhConsts<>+0(SB), Y1
	VMULPS Y1, Y0, Y0
	EXP8
	VADDPS Y13, Y0, Y0
	VMOVUPS (SI), Y7 // x again (EXP8 uses every register)
	VDIVPS Y0, Y7, Y0
	VMOVUPS Y0, (DI)
	ADDQ $32, SI
	ADDQ $32, DI
	DECQ CX
	JNZ  gtloop

gtdone:
	VZEROUPPER
	RET

// func sigmoidAVX2(dst, src *float32, n int)
// dst = 1 / (1 + exp(-x)); n a multiple of 8.
DATA sigmoidConsts<>+0(SB)/4, $0xbf800000 // -1
GLOBL sigmoidConsts<>(SB), RODATA|NOPTR, $4

TEXT ·sigmoidAVX2(SB), NOSPLIT, $0-24
	MOVQ dst+0(FP), DI
	MOVQ src+8(FP), SI
	MOVQ n+16(FP), CX
	SHRQ $3, CX
	JZ   sgdone
	LOADEXPCONSTS

sgloop:
	VMOVUPS (SI), Y0
	VBROADCASTSS sigmoidConsts<>+0(SB), Y1
	VMULPS Y1, Y0, Y0
	EXP8
	VADDPS Y13, Y0, Y0
	VDIVPS Y0, Y13, Y0
	VMOVUPS Y0, (DI)
	ADDQ $32, SI
	ADDQ $32, DI
	DECQ CX
	JNZ  sgloop

sgdone:
	VZEROUPPER
	RET

// func expShiftSumAVX2(dst, src *float32, n int, shift float32) float32
// dst[i] = exp(src[i] − shift) and returns the sum of the dst values
// (8 lane partial sums, then reduced); n a multiple of 8. EXP8 takes every
// register, so the partial sums live in a 32-byte local at 0(SP).
TEXT ·expShiftSumAVX2(SB), NOSPLIT, $32-36
	MOVQ dst+0(FP), DI
	MOVQ src+8(FP), SI
	MOVQ n+16(FP), CX
	VXORPS Y0, Y0, Y0
	VMOVUPS Y0, 0(SP)
	SHRQ $3, CX
	JZ   essreduce
	LOADEXPCONSTS

essloop:
	VMOVUPS (SI), Y0
	VBROADCASTSS shift+24(FP), Y1
	VSUBPS Y1, Y0, Y0
	EXP8
	VMOVUPS Y0, (DI)
	VADDPS 0(SP), Y0, Y0
	VMOVUPS Y0, 0(SP)
	ADDQ $32, SI
	ADDQ $32, DI
	DECQ CX
	JNZ  essloop

essreduce:
	VMOVUPS 0(SP), Y0
	VEXTRACTF128 $1, Y0, X1
	VADDPS X1, X0, X0
	VHADDPS X0, X0, X0
	VHADDPS X0, X0, X0
	VZEROUPPER
	MOVSS X0, ret+32(FP)
	RET

// func maxAVX2(x *float32, n int) float32
// The largest of x[0:n]; n a positive multiple of 8.
TEXT ·maxAVX2(SB), NOSPLIT, $0-20
	MOVQ x+0(FP), SI
	MOVQ n+8(FP), CX
	SHRQ $3, CX
	VMOVUPS (SI), Y0
	ADDQ $32, SI
	DECQ CX
	JZ   maxreduce

maxloop:
	VMAXPS (SI), Y0, Y0
	ADDQ $32, SI
	DECQ CX
	JNZ  maxloop

maxreduce:
	VEXTRACTF128 $1, Y0, X1
	VMAXPS X1, X0, X0
	VPERMILPS $0x4E, X0, X1
	VMAXPS X1, X0, X0
	VPERMILPS $0xB1, X0, X1
	VMAXPS X1, X0, X0
	VZEROUPPER
	MOVSS X0, ret+16(FP)
	RET

// func scaleAVX2(x *float32, n int, s float32)
// x[i] *= s; n a multiple of 8.
TEXT ·scaleAVX2(SB), NOSPLIT, $0-20
	MOVQ x+0(FP), SI
	MOVQ n+8(FP), CX
	VBROADCASTSS s+16(FP), Y1
	SHRQ $3, CX
	JZ   scdone

scloop:
	VMULPS (SI), Y1, Y0
	VMOVUPS Y0, (SI)
	ADDQ $32, SI
	DECQ CX
	JNZ  scloop

scdone:
	VZEROUPPER
	RET
