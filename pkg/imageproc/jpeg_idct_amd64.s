#include "textflag.h"

// libjpeg's jidctred.c reduced IDCTs (jpeg_idct_4x4, jpeg_idct_2x2) in
// AVX2, one block per iteration: pass 1 runs on the 8 columns in the lanes
// of a register, the coefficients dequantised and multiplied by pass 1's
// constants in one VPMULLD with the premultiplied table (red4x4Table,
// red2x2Table); pass 2 transposes and runs on the rows. All arithmetic is
// 32-bit wrapping, as the Go twins idct4x4 / idct2x2.

// pass 2 constants of the 4x4 IDCT: [low 4 lanes | high 4 lanes] multiply
// the transposed columns [c2|c6], [c1|c5], [c3|c7].
DATA red4k2<>+0(SB)/4, $15137
DATA red4k2<>+4(SB)/4, $15137
DATA red4k2<>+8(SB)/4, $15137
DATA red4k2<>+12(SB)/4, $15137
DATA red4k2<>+16(SB)/4, $-6270
DATA red4k2<>+20(SB)/4, $-6270
DATA red4k2<>+24(SB)/4, $-6270
DATA red4k2<>+28(SB)/4, $-6270
GLOBL red4k2<>(SB), RODATA|NOPTR, $32

DATA red4k1a<>+0(SB)/4, $8697
DATA red4k1a<>+4(SB)/4, $8697
DATA red4k1a<>+8(SB)/4, $8697
DATA red4k1a<>+12(SB)/4, $8697
DATA red4k1a<>+16(SB)/4, $11893
DATA red4k1a<>+20(SB)/4, $11893
DATA red4k1a<>+24(SB)/4, $11893
DATA red4k1a<>+28(SB)/4, $11893
GLOBL red4k1a<>(SB), RODATA|NOPTR, $32

DATA red4k3a<>+0(SB)/4, $-17799
DATA red4k3a<>+4(SB)/4, $-17799
DATA red4k3a<>+8(SB)/4, $-17799
DATA red4k3a<>+12(SB)/4, $-17799
DATA red4k3a<>+16(SB)/4, $-1730
DATA red4k3a<>+20(SB)/4, $-1730
DATA red4k3a<>+24(SB)/4, $-1730
DATA red4k3a<>+28(SB)/4, $-1730
GLOBL red4k3a<>(SB), RODATA|NOPTR, $32

DATA red4k1b<>+0(SB)/4, $20995
DATA red4k1b<>+4(SB)/4, $20995
DATA red4k1b<>+8(SB)/4, $20995
DATA red4k1b<>+12(SB)/4, $20995
DATA red4k1b<>+16(SB)/4, $-4926
DATA red4k1b<>+20(SB)/4, $-4926
DATA red4k1b<>+24(SB)/4, $-4926
DATA red4k1b<>+28(SB)/4, $-4926
GLOBL red4k1b<>(SB), RODATA|NOPTR, $32

DATA red4k3b<>+0(SB)/4, $7373
DATA red4k3b<>+4(SB)/4, $7373
DATA red4k3b<>+8(SB)/4, $7373
DATA red4k3b<>+12(SB)/4, $7373
DATA red4k3b<>+16(SB)/4, $-4176
DATA red4k3b<>+20(SB)/4, $-4176
DATA red4k3b<>+24(SB)/4, $-4176
DATA red4k3b<>+28(SB)/4, $-4176
GLOBL red4k3b<>(SB), RODATA|NOPTR, $32

// pass 2 odd constants of the 2x2 IDCT, by column (0, 2, 4, 6 unused).
DATA red2k<>+0(SB)/4, $0
DATA red2k<>+4(SB)/4, $29692
DATA red2k<>+8(SB)/4, $0
DATA red2k<>+12(SB)/4, $-10426
DATA red2k<>+16(SB)/4, $0
DATA red2k<>+20(SB)/4, $6967
DATA red2k<>+24(SB)/4, $0
DATA red2k<>+28(SB)/4, $-5906
GLOBL red2k<>(SB), RODATA|NOPTR, $32

DATA red2sign<>+0(SB)/4, $1
DATA red2sign<>+4(SB)/4, $1
DATA red2sign<>+8(SB)/4, $-1
DATA red2sign<>+12(SB)/4, $-1
GLOBL red2sign<>(SB), RODATA|NOPTR, $16

// bytes [o0 r0..3, o2 r0..3, o1 r0..3, o3 r0..3] to rows of 4
DATA red4shuf<>+0(SB)/8, $0x0d0509010c040800
DATA red4shuf<>+8(SB)/8, $0x0f070b030e060a02
GLOBL red4shuf<>(SB), RODATA|NOPTR, $16

// bytes [r0o0, r1o0, r0o1, r1o1] to [r0o0, r0o1, r1o0, r1o1]
DATA red2shuf<>+0(SB)/8, $0x0000000003010200
DATA red2shuf<>+8(SB)/8, $0x0000000000000000
GLOBL red2shuf<>(SB), RODATA|NOPTR, $16

DATA c2p11<>+0(SB)/4, $2048
GLOBL c2p11<>(SB), RODATA|NOPTR, $4
DATA c2p12<>+0(SB)/4, $4096
GLOBL c2p12<>(SB), RODATA|NOPTR, $4
DATA c2p18<>+0(SB)/4, $262144
GLOBL c2p18<>(SB), RODATA|NOPTR, $4
DATA c2p19<>+0(SB)/4, $524288
GLOBL c2p19<>(SB), RODATA|NOPTR, $4
DATA c128<>+0(SB)/4, $128
GLOBL c128<>(SB), RODATA|NOPTR, $4

// func idct4x4AVX2(coefs *int16, tab *[88]int32, out *uint8, stride, n int)
TEXT ·idct4x4AVX2(SB), NOSPLIT, $0-40
	MOVQ coefs+0(FP), SI
	MOVQ tab+8(FP), DX
	MOVQ out+16(FP), DI
	MOVQ stride+24(FP), BX
	MOVQ n+32(FP), CX
	LEAQ (BX)(BX*2), R8
	VPBROADCASTD c2p11<>(SB), Y14
	VPBROADCASTD c2p18<>(SB), Y15
	TESTQ CX, CX
	JZ    done4

loop4:
	// pass 1, even part: tmp10, tmp12 = tmp0 ± tmp2
	VPMOVSXWD 0(SI), Y0
	VPMULLD   0(DX), Y0, Y0
	VPMOVSXWD 32(SI), Y1
	VPMULLD   32(DX), Y1, Y1
	VPMOVSXWD 96(SI), Y2
	VPMULLD   64(DX), Y2, Y2
	VPADDD    Y2, Y1, Y1
	VPADDD    Y1, Y0, Y2
	VPSUBD    Y1, Y0, Y3

	// odd part: tmp0 (Y8) and tmp2 (Y4) from rows 7, 5, 3, 1
	VPMOVSXWD 112(SI), Y4
	VPMOVSXWD 80(SI), Y5
	VPMOVSXWD 48(SI), Y6
	VPMOVSXWD 16(SI), Y7
	VPMULLD   96(DX), Y4, Y8
	VPMULLD   128(DX), Y5, Y9
	VPADDD    Y9, Y8, Y8
	VPMULLD   160(DX), Y6, Y9
	VPADDD    Y9, Y8, Y8
	VPMULLD   192(DX), Y7, Y9
	VPADDD    Y9, Y8, Y8
	VPMULLD   224(DX), Y4, Y4
	VPMULLD   256(DX), Y5, Y5
	VPADDD    Y5, Y4, Y4
	VPMULLD   288(DX), Y6, Y6
	VPADDD    Y6, Y4, Y4
	VPMULLD   320(DX), Y7, Y7
	VPADDD    Y7, Y4, Y4

	// workspace rows 0..3 (lanes = columns), descaled by 12
	VPADDD Y4, Y2, Y10
	VPSUBD Y4, Y2, Y13
	VPADDD Y8, Y3, Y11
	VPSUBD Y8, Y3, Y12
	VPADDD Y14, Y10, Y10
	VPADDD Y14, Y11, Y11
	VPADDD Y14, Y12, Y12
	VPADDD Y14, Y13, Y13
	VPSRAD $12, Y10, Y10
	VPSRAD $12, Y11, Y11
	VPSRAD $12, Y12, Y12
	VPSRAD $12, Y13, Y13

	// transpose: Y4 = [c0|c4], Y5 = [c1|c5], Y6 = [c2|c6], Y7 = [c3|c7],
	// each half's lanes rows 0..3
	VPUNPCKLDQ  Y11, Y10, Y0
	VPUNPCKHDQ  Y11, Y10, Y1
	VPUNPCKLDQ  Y13, Y12, Y2
	VPUNPCKHDQ  Y13, Y12, Y3
	VPUNPCKLQDQ Y2, Y0, Y4
	VPUNPCKHQDQ Y2, Y0, Y5
	VPUNPCKLQDQ Y3, Y1, Y6
	VPUNPCKHQDQ Y3, Y1, Y7

	// pass 2 (lanes = rows): even tmp2 = c2·k + c6·k'
	VPMULLD      red4k2<>(SB), Y6, Y6
	VEXTRACTI128 $1, Y6, X8
	VPADDD       X8, X6, X6
	VPSLLD       $14, X4, X4
	VPADDD       X6, X4, X0          // tmp10
	VPSUBD       X6, X4, X1          // tmp12

	// odd: tmp0 (X2), tmp2 (X3)
	VPMULLD      red4k1a<>(SB), Y5, Y8
	VPMULLD      red4k3a<>(SB), Y7, Y9
	VPADDD       Y9, Y8, Y8
	VEXTRACTI128 $1, Y8, X9
	VPADDD       X9, X8, X2
	VPMULLD      red4k1b<>(SB), Y5, Y8
	VPMULLD      red4k3b<>(SB), Y7, Y9
	VPADDD       Y9, Y8, Y8
	VEXTRACTI128 $1, Y8, X9
	VPADDD       X9, X8, X3

	// [o0|o1] and [o2|o3], descaled by 19, +128
	VPADDD      X3, X0, X4           // o0
	VPSUBD      X3, X0, X7           // o3
	VPADDD      X2, X1, X5           // o1
	VPSUBD      X2, X1, X6           // o2
	VINSERTI128 $1, X5, Y4, Y4
	VINSERTI128 $1, X7, Y6, Y6
	VPADDD      Y15, Y4, Y4
	VPADDD      Y15, Y6, Y6
	VPSRAD      $19, Y4, Y4
	VPSRAD      $19, Y6, Y6
	VPBROADCASTD c128<>(SB), Y8
	VPADDD      Y8, Y4, Y4
	VPADDD      Y8, Y6, Y6
	VPACKSSDW   Y6, Y4, Y4
	VEXTRACTI128 $1, Y4, X5
	VPACKUSWB   X5, X4, X4
	VPSHUFB     red4shuf<>(SB), X4, X4

	VMOVD   X4, AX
	MOVL    AX, (DI)
	VPEXTRD $1, X4, AX
	MOVL    AX, (DI)(BX*1)
	VPEXTRD $2, X4, AX
	MOVL    AX, (DI)(BX*2)
	VPEXTRD $3, X4, AX
	MOVL    AX, (DI)(R8*1)

	ADDQ $128, SI
	ADDQ $4, DI
	DECQ CX
	JNZ  loop4

done4:
	VZEROUPPER
	RET

// func idct2x2AVX2(coefs *int16, tab *[40]int32, out *uint8, stride, n int)
TEXT ·idct2x2AVX2(SB), NOSPLIT, $0-40
	MOVQ coefs+0(FP), SI
	MOVQ tab+8(FP), DX
	MOVQ out+16(FP), DI
	MOVQ stride+24(FP), BX
	MOVQ n+32(FP), CX
	VPBROADCASTD c2p12<>(SB), Y14
	VPBROADCASTD c2p19<>(SB), X15
	VPBROADCASTD c128<>(SB), X13
	VMOVDQU      red2k<>(SB), Y12
	VMOVDQU      red2sign<>(SB), X11
	VMOVDQU      red2shuf<>(SB), X10
	TESTQ CX, CX
	JZ    done2

loop2:
	// pass 1: tmp10 (Y0) from row 0, tmp0 (Y1) from rows 7, 5, 3, 1
	VPMOVSXWD 0(SI), Y0
	VPMULLD   0(DX), Y0, Y0
	VPMOVSXWD 112(SI), Y1
	VPMULLD   32(DX), Y1, Y1
	VPMOVSXWD 80(SI), Y2
	VPMULLD   64(DX), Y2, Y2
	VPADDD    Y2, Y1, Y1
	VPMOVSXWD 48(SI), Y2
	VPMULLD   96(DX), Y2, Y2
	VPADDD    Y2, Y1, Y1
	VPMOVSXWD 16(SI), Y2
	VPMULLD   128(DX), Y2, Y2
	VPADDD    Y2, Y1, Y1

	// workspace rows 0, 1, descaled by 13
	VPADDD Y1, Y0, Y2
	VPSUBD Y1, Y0, Y3
	VPADDD Y14, Y2, Y2
	VPADDD Y14, Y3, Y3
	VPSRAD $13, Y2, Y2
	VPSRAD $13, Y3, Y3

	// pass 2: odd sums O0, O1 of each row
	VPMULLD      Y12, Y2, Y4
	VPMULLD      Y12, Y3, Y5
	VPHADDD      Y5, Y4, Y6
	VEXTRACTI128 $1, Y6, X7
	VPADDD       X7, X6, X6
	VPHADDD      X6, X6, X6          // [O0, O1, O0, O1]

	// even [E0, E1, E0, E1] = column 0 << 15
	VPUNPCKLDQ X3, X2, X7
	VPSHUFD    $0x44, X7, X7
	VPSLLD     $15, X7, X7
	VPSIGND    X11, X6, X6
	VPADDD     X6, X7, X7            // [r0o0, r1o0, r0o1, r1o1]
	VPADDD     X15, X7, X7
	VPSRAD     $20, X7, X7
	VPADDD     X13, X7, X7
	VPACKSSDW  X7, X7, X7
	VPACKUSWB  X7, X7, X7
	VPSHUFB    X10, X7, X7

	VMOVD X7, AX
	MOVW  AX, (DI)
	SHRL  $16, AX
	MOVW  AX, (DI)(BX*1)

	ADDQ $128, SI
	ADDQ $2, DI
	DECQ CX
	JNZ  loop2

done2:
	VZEROUPPER
	RET
