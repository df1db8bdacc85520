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


// expVecs holds constants of EXP8X2 replicated over 8 lanes, for use as
// 256-bit memory operands (EXP8X2 needs the registers for its two chains):
DATA expVecs<>+0(SB)/4, $0x3f318000 // ln2 high part
DATA expVecs<>+4(SB)/4, $0x3f318000
DATA expVecs<>+8(SB)/4, $0x3f318000
DATA expVecs<>+12(SB)/4, $0x3f318000
DATA expVecs<>+16(SB)/4, $0x3f318000
DATA expVecs<>+20(SB)/4, $0x3f318000
DATA expVecs<>+24(SB)/4, $0x3f318000
DATA expVecs<>+28(SB)/4, $0x3f318000
DATA expVecs<>+32(SB)/4, $0xb95e8083 // ln2 low part
DATA expVecs<>+36(SB)/4, $0xb95e8083
DATA expVecs<>+40(SB)/4, $0xb95e8083
DATA expVecs<>+44(SB)/4, $0xb95e8083
DATA expVecs<>+48(SB)/4, $0xb95e8083
DATA expVecs<>+52(SB)/4, $0xb95e8083
DATA expVecs<>+56(SB)/4, $0xb95e8083
DATA expVecs<>+60(SB)/4, $0xb95e8083
DATA expVecs<>+64(SB)/4, $0x39506967 // c0
DATA expVecs<>+68(SB)/4, $0x39506967
DATA expVecs<>+72(SB)/4, $0x39506967
DATA expVecs<>+76(SB)/4, $0x39506967
DATA expVecs<>+80(SB)/4, $0x39506967
DATA expVecs<>+84(SB)/4, $0x39506967
DATA expVecs<>+88(SB)/4, $0x39506967
DATA expVecs<>+92(SB)/4, $0x39506967
DATA expVecs<>+96(SB)/4, $0x3ab743ce // c1
DATA expVecs<>+100(SB)/4, $0x3ab743ce
DATA expVecs<>+104(SB)/4, $0x3ab743ce
DATA expVecs<>+108(SB)/4, $0x3ab743ce
DATA expVecs<>+112(SB)/4, $0x3ab743ce
DATA expVecs<>+116(SB)/4, $0x3ab743ce
DATA expVecs<>+120(SB)/4, $0x3ab743ce
DATA expVecs<>+124(SB)/4, $0x3ab743ce
DATA expVecs<>+128(SB)/4, $0x3c088908 // c2
DATA expVecs<>+132(SB)/4, $0x3c088908
DATA expVecs<>+136(SB)/4, $0x3c088908
DATA expVecs<>+140(SB)/4, $0x3c088908
DATA expVecs<>+144(SB)/4, $0x3c088908
DATA expVecs<>+148(SB)/4, $0x3c088908
DATA expVecs<>+152(SB)/4, $0x3c088908
DATA expVecs<>+156(SB)/4, $0x3c088908
DATA expVecs<>+160(SB)/4, $0x3d2aa9c1 // c3
DATA expVecs<>+164(SB)/4, $0x3d2aa9c1
DATA expVecs<>+168(SB)/4, $0x3d2aa9c1
DATA expVecs<>+172(SB)/4, $0x3d2aa9c1
DATA expVecs<>+176(SB)/4, $0x3d2aa9c1
DATA expVecs<>+180(SB)/4, $0x3d2aa9c1
DATA expVecs<>+184(SB)/4, $0x3d2aa9c1
DATA expVecs<>+188(SB)/4, $0x3d2aa9c1
DATA expVecs<>+192(SB)/4, $0x3e2aaaaa // c4
DATA expVecs<>+196(SB)/4, $0x3e2aaaaa
DATA expVecs<>+200(SB)/4, $0x3e2aaaaa
DATA expVecs<>+204(SB)/4, $0x3e2aaaaa
DATA expVecs<>+208(SB)/4, $0x3e2aaaaa
DATA expVecs<>+212(SB)/4, $0x3e2aaaaa
DATA expVecs<>+216(SB)/4, $0x3e2aaaaa
DATA expVecs<>+220(SB)/4, $0x3e2aaaaa
DATA expVecs<>+224(SB)/4, $0x3f000000 // c5 = 0.5
DATA expVecs<>+228(SB)/4, $0x3f000000
DATA expVecs<>+232(SB)/4, $0x3f000000
DATA expVecs<>+236(SB)/4, $0x3f000000
DATA expVecs<>+240(SB)/4, $0x3f000000
DATA expVecs<>+244(SB)/4, $0x3f000000
DATA expVecs<>+248(SB)/4, $0x3f000000
DATA expVecs<>+252(SB)/4, $0x3f000000
DATA expVecs<>+256(SB)/4, $0xbfd9db23 // -1.702 (QuickGELU)
DATA expVecs<>+260(SB)/4, $0xbfd9db23
DATA expVecs<>+264(SB)/4, $0xbfd9db23
DATA expVecs<>+268(SB)/4, $0xbfd9db23
DATA expVecs<>+272(SB)/4, $0xbfd9db23
DATA expVecs<>+276(SB)/4, $0xbfd9db23
DATA expVecs<>+280(SB)/4, $0xbfd9db23
DATA expVecs<>+284(SB)/4, $0xbfd9db23
DATA expVecs<>+288(SB)/4, $0xbfcc422a // -2·√(2/π) (GELUTanh)
DATA expVecs<>+292(SB)/4, $0xbfcc422a
DATA expVecs<>+296(SB)/4, $0xbfcc422a
DATA expVecs<>+300(SB)/4, $0xbfcc422a
DATA expVecs<>+304(SB)/4, $0xbfcc422a
DATA expVecs<>+308(SB)/4, $0xbfcc422a
DATA expVecs<>+312(SB)/4, $0xbfcc422a
DATA expVecs<>+316(SB)/4, $0xbfcc422a
DATA expVecs<>+320(SB)/4, $0x3d372713 // 0.044715 (GELUTanh)
DATA expVecs<>+324(SB)/4, $0x3d372713
DATA expVecs<>+328(SB)/4, $0x3d372713
DATA expVecs<>+332(SB)/4, $0x3d372713
DATA expVecs<>+336(SB)/4, $0x3d372713
DATA expVecs<>+340(SB)/4, $0x3d372713
DATA expVecs<>+344(SB)/4, $0x3d372713
DATA expVecs<>+348(SB)/4, $0x3d372713
GLOBL expVecs<>(SB), RODATA|NOPTR, $352

// LOADEXP2CONSTS sets up the registers EXP8X2 expects: Y10 the overflow
// bound, Y11 the underflow bound, Y12 log2(e), Y13 1, Y14 the exponent
// bias, Y15 +Inf.
#define LOADEXP2CONSTS \
	VBROADCASTSS expConsts<>+12(SB), Y10; \
	VBROADCASTSS expConsts<>+16(SB), Y11; \
	VBROADCASTSS expConsts<>+0(SB), Y12; \
	VBROADCASTSS expConsts<>+44(SB), Y13; \
	VPBROADCASTD expConsts<>+48(SB), Y14; \
	VBROADCASTSS expConsts<>+52(SB), Y15

// EXP8X2 computes Y0 = exp(Y0) and Y5 = exp(Y5): EXP8's steps, in the
// same order and roundings (bit-identical results), for two independent
// vectors interleaved, so that one's long dependency chain fills the
// other's latencies. Uses Y1-Y4 and Y6-Y9; constants as LOADEXP2CONSTS
// sets them, the rest from expVecs.
#define EXP8X2 \
	VMINPS Y10, Y0, Y1; \
	VMINPS Y10, Y5, Y6; \
	VMAXPS Y11, Y1, Y1; \
	VMAXPS Y11, Y6, Y6; \
	VMULPS Y12, Y1, Y2; \
	VMULPS Y12, Y6, Y7; \
	VROUNDPS $0, Y2, Y2; \
	VROUNDPS $0, Y7, Y7; \
	VFNMADD231PS expVecs<>+0(SB), Y2, Y1; \
	VFNMADD231PS expVecs<>+0(SB), Y7, Y6; \
	VFNMADD231PS expVecs<>+32(SB), Y2, Y1; \
	VFNMADD231PS expVecs<>+32(SB), Y7, Y6; \
	VMOVUPS expVecs<>+64(SB), Y3; \
	VMOVUPS expVecs<>+64(SB), Y8; \
	VFMADD213PS expVecs<>+96(SB), Y1, Y3; \
	VFMADD213PS expVecs<>+96(SB), Y6, Y8; \
	VFMADD213PS expVecs<>+128(SB), Y1, Y3; \
	VFMADD213PS expVecs<>+128(SB), Y6, Y8; \
	VFMADD213PS expVecs<>+160(SB), Y1, Y3; \
	VFMADD213PS expVecs<>+160(SB), Y6, Y8; \
	VFMADD213PS expVecs<>+192(SB), Y1, Y3; \
	VFMADD213PS expVecs<>+192(SB), Y6, Y8; \
	VFMADD213PS expVecs<>+224(SB), Y1, Y3; \
	VFMADD213PS expVecs<>+224(SB), Y6, Y8; \
	VMULPS Y1, Y1, Y4; \
	VMULPS Y6, Y6, Y9; \
	VFMADD213PS Y1, Y4, Y3; \
	VFMADD213PS Y6, Y9, Y8; \
	VADDPS Y13, Y3, Y3; \
	VADDPS Y13, Y8, Y8; \
	VCVTPS2DQ Y2, Y2; \
	VCVTPS2DQ Y7, Y7; \
	VPSRAD $1, Y2, Y1; \
	VPSRAD $1, Y7, Y6; \
	VPSUBD Y1, Y2, Y4; \
	VPSUBD Y6, Y7, Y9; \
	VPADDD Y14, Y1, Y1; \
	VPADDD Y14, Y6, Y6; \
	VPADDD Y14, Y4, Y4; \
	VPADDD Y14, Y9, Y9; \
	VPSLLD $23, Y1, Y1; \
	VPSLLD $23, Y6, Y6; \
	VPSLLD $23, Y4, Y4; \
	VPSLLD $23, Y9, Y9; \
	VMULPS Y1, Y3, Y3; \
	VMULPS Y6, Y8, Y8; \
	VMULPS Y4, Y3, Y3; \
	VMULPS Y9, Y8, Y8; \
	VCMPPS $3, Y0, Y0, Y1; \
	VCMPPS $3, Y5, Y5, Y6; \
	VBLENDVPS Y1, Y0, Y3, Y3; \
	VBLENDVPS Y6, Y5, Y8, Y8; \
	VCMPPS $0x1e, Y10, Y0, Y1; \
	VCMPPS $0x1e, Y10, Y5, Y6; \
	VBLENDVPS Y1, Y15, Y3, Y3; \
	VBLENDVPS Y6, Y15, Y8, Y8; \
	VCMPPS $0x11, Y11, Y0, Y1; \
	VCMPPS $0x11, Y11, Y5, Y6; \
	VANDNPS Y3, Y1, Y0; \
	VANDNPS Y8, Y6, Y5

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

// Pairs of vectors go through EXP8X2, a last odd one through EXP8.
TEXT ·quickGELUAVX2(SB), NOSPLIT, $0-24
	MOVQ dst+0(FP), DI
	MOVQ src+8(FP), SI
	MOVQ n+16(FP), CX
	SHRQ $3, CX
	JZ   qgdone
	MOVQ CX, DX
	SHRQ $1, DX
	JZ   qgone
	LOADEXP2CONSTS

qgloop2:
	VMOVUPS (SI), Y0
	VMOVUPS 32(SI), Y5
	VMULPS expVecs<>+256(SB), Y0, Y0
	VMULPS expVecs<>+256(SB), Y5, Y5
	EXP8X2
	VADDPS Y13, Y0, Y0
	VADDPS Y13, Y5, Y5
	VMOVUPS (SI), Y1 // x again
	VMOVUPS 32(SI), Y6
	VDIVPS Y0, Y1, Y0
	VDIVPS Y5, Y6, Y5
	VMOVUPS Y0, (DI)
	VMOVUPS Y5, 32(DI)
	ADDQ $64, SI
	ADDQ $64, DI
	DECQ DX
	JNZ  qgloop2
	ANDQ $1, CX
	JZ   qgdone

qgone:
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

// Pairs of vectors go through EXP8X2, a last odd one through EXP8.
TEXT ·geluTanhAVX2(SB), NOSPLIT, $0-24
	MOVQ dst+0(FP), DI
	MOVQ src+8(FP), SI
	MOVQ n+16(FP), CX
	SHRQ $3, CX
	JZ   gtdone
	MOVQ CX, DX
	SHRQ $1, DX
	JZ   gtone
	LOADEXP2CONSTS

gtloop2:
	VMOVUPS (SI), Y0
	VMOVUPS 32(SI), Y5
	VMULPS Y0, Y0, Y1
	VMULPS Y5, Y5, Y6
	VFMADD132PS expVecs<>+320(SB), Y13, Y1 // 1 + 0.044715·x²
	VFMADD132PS expVecs<>+320(SB), Y13, Y6
	VMULPS Y1, Y0, Y0
	VMULPS Y6, Y5, Y5
	VMULPS expVecs<>+288(SB), Y0, Y0
	VMULPS expVecs<>+288(SB), Y5, Y5
	EXP8X2
	VADDPS Y13, Y0, Y0
	VADDPS Y13, Y5, Y5
	VMOVUPS (SI), Y1 // x again
	VMOVUPS 32(SI), Y6
	VDIVPS Y0, Y1, Y0
	VDIVPS Y5, Y6, Y5
	VMOVUPS Y0, (DI)
	VMOVUPS Y5, 32(DI)
	ADDQ $64, SI
	ADDQ $64, DI
	DECQ DX
	JNZ  gtloop2
	ANDQ $1, CX
	JZ   gtdone

gtone:
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
// (8 lane partial sums, then reduced); n a multiple of 8. EXP8 (and
// EXP8X2) take every register, so the partial sums live in a 32-byte
// local at 0(SP).
TEXT ·expShiftSumAVX2(SB), NOSPLIT, $32-36
	MOVQ dst+0(FP), DI
	MOVQ src+8(FP), SI
	MOVQ n+16(FP), CX
	VXORPS Y0, Y0, Y0
	VMOVUPS Y0, 0(SP)
	SHRQ $3, CX
	JZ   essreduce
	MOVQ CX, DX
	SHRQ $1, DX
	JZ   essone
	LOADEXP2CONSTS

	// Pairs of vectors through EXP8X2; the sum adds them in order, as
	// the one-vector loop does.
essloop2:
	VMOVUPS (SI), Y0
	VMOVUPS 32(SI), Y5
	VBROADCASTSS shift+24(FP), Y1
	VSUBPS Y1, Y0, Y0
	VSUBPS Y1, Y5, Y5
	EXP8X2
	VMOVUPS Y0, (DI)
	VMOVUPS Y5, 32(DI)
	VADDPS 0(SP), Y0, Y0
	VADDPS Y5, Y0, Y0
	VMOVUPS Y0, 0(SP)
	ADDQ $64, SI
	ADDQ $64, DI
	DECQ DX
	JNZ  essloop2
	ANDQ $1, CX
	JZ   essreduce

essone:
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
