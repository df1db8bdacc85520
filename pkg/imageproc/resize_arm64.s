#include "textflag.h"

// The two passes of Pillow's 8-bit resample (ImagingResampleHorizontal_8bpc,
// ImagingResampleVertical_8bpc) in NEON, the twins of resizeRowHGo and
// resizeRowVGo: 32-bit wrapping multiply-adds (MLA) from the rounding half
// 1<<21, an arithmetic shift by 22 (precisionBits) and saturating narrows
// to 0..255 (clip8). Integer sums are exact in any order, so the lanes
// may add the taps in a different order than the Go loops. Instructions
// the Go assembler lacks are WORDs with the instruction in their comment.

// resizeTap: TBL indices spreading tap j's R, G, B bytes (bytes 3j..3j+2
// of a 16-byte load) into the low bytes of 3 of 4 dword lanes; index 0xFF
// is out of the table, so TBL writes 0 (the zero extension).
DATA resizeTap<>+0(SB)/8, $0xFFFFFF01FFFFFF00
DATA resizeTap<>+8(SB)/8, $0xFFFFFFFFFFFFFF02
DATA resizeTap<>+16(SB)/8, $0xFFFFFF04FFFFFF03
DATA resizeTap<>+24(SB)/8, $0xFFFFFFFFFFFFFF05
DATA resizeTap<>+32(SB)/8, $0xFFFFFF07FFFFFF06
DATA resizeTap<>+40(SB)/8, $0xFFFFFFFFFFFFFF08
DATA resizeTap<>+48(SB)/8, $0xFFFFFF0AFFFFFF09
DATA resizeTap<>+56(SB)/8, $0xFFFFFFFFFFFFFF0B
GLOBL resizeTap<>(SB), RODATA|NOPTR, $64

// func resizeRowHSIMD(o, in *uint8, bounds *int, k4 *int32, ksize4, count int)
// One output pixel per iteration, 4 taps per step: a 16-byte load (12
// bytes used), each tap's R, G, B widened to dwords by TBL and multiplied
// by its weight replicated in 4 lanes (expandCoeffs4's table). Reads 4
// bytes past the last tap, rounded up to 4 taps (resizeRowH checks).
TEXT ·resizeRowHSIMD(SB), NOSPLIT, $0-48
	MOVD o+0(FP), R0
	MOVD in+8(FP), R1
	MOVD bounds+16(FP), R2
	MOVD k4+24(FP), R3
	MOVD ksize4+32(FP), R4
	MOVD count+40(FP), R5
	LSL  $4, R4 // bytes of k4 per output
	MOVD $resizeTap<>(SB), R6
	VLD1 (R6), [V28.B16, V29.B16, V30.B16, V31.B16]
	MOVW $0x200000, R6 // 1 << (precisionBits-1)
	VDUP R6, V27.S4
	CBZ  R5, hdone

pixel:
	LDP.P 16(R2), (R6, R7) // xmin, taps
	ADD   R6<<1, R6, R6
	ADD   R1, R6, R6       // &in[3*xmin]
	MOVD  R3, R8
	VMOV  V27.B16, V0.B16
	VEOR  V1.B16, V1.B16, V1.B16
	ADD   $3, R7
	LSR   $2, R7
	CBZ   R7, store

taps:
	VLD1   (R6), [V2.B16]
	ADD    $12, R6
	VLD1.P 64(R8), [V4.S4, V5.S4, V6.S4, V7.S4]
	VTBL   V28.B16, [V2.B16], V16.B16
	VTBL   V29.B16, [V2.B16], V17.B16
	VTBL   V30.B16, [V2.B16], V18.B16
	VTBL   V31.B16, [V2.B16], V19.B16
	WORD $0x4EA49600 // MLA V0.4S, V16.4S, V4.4S
	WORD $0x4EA59621 // MLA V1.4S, V17.4S, V5.4S
	WORD $0x4EA69640 // MLA V0.4S, V18.4S, V6.4S
	WORD $0x4EA79661 // MLA V1.4S, V19.4S, V7.4S
	SUB    $1, R7
	CBNZ   R7, taps

store:
	VADD V1.S4, V0.S4, V0.S4
	WORD $0x4F2A0400 // SSHR V0.4S, V0.4S, #22
	WORD $0x0E614800 // SQXTN V0.4H, V0.4S
	WORD $0x2E212800 // SQXTUN V0.8B, V0.8H
	VMOV V0.S[0], R9
	MOVH R9, (R0)
	LSR  $16, R9
	MOVB R9, 2(R0)
	ADD  $3, R0
	ADD  R4, R3
	SUB  $1, R5
	CBNZ R5, pixel

hdone:
	RET

// func resizeRowVSIMD(o, in *uint8, stride int, k *int32, taps, n int)
// The vertical pass of one output row, 16 bytes (any channels) per step:
// taps ≥ 1 rows of in at stride, weighted by k[0..taps); n is a multiple
// of 16. Each tap's 16 bytes are widened to 4 dword vectors and multiplied
// by the weight (broadcast by LD1R).
TEXT ·resizeRowVSIMD(SB), NOSPLIT, $0-48
	MOVD o+0(FP), R0
	MOVD in+8(FP), R1
	MOVD stride+16(FP), R2
	MOVD k+24(FP), R3
	MOVD taps+32(FP), R4
	MOVD n+40(FP), R5
	MOVW $0x200000, R6 // 1 << (precisionBits-1)
	VDUP R6, V31.S4
	LSR  $4, R5
	CBZ  R5, vdone

chunk:
	VMOV V31.B16, V0.B16
	VMOV V31.B16, V1.B16
	VMOV V31.B16, V2.B16
	VMOV V31.B16, V3.B16
	MOVD R1, R7
	MOVD R3, R8
	MOVD R4, R9

vtap:
	VLD1R.P 4(R8), [V4.S4]
	VLD1    (R7), [V5.B16]
	ADD     R2, R7
	VUXTL   V5.B8, V6.H8
	VUXTL2  V5.B16, V7.H8
	VUXTL   V6.H4, V16.S4
	VUXTL2  V6.H8, V17.S4
	VUXTL   V7.H4, V18.S4
	VUXTL2  V7.H8, V19.S4
	WORD $0x4EA49600 // MLA V0.4S, V16.4S, V4.4S
	WORD $0x4EA49621 // MLA V1.4S, V17.4S, V4.4S
	WORD $0x4EA49642 // MLA V2.4S, V18.4S, V4.4S
	WORD $0x4EA49663 // MLA V3.4S, V19.4S, V4.4S
	SUB     $1, R9
	CBNZ    R9, vtap

	WORD $0x4F2A0400 // SSHR V0.4S, V0.4S, #22
	WORD $0x4F2A0421 // SSHR V1.4S, V1.4S, #22
	WORD $0x4F2A0442 // SSHR V2.4S, V2.4S, #22
	WORD $0x4F2A0463 // SSHR V3.4S, V3.4S, #22
	WORD $0x0E614800 // SQXTN V0.4H, V0.4S
	WORD $0x4E614820 // SQXTN2 V0.8H, V1.4S
	WORD $0x0E614842 // SQXTN V2.4H, V2.4S
	WORD $0x4E614862 // SQXTN2 V2.8H, V3.4S
	WORD $0x2E212800 // SQXTUN V0.8B, V0.8H
	WORD $0x6E212840 // SQXTUN2 V0.16B, V2.8H
	VST1.P [V0.B16], 16(R0)
	ADD     $16, R1
	SUB     $1, R5
	CBNZ    R5, chunk

vdone:
	RET
