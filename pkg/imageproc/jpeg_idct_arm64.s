#include "textflag.h"

// libjpeg's jidctred.c reduced IDCTs (jpeg_idct_4x4, jpeg_idct_2x2) in
// NEON, one block per iteration, the twins of idct4x4 and idct2x2: pass 1
// runs on the 8 columns, 4 per register (the coefficients widened from
// int16 and multiplied by red4x4Table's / red2x2Table's premultiplied rows,
// so one MUL or MLA per coefficient); pass 2 on the rows. All arithmetic is
// 32-bit wrapping, the rounding added before an arithmetic shift (DESCALE,
// not NEON's rounding shifts, which would not wrap as the Go twins do),
// then +128 and saturating narrows (the range limit). Pass 1's two column
// halves are written out rather than looped (SXTL vs SXTL2, the table's
// second half): a loop (rotating the rows' high halves down, or loading
// half rows) executed 150 instead of 136 instructions per 4x4 block and 85
// instead of 69 per 2x2 block (counted under qemu), and the 2x2 IDCT is the
// reduced decode's luma path. Instructions the Go assembler lacks are WORDs
// with the instruction in their comment.

// pass 2 constants of the 4x4 IDCT, used by lane (MUL/MLA by element):
// [FIX(1.847759065), -FIX(0.765366865), -FIX(0.211164243), FIX(1.451774981)]
DATA red4kA<>+0(SB)/4, $15137
DATA red4kA<>+4(SB)/4, $-6270
DATA red4kA<>+8(SB)/4, $-1730
DATA red4kA<>+12(SB)/4, $11893
// [-FIX(2.172734803), FIX(1.061594337), -FIX(0.509795579), -FIX(0.601344887)]
DATA red4kA<>+16(SB)/4, $-17799
DATA red4kA<>+20(SB)/4, $8697
DATA red4kA<>+24(SB)/4, $-4176
DATA red4kA<>+28(SB)/4, $-4926
// [FIX(0.899976223), FIX(2.562915447), -, -]
DATA red4kA<>+32(SB)/4, $7373
DATA red4kA<>+36(SB)/4, $20995
DATA red4kA<>+40(SB)/4, $0
DATA red4kA<>+44(SB)/4, $0
GLOBL red4kA<>(SB), RODATA|NOPTR, $48

// bytes [out0 r0..3, out1 r0..3, out2 r0..3, out3 r0..3] to rows of 4
DATA red4rows<>+0(SB)/8, $0x0D0905010C080400
DATA red4rows<>+8(SB)/8, $0x0F0B07030E0A0602
GLOBL red4rows<>(SB), RODATA|NOPTR, $16

// pass 2 odd constants of the 2x2 IDCT by column, columns 0-3 then 4-7
// (0, 2, 4, 6 do not contribute): FIX(3.624509785), -FIX(1.272758580),
// FIX(0.850430095), -FIX(0.720959822).
DATA red2k<>+0(SB)/4, $0
DATA red2k<>+4(SB)/4, $29692
DATA red2k<>+8(SB)/4, $0
DATA red2k<>+12(SB)/4, $-10426
DATA red2k<>+16(SB)/4, $0
DATA red2k<>+20(SB)/4, $6967
DATA red2k<>+24(SB)/4, $0
DATA red2k<>+28(SB)/4, $-5906
GLOBL red2k<>(SB), RODATA|NOPTR, $32

// func idct4x4SIMD(coefs *int16, tab *[88]int32, out *uint8, stride, n int)
// Pass 1 leaves each half's 4 workspace rows in V20..V23 (a column per
// lane); ST4 stores them transposed, so the stack holds column c of the
// workspace (rows 0..3) at 16c, and pass 2 loads the columns with the 4
// rows in lanes. Pass 2's 4 outputs (a column of pixels each) narrow to
// 16 bytes, which one TBL turns into rows.
TEXT ·idct4x4SIMD(SB), NOSPLIT, $128-40
	MOVD coefs+0(FP), R0
	MOVD tab+8(FP), R1
	MOVD out+16(FP), R2
	MOVD stride+24(FP), R3
	MOVD n+32(FP), R4
	MOVD $ws-128(SP), R7
	MOVD $32, R6 // table row stride
	MOVD $red4kA<>(SB), R5
	VLD1 (R5), [V29.S4, V30.S4, V31.S4]
	MOVD $red4rows<>(SB), R5
	VLD1 (R5), [V25.B16]
	MOVW $2048, R5 // pass 1 rounding, 1 << (13-2+1-1)
	VDUP R5, V28.S4
	MOVW $262144, R5 // pass 2 rounding, 1 << (13+2+3+1-1)
	VDUP R5, V27.S4
	MOVW $128, R5
	VDUP R5, V26.S4
	CBZ  R4, done4

block4:
	VLD1.P 64(R0), [V0.H8, V1.H8, V2.H8, V3.H8]
	VLD1.P 64(R0), [V4.H8, V5.H8, V6.H8, V7.H8]

	// pass 1, columns 0..3
	WORD $0x0F10A408 // SXTL V8.4S, V0.4H
	WORD $0x0F10A429 // SXTL V9.4S, V1.4H
	WORD $0x0F10A44A // SXTL V10.4S, V2.4H
	WORD $0x0F10A46B // SXTL V11.4S, V3.4H
	WORD $0x0F10A4AC // SXTL V12.4S, V5.4H
	WORD $0x0F10A4CD // SXTL V13.4S, V6.4H
	WORD $0x0F10A4EE // SXTL V14.4S, V7.4H
	MOVD R1, R5
	VLD1.P (R5)(R6), [V15.S4]
	WORD $0x4EAF9D10 // MUL V16.4S, V8.4S, V15.4S
	VADD V28.S4, V16.S4, V16.S4 // tmp0 + rounding
	VLD1.P (R5)(R6), [V15.S4]
	WORD $0x4EAF9D51 // MUL V17.4S, V10.4S, V15.4S
	VLD1.P (R5)(R6), [V15.S4]
	WORD $0x4EAF95B1 // MLA V17.4S, V13.4S, V15.4S
	VADD V17.S4, V16.S4, V18.S4 // tmp10
	VSUB V17.S4, V16.S4, V19.S4 // tmp12
	VLD1.P (R5)(R6), [V15.S4]
	WORD $0x4EAF9DD8 // MUL V24.4S, V14.4S, V15.4S
	VLD1.P (R5)(R6), [V15.S4]
	WORD $0x4EAF9598 // MLA V24.4S, V12.4S, V15.4S
	VLD1.P (R5)(R6), [V15.S4]
	WORD $0x4EAF9578 // MLA V24.4S, V11.4S, V15.4S
	VLD1.P (R5)(R6), [V15.S4]
	WORD $0x4EAF9538 // MLA V24.4S, V9.4S, V15.4S
	VLD1.P (R5)(R6), [V15.S4]
	WORD $0x4EAF9DD0 // MUL V16.4S, V14.4S, V15.4S
	VLD1.P (R5)(R6), [V15.S4]
	WORD $0x4EAF9590 // MLA V16.4S, V12.4S, V15.4S
	VLD1.P (R5)(R6), [V15.S4]
	WORD $0x4EAF9570 // MLA V16.4S, V11.4S, V15.4S
	VLD1.P (R5)(R6), [V15.S4]
	WORD $0x4EAF9530 // MLA V16.4S, V9.4S, V15.4S
	VADD V16.S4, V18.S4, V20.S4
	VSUB V16.S4, V18.S4, V23.S4
	VADD V24.S4, V19.S4, V21.S4
	VSUB V24.S4, V19.S4, V22.S4
	WORD $0x4F340694 // SSHR V20.4S, V20.4S, #12
	WORD $0x4F3406B5 // SSHR V21.4S, V21.4S, #12
	WORD $0x4F3406D6 // SSHR V22.4S, V22.4S, #12
	WORD $0x4F3406F7 // SSHR V23.4S, V23.4S, #12
	MOVD R7, R8
	VST4.P [V20.S4, V21.S4, V22.S4, V23.S4], 64(R8)

	// pass 1, columns 4..7
	WORD $0x4F10A408 // SXTL2 V8.4S, V0.8H
	WORD $0x4F10A429 // SXTL2 V9.4S, V1.8H
	WORD $0x4F10A44A // SXTL2 V10.4S, V2.8H
	WORD $0x4F10A46B // SXTL2 V11.4S, V3.8H
	WORD $0x4F10A4AC // SXTL2 V12.4S, V5.8H
	WORD $0x4F10A4CD // SXTL2 V13.4S, V6.8H
	WORD $0x4F10A4EE // SXTL2 V14.4S, V7.8H
	ADD  $16, R1, R5
	VLD1.P (R5)(R6), [V15.S4]
	WORD $0x4EAF9D10 // MUL V16.4S, V8.4S, V15.4S
	VADD V28.S4, V16.S4, V16.S4
	VLD1.P (R5)(R6), [V15.S4]
	WORD $0x4EAF9D51 // MUL V17.4S, V10.4S, V15.4S
	VLD1.P (R5)(R6), [V15.S4]
	WORD $0x4EAF95B1 // MLA V17.4S, V13.4S, V15.4S
	VADD V17.S4, V16.S4, V18.S4
	VSUB V17.S4, V16.S4, V19.S4
	VLD1.P (R5)(R6), [V15.S4]
	WORD $0x4EAF9DD8 // MUL V24.4S, V14.4S, V15.4S
	VLD1.P (R5)(R6), [V15.S4]
	WORD $0x4EAF9598 // MLA V24.4S, V12.4S, V15.4S
	VLD1.P (R5)(R6), [V15.S4]
	WORD $0x4EAF9578 // MLA V24.4S, V11.4S, V15.4S
	VLD1.P (R5)(R6), [V15.S4]
	WORD $0x4EAF9538 // MLA V24.4S, V9.4S, V15.4S
	VLD1.P (R5)(R6), [V15.S4]
	WORD $0x4EAF9DD0 // MUL V16.4S, V14.4S, V15.4S
	VLD1.P (R5)(R6), [V15.S4]
	WORD $0x4EAF9590 // MLA V16.4S, V12.4S, V15.4S
	VLD1.P (R5)(R6), [V15.S4]
	WORD $0x4EAF9570 // MLA V16.4S, V11.4S, V15.4S
	VLD1.P (R5)(R6), [V15.S4]
	WORD $0x4EAF9530 // MLA V16.4S, V9.4S, V15.4S
	VADD V16.S4, V18.S4, V20.S4
	VSUB V16.S4, V18.S4, V23.S4
	VADD V24.S4, V19.S4, V21.S4
	VSUB V24.S4, V19.S4, V22.S4
	WORD $0x4F340694 // SSHR V20.4S, V20.4S, #12
	WORD $0x4F3406B5 // SSHR V21.4S, V21.4S, #12
	WORD $0x4F3406D6 // SSHR V22.4S, V22.4S, #12
	WORD $0x4F3406F7 // SSHR V23.4S, V23.4S, #12
	VST4 [V20.S4, V21.S4, V22.S4, V23.S4], (R8)

	// pass 2: workspace columns 0..7 (rows in lanes) into V8..V15
	MOVD R7, R8
	VLD1.P 64(R8), [V8.S4, V9.S4, V10.S4, V11.S4]
	VLD1   (R8), [V12.S4, V13.S4, V14.S4, V15.S4]
	VSHL $14, V8.S4, V16.S4
	VADD V27.S4, V16.S4, V16.S4 // tmp0 + rounding
	WORD $0x4F9D8151 // MUL V17.4S, V10.4S, V29.S[0]
	WORD $0x6FBD01D1 // MLA V17.4S, V14.4S, V29.S[1]
	VADD V17.S4, V16.S4, V18.S4 // tmp10
	VSUB V17.S4, V16.S4, V19.S4 // tmp12
	WORD $0x4F9D89F8 // MUL V24.4S, V15.4S, V29.S[2]
	WORD $0x6FBD09B8 // MLA V24.4S, V13.4S, V29.S[3]
	WORD $0x6F9E0178 // MLA V24.4S, V11.4S, V30.S[0]
	WORD $0x6FBE0138 // MLA V24.4S, V9.4S, V30.S[1]
	WORD $0x4F9E89F0 // MUL V16.4S, V15.4S, V30.S[2]
	WORD $0x6FBE09B0 // MLA V16.4S, V13.4S, V30.S[3]
	WORD $0x6F9F0170 // MLA V16.4S, V11.4S, V31.S[0]
	WORD $0x6FBF0130 // MLA V16.4S, V9.4S, V31.S[1]
	VADD V16.S4, V18.S4, V20.S4 // out0
	VADD V24.S4, V19.S4, V21.S4 // out1
	VSUB V24.S4, V19.S4, V22.S4 // out2
	VSUB V16.S4, V18.S4, V23.S4 // out3
	WORD $0x4F2D0694 // SSHR V20.4S, V20.4S, #19
	WORD $0x4F2D06B5 // SSHR V21.4S, V21.4S, #19
	WORD $0x4F2D06D6 // SSHR V22.4S, V22.4S, #19
	WORD $0x4F2D06F7 // SSHR V23.4S, V23.4S, #19
	VADD V26.S4, V20.S4, V20.S4
	VADD V26.S4, V21.S4, V21.S4
	VADD V26.S4, V22.S4, V22.S4
	VADD V26.S4, V23.S4, V23.S4
	WORD $0x0E614A94 // SQXTN V20.4H, V20.4S
	WORD $0x4E614AB4 // SQXTN2 V20.8H, V21.4S
	WORD $0x0E614AD6 // SQXTN V22.4H, V22.4S
	WORD $0x4E614AF6 // SQXTN2 V22.8H, V23.4S
	WORD $0x2E212A94 // SQXTUN V20.8B, V20.8H
	WORD $0x6E212AD4 // SQXTUN2 V20.16B, V22.8H
	VTBL V25.B16, [V20.B16], V20.B16

	ADD  R3, R2, R9
	VMOV V20.S[0], R10
	MOVW R10, (R2)
	VMOV V20.S[1], R10
	MOVW R10, (R9)
	ADD  R3, R9
	VMOV V20.S[2], R10
	MOVW R10, (R9)
	VMOV V20.S[3], R10
	MOVW R10, (R9)(R3)
	ADD  $4, R2
	SUB  $1, R4
	CBNZ R4, block4

done4:
	RET

// func idct2x2SIMD(coefs *int16, tab *[40]int32, out *uint8, stride, n int)
// Pass 1 gives the 2 workspace rows as [columns 0..3 | 4..7] in V16/V18
// (row 0) and V17/V19 (row 1); pass 2 multiplies them by the odd
// constants by column and sums each row's lanes with two pairwise adds.
TEXT ·idct2x2SIMD(SB), NOSPLIT, $0-40
	MOVD coefs+0(FP), R0
	MOVD tab+8(FP), R1
	MOVD out+16(FP), R2
	MOVD stride+24(FP), R3
	MOVD n+32(FP), R4
	MOVD $32, R6 // table row stride
	MOVD $red2k<>(SB), R5
	VLD1 (R5), [V30.S4, V31.S4]
	MOVW $4096, R5 // pass 1 rounding, 1 << (13-2+2-1)
	VDUP R5, V29.S4
	MOVW $524288, R5 // pass 2 rounding, 1 << (13+2+3+2-1)
	VDUP R5, V28.S4
	MOVW $128, R5
	VDUP R5, V27.S4
	CBZ  R4, done2

block2:
	VLD1.P 64(R0), [V0.H8, V1.H8, V2.H8, V3.H8]
	VLD1.P 64(R0), [V4.H8, V5.H8, V6.H8, V7.H8]

	// pass 1, columns 0..3: rows 0, 1 of the workspace into V16, V17
	WORD $0x0F10A408 // SXTL V8.4S, V0.4H
	WORD $0x0F10A429 // SXTL V9.4S, V1.4H
	WORD $0x0F10A46A // SXTL V10.4S, V3.4H
	WORD $0x0F10A4AB // SXTL V11.4S, V5.4H
	WORD $0x0F10A4EC // SXTL V12.4S, V7.4H
	MOVD R1, R5
	VLD1.P (R5)(R6), [V13.S4]
	WORD $0x4EAD9D0E // MUL V14.4S, V8.4S, V13.4S
	VADD V29.S4, V14.S4, V14.S4 // tmp10 + rounding
	VLD1.P (R5)(R6), [V13.S4]
	WORD $0x4EAD9D8F // MUL V15.4S, V12.4S, V13.4S
	VLD1.P (R5)(R6), [V13.S4]
	WORD $0x4EAD956F // MLA V15.4S, V11.4S, V13.4S
	VLD1.P (R5)(R6), [V13.S4]
	WORD $0x4EAD954F // MLA V15.4S, V10.4S, V13.4S
	VLD1.P (R5)(R6), [V13.S4]
	WORD $0x4EAD952F // MLA V15.4S, V9.4S, V13.4S
	VADD V15.S4, V14.S4, V16.S4
	VSUB V15.S4, V14.S4, V17.S4
	WORD $0x4F330610 // SSHR V16.4S, V16.4S, #13
	WORD $0x4F330631 // SSHR V17.4S, V17.4S, #13

	// pass 1, columns 4..7 into V18, V19
	WORD $0x4F10A408 // SXTL2 V8.4S, V0.8H
	WORD $0x4F10A429 // SXTL2 V9.4S, V1.8H
	WORD $0x4F10A46A // SXTL2 V10.4S, V3.8H
	WORD $0x4F10A4AB // SXTL2 V11.4S, V5.8H
	WORD $0x4F10A4EC // SXTL2 V12.4S, V7.8H
	ADD  $16, R1, R5
	VLD1.P (R5)(R6), [V13.S4]
	WORD $0x4EAD9D0E // MUL V14.4S, V8.4S, V13.4S
	VADD V29.S4, V14.S4, V14.S4
	VLD1.P (R5)(R6), [V13.S4]
	WORD $0x4EAD9D8F // MUL V15.4S, V12.4S, V13.4S
	VLD1.P (R5)(R6), [V13.S4]
	WORD $0x4EAD956F // MLA V15.4S, V11.4S, V13.4S
	VLD1.P (R5)(R6), [V13.S4]
	WORD $0x4EAD954F // MLA V15.4S, V10.4S, V13.4S
	VLD1.P (R5)(R6), [V13.S4]
	WORD $0x4EAD952F // MLA V15.4S, V9.4S, V13.4S
	VADD V15.S4, V14.S4, V18.S4
	VSUB V15.S4, V14.S4, V19.S4
	WORD $0x4F330652 // SSHR V18.4S, V18.4S, #13
	WORD $0x4F330673 // SSHR V19.4S, V19.4S, #13

	// pass 2: odd sums [r0, r1, r0, r1] in V22, tmp10 [r0, r1, -, -] in V23
	WORD $0x4EBE9E14 // MUL V20.4S, V16.4S, V30.4S
	WORD $0x4EBF9654 // MLA V20.4S, V18.4S, V31.4S
	WORD $0x4EBE9E35 // MUL V21.4S, V17.4S, V30.4S
	WORD $0x4EBF9675 // MLA V21.4S, V19.4S, V31.4S
	VADDP V21.S4, V20.S4, V22.S4
	VADDP V22.S4, V22.S4, V22.S4
	VTRN1 V17.S4, V16.S4, V23.S4
	VSHL  $15, V23.S4, V23.S4
	VADD  V28.S4, V23.S4, V23.S4
	VADD  V22.S4, V23.S4, V24.S4 // out0 of rows 0, 1
	VSUB  V22.S4, V23.S4, V25.S4 // out1 of rows 0, 1
	WORD $0x4F2C0718 // SSHR V24.4S, V24.4S, #20
	WORD $0x4F2C0739 // SSHR V25.4S, V25.4S, #20
	VADD  V27.S4, V24.S4, V24.S4
	VADD  V27.S4, V25.S4, V25.S4
	VZIP1 V25.S4, V24.S4, V24.S4 // [r0 out0, r0 out1, r1 out0, r1 out1]
	WORD $0x0E614B18 // SQXTN V24.4H, V24.4S
	WORD $0x2E212B18 // SQXTUN V24.8B, V24.8H
	VMOV V24.H[0], R10
	MOVH R10, (R2)
	VMOV V24.H[1], R10
	MOVH R10, (R2)(R3)
	ADD  $2, R2
	SUB  $1, R4
	CBNZ R4, block2

done2:
	RET
