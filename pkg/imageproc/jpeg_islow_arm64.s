#include "textflag.h"

// libjpeg's jpeg_idct_islow (jidctint.c) in NEON, one 8x8 block per
// iteration, the twin of idctIslow: pass 1 on 4 columns at a time (a
// column per lane, each coefficient row widened from int16 and
// dequantised), its 8 workspace rows stored transposed by ST4 (stack:
// rows 4g..4g+3 of column c at 128g + 16c); pass 2 on 4 rows at a time
// from there, +128 and saturating narrows (the range limit), then two
// TBLs turn the 8 pixel columns into rows. 32-bit wrapping arithmetic as
// the Go twin, the rounding added before an arithmetic shift, including
// its pass-1 shortcut for columns whose AC coefficients are all zero (DC
// << 2, selected by a mask), which differs from the full formula only
// when the sums wrap. The sums are associative mod 2^32, so the order of
// the adds may differ from jidctint.c's. Instructions the Go assembler
// lacks are WORDs with the instruction in their comment.

// V29: [-FIX(0.899976223), -FIX(2.562915447), -FIX(1.961570560), -FIX(0.390180644)]
DATA islowK<>+0(SB)/4, $-7373
DATA islowK<>+4(SB)/4, $-20995
DATA islowK<>+8(SB)/4, $-16069
DATA islowK<>+12(SB)/4, $-3196
// V30: [FIX(0.298631336), FIX(2.053119869), FIX(3.072711026), FIX(1.501321110)]
DATA islowK<>+16(SB)/4, $2446
DATA islowK<>+20(SB)/4, $16819
DATA islowK<>+24(SB)/4, $25172
DATA islowK<>+28(SB)/4, $12299
// V31: [FIX(0.541196100), FIX(0.765366865), -FIX(1.847759065), FIX(1.175875602)]
DATA islowK<>+32(SB)/4, $4433
DATA islowK<>+36(SB)/4, $6270
DATA islowK<>+40(SB)/4, $-15137
DATA islowK<>+44(SB)/4, $9633
GLOBL islowK<>(SB), RODATA|NOPTR, $48

// TBL indices into [pixel columns 0..3 | 4..7] (byte 4c+r: column c, row
// r of the group) giving rows 0, 1 and rows 2, 3 of 8 pixels.
DATA islowRows<>+0(SB)/8, $0x1C1814100C080400
DATA islowRows<>+8(SB)/8, $0x1D1915110D090501
DATA islowRows<>+16(SB)/8, $0x1E1A16120E0A0602
DATA islowRows<>+24(SB)/8, $0x1F1B17130F0B0703
GLOBL islowRows<>(SB), RODATA|NOPTR, $32

// ISLOW_ODD is the odd part on d1, d3, d5, d7 in V9, V11, V13, V15: it
// leaves jidctint.c's tmp3, tmp2, tmp1, tmp0 in V9, V11, V13, V15 and
// clobbers V8, V10, V12, V14, V18. The even part must have consumed d0,
// d2, d4, d6 (V8, V10, V12, V14) already.
#define ISLOW_ODD \
	VADD V9.S4, V15.S4, V8.S4; \
	VADD V11.S4, V13.S4, V10.S4; \
	VADD V11.S4, V15.S4, V12.S4; \
	VADD V9.S4, V13.S4, V14.S4; \
	VADD V14.S4, V12.S4, V18.S4; \
	WORD $0x4FBF8A52 /* MUL V18.4S, V18.4S, V31.S[3]: z5 */; \
	WORD $0x4F9E81EF /* MUL V15.4S, V15.4S, V30.S[0] */; \
	WORD $0x4FBE81AD /* MUL V13.4S, V13.4S, V30.S[1] */; \
	WORD $0x4F9E896B /* MUL V11.4S, V11.4S, V30.S[2] */; \
	WORD $0x4FBE8929 /* MUL V9.4S, V9.4S, V30.S[3] */; \
	WORD $0x4F9D8108 /* MUL V8.4S, V8.4S, V29.S[0]: z1 */; \
	WORD $0x4FBD814A /* MUL V10.4S, V10.4S, V29.S[1]: z2 */; \
	WORD $0x4F9D898C /* MUL V12.4S, V12.4S, V29.S[2] */; \
	WORD $0x4FBD89CE /* MUL V14.4S, V14.4S, V29.S[3] */; \
	VADD V18.S4, V12.S4, V12.S4; \
	VADD V18.S4, V14.S4, V14.S4; \
	VADD V8.S4, V15.S4, V15.S4; \
	VADD V12.S4, V15.S4, V15.S4; \
	VADD V10.S4, V13.S4, V13.S4; \
	VADD V14.S4, V13.S4, V13.S4; \
	VADD V10.S4, V11.S4, V11.S4; \
	VADD V12.S4, V11.S4, V11.S4; \
	VADD V8.S4, V9.S4, V9.S4; \
	VADD V14.S4, V9.S4, V9.S4

// ISLOW_EVEN is the even part on d0, d2, d4, d6 in V8, V10, V12, V14 with
// the rounding in rnd: tmp10, tmp11, tmp12, tmp13 in V22, V20, V21, V23;
// clobbers V18, V19.
#define ISLOW_EVEN(rnd) \
	VADD V14.S4, V10.S4, V18.S4; \
	WORD $0x4F9F8252 /* MUL V18.4S, V18.4S, V31.S[0]: z1 */; \
	VMOV V18.B16, V19.B16; \
	WORD $0x6F9F09D3 /* MLA V19.4S, V14.4S, V31.S[2]: tmp2 */; \
	WORD $0x6FBF0152 /* MLA V18.4S, V10.4S, V31.S[1]: tmp3 */; \
	VADD V12.S4, V8.S4, V20.S4; \
	VSUB V12.S4, V8.S4, V21.S4; \
	VSHL $13, V20.S4, V20.S4; \
	VSHL $13, V21.S4, V21.S4; \
	VADD rnd, V20.S4, V20.S4; \
	VADD rnd, V21.S4, V21.S4; \
	VADD V18.S4, V20.S4, V22.S4; \
	VSUB V18.S4, V20.S4, V23.S4; \
	VADD V19.S4, V21.S4, V20.S4; \
	VSUB V19.S4, V21.S4, V21.S4

// ISLOW_OUT combines the parts into outputs 0..7 in V16..V23.
#define ISLOW_OUT \
	VADD V9.S4, V22.S4, V16.S4; \
	VADD V11.S4, V20.S4, V17.S4; \
	VADD V13.S4, V21.S4, V18.S4; \
	VADD V15.S4, V23.S4, V19.S4; \
	VSUB V11.S4, V20.S4, V12.S4; \
	VSUB V9.S4, V22.S4, V14.S4; \
	VSUB V15.S4, V23.S4, V20.S4; \
	VSUB V13.S4, V21.S4, V21.S4; \
	VMOV V12.B16, V22.B16; \
	VMOV V14.B16, V23.B16

// func idctIslowSIMD(coefs *int16, q *[64]int32, out *uint8, stride, n int)
TEXT ·idctIslowSIMD(SB), NOSPLIT, $256-40
	MOVD coefs+0(FP), R0
	MOVD q+8(FP), R1
	MOVD out+16(FP), R2
	MOVD stride+24(FP), R3
	MOVD n+32(FP), R4
	MOVD $ws-256(SP), R7
	MOVD $islowK<>(SB), R5
	VLD1 (R5), [V29.S4, V30.S4, V31.S4]
	MOVW $1024, R5 // pass 1 rounding, 1 << (13-2-1)
	VDUP R5, V28.S4
	MOVW $131072, R5 // pass 2 rounding, 1 << (13+2+3-1)
	VDUP R5, V27.S4
	MOVW $128, R5
	VDUP R5, V26.S4
	MOVD $16, R6 // coefficient row stride
	MOVD $32, R13 // quantiser row stride
	CBZ  R4, done

block:
	// pass 1 on columns 0..3, then 4..7
	MOVD R0, R9
	MOVD R1, R5
	MOVD R7, R8
	MOVD $2, R11

pass1:
	VLD1.P (R9)(R6), [V8.H4]
	VLD1.P (R9)(R6), [V9.H4]
	VLD1.P (R9)(R6), [V10.H4]
	VLD1.P (R9)(R6), [V11.H4]
	VLD1.P (R9)(R6), [V12.H4]
	VLD1.P (R9)(R6), [V13.H4]
	VLD1.P (R9)(R6), [V14.H4]
	VLD1.P (R9)(R6), [V15.H4]
	SUB    $120, R9 // next 4 columns
	WORD $0x0F10A508 // SXTL V8.4S, V8.4H
	WORD $0x0F10A529 // SXTL V9.4S, V9.4H
	WORD $0x0F10A54A // SXTL V10.4S, V10.4H
	WORD $0x0F10A56B // SXTL V11.4S, V11.4H
	WORD $0x0F10A58C // SXTL V12.4S, V12.4H
	WORD $0x0F10A5AD // SXTL V13.4S, V13.4H
	WORD $0x0F10A5CE // SXTL V14.4S, V14.4H
	WORD $0x0F10A5EF // SXTL V15.4S, V15.4H
	// mask of the columns whose AC coefficients are all zero
	VORR V9.B16, V10.B16, V24.B16
	VORR V11.B16, V24.B16, V24.B16
	VORR V12.B16, V24.B16, V24.B16
	VORR V13.B16, V24.B16, V24.B16
	VORR V14.B16, V24.B16, V24.B16
	VORR V15.B16, V24.B16, V24.B16
	WORD $0x4EA09B18 // CMEQ V24.4S, V24.4S, #0
	// dequantise
	VLD1.P (R5)(R13), [V16.S4]
	WORD $0x4EB09D08 // MUL V8.4S, V8.4S, V16.4S
	VLD1.P (R5)(R13), [V16.S4]
	WORD $0x4EB09D29 // MUL V9.4S, V9.4S, V16.4S
	VLD1.P (R5)(R13), [V16.S4]
	WORD $0x4EB09D4A // MUL V10.4S, V10.4S, V16.4S
	VLD1.P (R5)(R13), [V16.S4]
	WORD $0x4EB09D6B // MUL V11.4S, V11.4S, V16.4S
	VLD1.P (R5)(R13), [V16.S4]
	WORD $0x4EB09D8C // MUL V12.4S, V12.4S, V16.4S
	VLD1.P (R5)(R13), [V16.S4]
	WORD $0x4EB09DAD // MUL V13.4S, V13.4S, V16.4S
	VLD1.P (R5)(R13), [V16.S4]
	WORD $0x4EB09DCE // MUL V14.4S, V14.4S, V16.4S
	VLD1.P (R5)(R13), [V16.S4]
	WORD $0x4EB09DEF // MUL V15.4S, V15.4S, V16.4S
	SUB    $240, R5
	VSHL   $2, V8.S4, V25.S4 // the shortcut's DC << 2
	ISLOW_EVEN(V28.S4)
	ISLOW_ODD
	ISLOW_OUT
	WORD $0x4F350610 // SSHR V16.4S, V16.4S, #11
	WORD $0x4F350631 // SSHR V17.4S, V17.4S, #11
	WORD $0x4F350652 // SSHR V18.4S, V18.4S, #11
	WORD $0x4F350673 // SSHR V19.4S, V19.4S, #11
	WORD $0x4F350694 // SSHR V20.4S, V20.4S, #11
	WORD $0x4F3506B5 // SSHR V21.4S, V21.4S, #11
	WORD $0x4F3506D6 // SSHR V22.4S, V22.4S, #11
	WORD $0x4F3506F7 // SSHR V23.4S, V23.4S, #11
	WORD $0x6EB81F30 // BIT V16.16B, V25.16B, V24.16B
	WORD $0x6EB81F31 // BIT V17.16B, V25.16B, V24.16B
	WORD $0x6EB81F32 // BIT V18.16B, V25.16B, V24.16B
	WORD $0x6EB81F33 // BIT V19.16B, V25.16B, V24.16B
	WORD $0x6EB81F34 // BIT V20.16B, V25.16B, V24.16B
	WORD $0x6EB81F35 // BIT V21.16B, V25.16B, V24.16B
	WORD $0x6EB81F36 // BIT V22.16B, V25.16B, V24.16B
	WORD $0x6EB81F37 // BIT V23.16B, V25.16B, V24.16B
	ADD    $128, R8, R10
	VST4.P [V16.S4, V17.S4, V18.S4, V19.S4], 64(R8)
	VST4   [V20.S4, V21.S4, V22.S4, V23.S4], (R10)
	SUB    $1, R11
	CBNZ   R11, pass1

	// pass 2 on rows 0..3, then 4..7
	MOVD $islowRows<>(SB), R5
	VLD1 (R5), [V24.B16, V25.B16]
	MOVD R7, R8
	MOVD R2, R12
	MOVD $2, R11

pass2:
	VLD1.P 64(R8), [V8.S4, V9.S4, V10.S4, V11.S4]
	VLD1.P 64(R8), [V12.S4, V13.S4, V14.S4, V15.S4]
	ISLOW_EVEN(V27.S4)
	ISLOW_ODD
	ISLOW_OUT
	WORD $0x4F2E0610 // SSHR V16.4S, V16.4S, #18
	WORD $0x4F2E0631 // SSHR V17.4S, V17.4S, #18
	WORD $0x4F2E0652 // SSHR V18.4S, V18.4S, #18
	WORD $0x4F2E0673 // SSHR V19.4S, V19.4S, #18
	WORD $0x4F2E0694 // SSHR V20.4S, V20.4S, #18
	WORD $0x4F2E06B5 // SSHR V21.4S, V21.4S, #18
	WORD $0x4F2E06D6 // SSHR V22.4S, V22.4S, #18
	WORD $0x4F2E06F7 // SSHR V23.4S, V23.4S, #18
	VADD V26.S4, V16.S4, V16.S4
	VADD V26.S4, V17.S4, V17.S4
	VADD V26.S4, V18.S4, V18.S4
	VADD V26.S4, V19.S4, V19.S4
	VADD V26.S4, V20.S4, V20.S4
	VADD V26.S4, V21.S4, V21.S4
	VADD V26.S4, V22.S4, V22.S4
	VADD V26.S4, V23.S4, V23.S4
	WORD $0x0E614A10 // SQXTN V16.4H, V16.4S
	WORD $0x4E614A30 // SQXTN2 V16.8H, V17.4S
	WORD $0x0E614A52 // SQXTN V18.4H, V18.4S
	WORD $0x4E614A72 // SQXTN2 V18.8H, V19.4S
	WORD $0x0E614A94 // SQXTN V20.4H, V20.4S
	WORD $0x4E614AB4 // SQXTN2 V20.8H, V21.4S
	WORD $0x0E614AD6 // SQXTN V22.4H, V22.4S
	WORD $0x4E614AF6 // SQXTN2 V22.8H, V23.4S
	WORD $0x2E212A10 // SQXTUN V16.8B, V16.8H
	WORD $0x6E212A50 // SQXTUN2 V16.16B, V18.8H
	WORD $0x2E212A91 // SQXTUN V17.8B, V20.8H
	WORD $0x6E212AD1 // SQXTUN2 V17.16B, V22.8H
	VTBL V24.B16, [V16.B16, V17.B16], V18.B16
	VTBL V25.B16, [V16.B16, V17.B16], V19.B16
	VMOV V18.D[0], R10
	MOVD R10, (R12)
	ADD  R3, R12
	VMOV V18.D[1], R10
	MOVD R10, (R12)
	ADD  R3, R12
	VMOV V19.D[0], R10
	MOVD R10, (R12)
	ADD  R3, R12
	VMOV V19.D[1], R10
	MOVD R10, (R12)
	ADD  R3, R12
	SUB  $1, R11
	CBNZ R11, pass2

	ADD  $128, R0
	ADD  $8, R2
	SUB  $1, R4
	CBNZ R4, block

done:
	RET
