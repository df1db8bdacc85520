#include "textflag.h"

// libjpeg's jpeg_idct_islow (jidctint.c) in AVX2, one 8x8 block per
// iteration: pass 1 on the 8 columns in the lanes of a register (each row
// of coefficients dequantised as one vector), a transpose, pass 2 on the 8
// rows in lanes, a transpose back, +128 and saturating packs (the range
// limit). 32-bit wrapping arithmetic as the Go twin idctIslow, including
// its pass-1 shortcut for columns whose AC terms are all zero (DC << 2),
// which differs from the full formula only when the sums wrap.

DATA is0541<>+0(SB)/4, $4433
DATA is0541<>+4(SB)/4, $4433
DATA is0541<>+8(SB)/4, $4433
DATA is0541<>+12(SB)/4, $4433
DATA is0541<>+16(SB)/4, $4433
DATA is0541<>+20(SB)/4, $4433
DATA is0541<>+24(SB)/4, $4433
DATA is0541<>+28(SB)/4, $4433
GLOBL is0541<>(SB), RODATA|NOPTR, $32
DATA is0765<>+0(SB)/4, $6270
DATA is0765<>+4(SB)/4, $6270
DATA is0765<>+8(SB)/4, $6270
DATA is0765<>+12(SB)/4, $6270
DATA is0765<>+16(SB)/4, $6270
DATA is0765<>+20(SB)/4, $6270
DATA is0765<>+24(SB)/4, $6270
DATA is0765<>+28(SB)/4, $6270
GLOBL is0765<>(SB), RODATA|NOPTR, $32
DATA isM1847<>+0(SB)/4, $-15137
DATA isM1847<>+4(SB)/4, $-15137
DATA isM1847<>+8(SB)/4, $-15137
DATA isM1847<>+12(SB)/4, $-15137
DATA isM1847<>+16(SB)/4, $-15137
DATA isM1847<>+20(SB)/4, $-15137
DATA isM1847<>+24(SB)/4, $-15137
DATA isM1847<>+28(SB)/4, $-15137
GLOBL isM1847<>(SB), RODATA|NOPTR, $32
DATA is1175<>+0(SB)/4, $9633
DATA is1175<>+4(SB)/4, $9633
DATA is1175<>+8(SB)/4, $9633
DATA is1175<>+12(SB)/4, $9633
DATA is1175<>+16(SB)/4, $9633
DATA is1175<>+20(SB)/4, $9633
DATA is1175<>+24(SB)/4, $9633
DATA is1175<>+28(SB)/4, $9633
GLOBL is1175<>(SB), RODATA|NOPTR, $32
DATA is0298<>+0(SB)/4, $2446
DATA is0298<>+4(SB)/4, $2446
DATA is0298<>+8(SB)/4, $2446
DATA is0298<>+12(SB)/4, $2446
DATA is0298<>+16(SB)/4, $2446
DATA is0298<>+20(SB)/4, $2446
DATA is0298<>+24(SB)/4, $2446
DATA is0298<>+28(SB)/4, $2446
GLOBL is0298<>(SB), RODATA|NOPTR, $32
DATA is2053<>+0(SB)/4, $16819
DATA is2053<>+4(SB)/4, $16819
DATA is2053<>+8(SB)/4, $16819
DATA is2053<>+12(SB)/4, $16819
DATA is2053<>+16(SB)/4, $16819
DATA is2053<>+20(SB)/4, $16819
DATA is2053<>+24(SB)/4, $16819
DATA is2053<>+28(SB)/4, $16819
GLOBL is2053<>(SB), RODATA|NOPTR, $32
DATA is3072<>+0(SB)/4, $25172
DATA is3072<>+4(SB)/4, $25172
DATA is3072<>+8(SB)/4, $25172
DATA is3072<>+12(SB)/4, $25172
DATA is3072<>+16(SB)/4, $25172
DATA is3072<>+20(SB)/4, $25172
DATA is3072<>+24(SB)/4, $25172
DATA is3072<>+28(SB)/4, $25172
GLOBL is3072<>(SB), RODATA|NOPTR, $32
DATA is1501<>+0(SB)/4, $12299
DATA is1501<>+4(SB)/4, $12299
DATA is1501<>+8(SB)/4, $12299
DATA is1501<>+12(SB)/4, $12299
DATA is1501<>+16(SB)/4, $12299
DATA is1501<>+20(SB)/4, $12299
DATA is1501<>+24(SB)/4, $12299
DATA is1501<>+28(SB)/4, $12299
GLOBL is1501<>(SB), RODATA|NOPTR, $32
DATA isM0899<>+0(SB)/4, $-7373
DATA isM0899<>+4(SB)/4, $-7373
DATA isM0899<>+8(SB)/4, $-7373
DATA isM0899<>+12(SB)/4, $-7373
DATA isM0899<>+16(SB)/4, $-7373
DATA isM0899<>+20(SB)/4, $-7373
DATA isM0899<>+24(SB)/4, $-7373
DATA isM0899<>+28(SB)/4, $-7373
GLOBL isM0899<>(SB), RODATA|NOPTR, $32
DATA isM2562<>+0(SB)/4, $-20995
DATA isM2562<>+4(SB)/4, $-20995
DATA isM2562<>+8(SB)/4, $-20995
DATA isM2562<>+12(SB)/4, $-20995
DATA isM2562<>+16(SB)/4, $-20995
DATA isM2562<>+20(SB)/4, $-20995
DATA isM2562<>+24(SB)/4, $-20995
DATA isM2562<>+28(SB)/4, $-20995
GLOBL isM2562<>(SB), RODATA|NOPTR, $32
DATA isM1961<>+0(SB)/4, $-16069
DATA isM1961<>+4(SB)/4, $-16069
DATA isM1961<>+8(SB)/4, $-16069
DATA isM1961<>+12(SB)/4, $-16069
DATA isM1961<>+16(SB)/4, $-16069
DATA isM1961<>+20(SB)/4, $-16069
DATA isM1961<>+24(SB)/4, $-16069
DATA isM1961<>+28(SB)/4, $-16069
GLOBL isM1961<>(SB), RODATA|NOPTR, $32
DATA isM0390<>+0(SB)/4, $-3196
DATA isM0390<>+4(SB)/4, $-3196
DATA isM0390<>+8(SB)/4, $-3196
DATA isM0390<>+12(SB)/4, $-3196
DATA isM0390<>+16(SB)/4, $-3196
DATA isM0390<>+20(SB)/4, $-3196
DATA isM0390<>+24(SB)/4, $-3196
DATA isM0390<>+28(SB)/4, $-3196
GLOBL isM0390<>(SB), RODATA|NOPTR, $32
DATA isRnd1<>+0(SB)/4, $1024
DATA isRnd1<>+4(SB)/4, $1024
DATA isRnd1<>+8(SB)/4, $1024
DATA isRnd1<>+12(SB)/4, $1024
DATA isRnd1<>+16(SB)/4, $1024
DATA isRnd1<>+20(SB)/4, $1024
DATA isRnd1<>+24(SB)/4, $1024
DATA isRnd1<>+28(SB)/4, $1024
GLOBL isRnd1<>(SB), RODATA|NOPTR, $32
DATA isRnd2<>+0(SB)/4, $131072
DATA isRnd2<>+4(SB)/4, $131072
DATA isRnd2<>+8(SB)/4, $131072
DATA isRnd2<>+12(SB)/4, $131072
DATA isRnd2<>+16(SB)/4, $131072
DATA isRnd2<>+20(SB)/4, $131072
DATA isRnd2<>+24(SB)/4, $131072
DATA isRnd2<>+28(SB)/4, $131072
GLOBL isRnd2<>(SB), RODATA|NOPTR, $32
DATA is128<>+0(SB)/4, $128
DATA is128<>+4(SB)/4, $128
DATA is128<>+8(SB)/4, $128
DATA is128<>+12(SB)/4, $128
DATA is128<>+16(SB)/4, $128
DATA is128<>+20(SB)/4, $128
DATA is128<>+24(SB)/4, $128
DATA is128<>+28(SB)/4, $128
GLOBL is128<>(SB), RODATA|NOPTR, $32
DATA isPerm<>+0(SB)/4, $0
DATA isPerm<>+4(SB)/4, $4
DATA isPerm<>+8(SB)/4, $1
DATA isPerm<>+12(SB)/4, $5
DATA isPerm<>+16(SB)/4, $2
DATA isPerm<>+20(SB)/4, $6
DATA isPerm<>+24(SB)/4, $3
DATA isPerm<>+28(SB)/4, $7
GLOBL isPerm<>(SB), RODATA|NOPTR, $32

// isIDCT8 is one 1-D pass on Y0..Y7 = inputs 0..7 (lanes independent),
// leaving (output + rnd) >> sh in Y0..Y7; clobbers Y8..Y13.
#define isIDCT8(rnd, sh) \
	VPADDD  Y6, Y2, Y8 \
	VPMULLD is0541<>(SB), Y8, Y8 \
	VPMULLD isM1847<>(SB), Y6, Y9 \
	VPADDD  Y8, Y9, Y9 \
	VPMULLD is0765<>(SB), Y2, Y10 \
	VPADDD  Y8, Y10, Y10 \
	VPADDD  Y4, Y0, Y11 \
	VPSLLD  $13, Y11, Y11 \
	VPSUBD  Y4, Y0, Y12 \
	VPSLLD  $13, Y12, Y12 \
	VPADDD  Y10, Y11, Y0 \
	VPSUBD  Y10, Y11, Y6 \
	VPADDD  Y9, Y12, Y2 \
	VPSUBD  Y9, Y12, Y4 \
	VPADDD  Y1, Y7, Y8 \
	VPADDD  Y3, Y5, Y9 \
	VPADDD  Y3, Y7, Y10 \
	VPADDD  Y1, Y5, Y11 \
	VPADDD  Y11, Y10, Y12 \
	VPMULLD is1175<>(SB), Y12, Y12 \
	VPMULLD is0298<>(SB), Y7, Y7 \
	VPMULLD is2053<>(SB), Y5, Y5 \
	VPMULLD is3072<>(SB), Y3, Y3 \
	VPMULLD is1501<>(SB), Y1, Y1 \
	VPMULLD isM0899<>(SB), Y8, Y8 \
	VPMULLD isM2562<>(SB), Y9, Y9 \
	VPMULLD isM1961<>(SB), Y10, Y10 \
	VPMULLD isM0390<>(SB), Y11, Y11 \
	VPADDD  Y12, Y10, Y10 \
	VPADDD  Y12, Y11, Y11 \
	VPADDD  Y8, Y7, Y7 \
	VPADDD  Y10, Y7, Y7 \
	VPADDD  Y9, Y5, Y5 \
	VPADDD  Y11, Y5, Y5 \
	VPADDD  Y9, Y3, Y3 \
	VPADDD  Y10, Y3, Y3 \
	VPADDD  Y8, Y1, Y1 \
	VPADDD  Y11, Y1, Y1 \
	VPADDD  Y1, Y0, Y8 \
	VPSUBD  Y1, Y0, Y9 \
	VPADDD  Y3, Y2, Y10 \
	VPSUBD  Y3, Y2, Y11 \
	VPADDD  Y5, Y4, Y12 \
	VPSUBD  Y5, Y4, Y13 \
	VPADDD  Y7, Y6, Y3 \
	VPSUBD  Y7, Y6, Y4 \
	VPADDD  rnd, Y8, Y0 \
	VPADDD  rnd, Y10, Y1 \
	VPADDD  rnd, Y12, Y2 \
	VPADDD  rnd, Y3, Y3 \
	VPADDD  rnd, Y4, Y4 \
	VPADDD  rnd, Y13, Y5 \
	VPADDD  rnd, Y11, Y6 \
	VPADDD  rnd, Y9, Y7 \
	VPSRAD  $sh, Y0, Y0 \
	VPSRAD  $sh, Y1, Y1 \
	VPSRAD  $sh, Y2, Y2 \
	VPSRAD  $sh, Y3, Y3 \
	VPSRAD  $sh, Y4, Y4 \
	VPSRAD  $sh, Y5, Y5 \
	VPSRAD  $sh, Y6, Y6 \
	VPSRAD  $sh, Y7, Y7

// isTranspose8 transposes the 8x8 dwords in Y0..Y7; clobbers Y8..Y15.
#define isTranspose8 \
	VPUNPCKLDQ  Y1, Y0, Y8 \
	VPUNPCKHDQ  Y1, Y0, Y9 \
	VPUNPCKLDQ  Y3, Y2, Y10 \
	VPUNPCKHDQ  Y3, Y2, Y11 \
	VPUNPCKLDQ  Y5, Y4, Y12 \
	VPUNPCKHDQ  Y5, Y4, Y13 \
	VPUNPCKLDQ  Y7, Y6, Y14 \
	VPUNPCKHDQ  Y7, Y6, Y15 \
	VPUNPCKLQDQ Y10, Y8, Y0 \
	VPUNPCKHQDQ Y10, Y8, Y1 \
	VPUNPCKLQDQ Y11, Y9, Y2 \
	VPUNPCKHQDQ Y11, Y9, Y3 \
	VPUNPCKLQDQ Y14, Y12, Y4 \
	VPUNPCKHQDQ Y14, Y12, Y5 \
	VPUNPCKLQDQ Y15, Y13, Y6 \
	VPUNPCKHQDQ Y15, Y13, Y7 \
	VPERM2I128  $0x20, Y4, Y0, Y8 \
	VPERM2I128  $0x31, Y4, Y0, Y12 \
	VPERM2I128  $0x20, Y5, Y1, Y9 \
	VPERM2I128  $0x31, Y5, Y1, Y13 \
	VPERM2I128  $0x20, Y6, Y2, Y10 \
	VPERM2I128  $0x31, Y6, Y2, Y14 \
	VPERM2I128  $0x20, Y7, Y3, Y11 \
	VPERM2I128  $0x31, Y7, Y3, Y15 \
	VMOVDQA     Y8, Y0 \
	VMOVDQA     Y9, Y1 \
	VMOVDQA     Y10, Y2 \
	VMOVDQA     Y11, Y3 \
	VMOVDQA     Y12, Y4 \
	VMOVDQA     Y13, Y5 \
	VMOVDQA     Y14, Y6 \
	VMOVDQA     Y15, Y7

#define isLoadRow(r, y) \
	VPMOVSXWD (16*r)(SI), y \
	VPMULLD   (32*r)(DX), y, y

// func idctIslowAVX2(coefs *int16, q *[64]int32, out *uint8, stride, n int)
TEXT ·idctIslowAVX2(SB), NOSPLIT, $0-40
	MOVQ  coefs+0(FP), SI
	MOVQ  q+8(FP), DX
	MOVQ  out+16(FP), DI
	MOVQ  stride+24(FP), BX
	MOVQ  n+32(FP), CX
	LEAQ  (BX)(BX*2), R8
	TESTQ CX, CX
	JZ    isdone

isloop:
	isLoadRow(0, Y0)
	isLoadRow(1, Y1)
	isLoadRow(2, Y2)
	isLoadRow(3, Y3)
	isLoadRow(4, Y4)
	isLoadRow(5, Y5)
	isLoadRow(6, Y6)
	isLoadRow(7, Y7)
	isIDCT8(isRnd1<>(SB), 11)

	// columns whose coefficients 8..63 are all zero: DC << 2
	VMOVDQU    16(SI), X8
	VPOR       32(SI), X8, X8
	VPOR       48(SI), X8, X8
	VPOR       64(SI), X8, X8
	VPOR       80(SI), X8, X8
	VPOR       96(SI), X8, X8
	VPOR       112(SI), X8, X8
	VPXOR      X9, X9, X9
	VPCMPEQW   X9, X8, X8
	VPMOVSXWD  X8, Y8
	VPMOVSXWD  0(SI), Y9
	VPMULLD    0(DX), Y9, Y9
	VPSLLD     $2, Y9, Y9
	VPBLENDVB  Y8, Y9, Y0, Y0
	VPBLENDVB  Y8, Y9, Y1, Y1
	VPBLENDVB  Y8, Y9, Y2, Y2
	VPBLENDVB  Y8, Y9, Y3, Y3
	VPBLENDVB  Y8, Y9, Y4, Y4
	VPBLENDVB  Y8, Y9, Y5, Y5
	VPBLENDVB  Y8, Y9, Y6, Y6
	VPBLENDVB  Y8, Y9, Y7, Y7

	isTranspose8
	isIDCT8(isRnd2<>(SB), 18)
	isTranspose8

	// rows 0..7: +128, packed to bytes with saturation
	VMOVDQU   is128<>(SB), Y15
	VPADDD    Y15, Y0, Y0
	VPADDD    Y15, Y1, Y1
	VPADDD    Y15, Y2, Y2
	VPADDD    Y15, Y3, Y3
	VPADDD    Y15, Y4, Y4
	VPADDD    Y15, Y5, Y5
	VPADDD    Y15, Y6, Y6
	VPADDD    Y15, Y7, Y7
	VPACKSSDW Y1, Y0, Y0
	VPACKSSDW Y3, Y2, Y2
	VPACKSSDW Y5, Y4, Y4
	VPACKSSDW Y7, Y6, Y6
	VPACKUSWB Y2, Y0, Y0
	VPACKUSWB Y6, Y4, Y4
	VMOVDQU   isPerm<>(SB), Y15
	VPERMD    Y0, Y15, Y0
	VPERMD    Y4, Y15, Y4

	VMOVQ        X0, (DI)
	VPEXTRQ      $1, X0, (DI)(BX*1)
	VEXTRACTI128 $1, Y0, X1
	VMOVQ        X1, (DI)(BX*2)
	VPEXTRQ      $1, X1, (DI)(R8*1)
	LEAQ         (DI)(BX*4), R9
	VMOVQ        X4, (R9)
	VPEXTRQ      $1, X4, (R9)(BX*1)
	VEXTRACTI128 $1, Y4, X5
	VMOVQ        X5, (R9)(BX*2)
	VPEXTRQ      $1, X5, (R9)(R8*1)

	ADDQ $128, SI
	ADDQ $8, DI
	DECQ CX
	JNZ  isloop

isdone:
	VZEROUPPER
	RET
