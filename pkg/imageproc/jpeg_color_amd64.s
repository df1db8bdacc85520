#include "textflag.h"

// jdcolor.c's ycc_rgb_convert in AVX2, 16 pixels per iteration: the table
// entries of newYCCTables computed in 32-bit lanes with the same constants
// and rounding (R = Y + (FIX(1.402)·(Cr-128) + 2^15) >> 16, G = Y +
// (-FIX(0.34414)·(Cb-128) + 2^15 - FIX(0.71414)·(Cr-128)) >> 16, B = Y +
// (FIX(1.772)·(Cb-128) + 2^15) >> 16), clamped by saturating packs (the
// tables' range_limit: the sums lie in -227..482, where libjpeg's mask is
// a plain clamp), then interleaved to RGB with byte shuffles.

DATA yccShuf<>+0(SB)/8, $0x8002808001808000
DATA yccShuf<>+8(SB)/8, $0x0580800480800380
DATA yccShuf<>+16(SB)/8, $0x8080078080068080
DATA yccShuf<>+24(SB)/8, $0x800a808009808008
DATA yccShuf<>+32(SB)/8, $0x0d80800c80800b80
DATA yccShuf<>+40(SB)/8, $0x80800f80800e8080
DATA yccShuf<>+48(SB)/8, $0x0280800180800080
DATA yccShuf<>+56(SB)/8, $0x8080048080038080
DATA yccShuf<>+64(SB)/8, $0x8007808006808005
DATA yccShuf<>+72(SB)/8, $0x0a80800980800880
DATA yccShuf<>+80(SB)/8, $0x80800c80800b8080
DATA yccShuf<>+88(SB)/8, $0x800f80800e80800d
DATA yccShuf<>+96(SB)/8, $0x8080018080008080
DATA yccShuf<>+104(SB)/8, $0x8004808003808002
DATA yccShuf<>+112(SB)/8, $0x0780800680800580
DATA yccShuf<>+120(SB)/8, $0x8080098080088080
DATA yccShuf<>+128(SB)/8, $0x800c80800b80800a
DATA yccShuf<>+136(SB)/8, $0x0f80800e80800d80
GLOBL yccShuf<>(SB), RODATA|NOPTR, $144

DATA yccK<>+0(SB)/4, $128
DATA yccK<>+4(SB)/4, $91881
DATA yccK<>+8(SB)/4, $116130
DATA yccK<>+12(SB)/4, $-22554
DATA yccK<>+16(SB)/4, $-46802
DATA yccK<>+20(SB)/4, $32768
GLOBL yccK<>(SB), RODATA|NOPTR, $24

// ycc8 converts the 8 pixels at offset off of the Y, Cb, Cr rows (SI, R8,
// R9) to R, G, B dwords in r, g, b; clobbers Y7, Y8.
#define ycc8(off, r, g, b) \
	VPMOVZXBD off(R8), Y7 \
	VPSUBD    Y10, Y7, Y7 \
	VPMOVZXBD off(R9), Y8 \
	VPSUBD    Y10, Y8, Y8 \
	VPMULLD   Y11, Y8, r \
	VPADDD    Y15, r, r \
	VPSRAD    $16, r, r \
	VPMULLD   Y12, Y7, b \
	VPADDD    Y15, b, b \
	VPSRAD    $16, b, b \
	VPMULLD   Y13, Y7, Y7 \
	VPMULLD   Y14, Y8, Y8 \
	VPADDD    Y8, Y7, g \
	VPADDD    Y15, g, g \
	VPSRAD    $16, g, g \
	VPMOVZXBD off(SI), Y7 \
	VPADDD    Y7, r, r \
	VPADDD    Y7, g, g \
	VPADDD    Y7, b, b

// pack16 turns the dwords of pixels 0-7 (lo) and 8-15 (hi) into 16 bytes
// in order, clamped to 0..255, in X(lo).
#define pack16(lo, hi, xlo, xhi) \
	VPACKSSDW    hi, lo, lo \
	VPERMQ       $0xD8, lo, lo \
	VEXTRACTI128 $1, lo, xhi \
	VPACKUSWB    xhi, xlo, xlo

// func yccRowAVX2(o, y, cb, cr *uint8, n int)
// n is a multiple of 16; o receives 3n bytes.
TEXT ·yccRowAVX2(SB), NOSPLIT, $0-40
	MOVQ o+0(FP), DI
	MOVQ y+8(FP), SI
	MOVQ cb+16(FP), R8
	MOVQ cr+24(FP), R9
	MOVQ n+32(FP), CX
	VPBROADCASTD yccK<>+0(SB), Y10
	VPBROADCASTD yccK<>+4(SB), Y11
	VPBROADCASTD yccK<>+8(SB), Y12
	VPBROADCASTD yccK<>+12(SB), Y13
	VPBROADCASTD yccK<>+16(SB), Y14
	VPBROADCASTD yccK<>+20(SB), Y15
	SHRQ $4, CX
	JZ   done

loop:
	ycc8(0, Y0, Y1, Y2)
	ycc8(8, Y3, Y4, Y5)
	pack16(Y0, Y3, X0, X3)
	pack16(Y1, Y4, X1, X4)
	pack16(Y2, Y5, X2, X5)

	// X0, X1, X2 = R, G, B of 16 pixels: interleave into 48 bytes
	VPSHUFB yccShuf<>+0(SB), X0, X3
	VPSHUFB yccShuf<>+48(SB), X1, X4
	VPSHUFB yccShuf<>+96(SB), X2, X5
	VPOR    X4, X3, X3
	VPOR    X5, X3, X3
	VMOVDQU X3, 0(DI)
	VPSHUFB yccShuf<>+16(SB), X0, X3
	VPSHUFB yccShuf<>+64(SB), X1, X4
	VPSHUFB yccShuf<>+112(SB), X2, X5
	VPOR    X4, X3, X3
	VPOR    X5, X3, X3
	VMOVDQU X3, 16(DI)
	VPSHUFB yccShuf<>+32(SB), X0, X3
	VPSHUFB yccShuf<>+80(SB), X1, X4
	VPSHUFB yccShuf<>+128(SB), X2, X5
	VPOR    X4, X3, X3
	VPOR    X5, X3, X3
	VMOVDQU X3, 32(DI)

	ADDQ $16, SI
	ADDQ $16, R8
	ADDQ $16, R9
	ADDQ $48, DI
	DECQ CX
	JNZ  loop

done:
	VZEROUPPER
	RET


// fancyV8 loads V = 3·near + far for the 8 chroma samples at offset off
// of the rows at SI (near) and R8 (far) into v; clobbers Y7.
#define fancyV8(off, v) \
	VPMOVZXBD off(SI), v \
	VPADDD    v, v, Y7 \
	VPADDD    Y7, v, v \
	VPMOVZXBD off(R8), Y7 \
	VPADDD    Y7, v, v

// func fancyH2AVX2(out, near, far *uint8, n int, bias0, bias1 int32)
// libjpeg's h2v2 fancy upsampling of chroma samples 1..n (n a multiple of
// 8, samples up to n+1 readable): V = 3·near + far, then sample i gives
// out[2i] = (3·V[i] + V[i-1] + bias0) >> 4 and out[2i+1] = (3·V[i] +
// V[i+1] + bias1) >> 4. h2v1 is the same with far = near and 4× biases.
TEXT ·fancyH2AVX2(SB), NOSPLIT, $0-40
	MOVQ         out+0(FP), DI
	MOVQ         near+8(FP), SI
	MOVQ         far+16(FP), R8
	MOVQ         n+24(FP), CX
	MOVL         bias0+32(FP), AX
	VMOVD        AX, X14
	VPBROADCASTD X14, Y14
	MOVL         bias1+36(FP), AX
	VMOVD        AX, X15
	VPBROADCASTD X15, Y15
	ADDQ         $2, DI
	SHRQ         $3, CX
	JZ           fdone

floop:
	fancyV8(0, Y0)
	fancyV8(1, Y1)
	fancyV8(2, Y2)
	VPADDD       Y1, Y1, Y3
	VPADDD       Y3, Y1, Y1
	VPADDD       Y1, Y0, Y0
	VPADDD       Y14, Y0, Y0
	VPSRAD       $4, Y0, Y0
	VPADDD       Y1, Y2, Y2
	VPADDD       Y15, Y2, Y2
	VPSRAD       $4, Y2, Y2
	VPUNPCKLDQ   Y2, Y0, Y3
	VPUNPCKHDQ   Y2, Y0, Y4
	VPACKSSDW    Y4, Y3, Y3
	VEXTRACTI128 $1, Y3, X4
	VPACKUSWB    X4, X3, X3
	VMOVDQU      X3, (DI)
	ADDQ         $8, SI
	ADDQ         $8, R8
	ADDQ         $16, DI
	DECQ         CX
	JNZ          floop

fdone:
	VZEROUPPER
	RET
