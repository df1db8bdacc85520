#include "textflag.h"

// The horizontal pass of Pillow's 8-bit resample (ImagingResampleHorizontal_8bpc)
// for RGB in AVX2: per output pixel, 4 taps per step, each tap's R, G, B
// zero-extended into 3 dword lanes by a byte shuffle (taps 0/1 in the low
// and high halves of one register, taps 2/3 of another) and multiplied by
// the coefficient replicated in 4 lanes (expandCoeffs4's table). Integer
// sums are exact in any order, and wrap as the Go twin's int32 sums do.

DATA resizeShuf<>+0(SB)/8, $0x8080800180808000
DATA resizeShuf<>+8(SB)/8, $0x8080808080808002
DATA resizeShuf<>+16(SB)/8, $0x8080800480808003
DATA resizeShuf<>+24(SB)/8, $0x8080808080808005
DATA resizeShuf<>+32(SB)/8, $0x8080800780808006
DATA resizeShuf<>+40(SB)/8, $0x8080808080808008
DATA resizeShuf<>+48(SB)/8, $0x8080800a80808009
DATA resizeShuf<>+56(SB)/8, $0x808080808080800b
GLOBL resizeShuf<>(SB), RODATA|NOPTR, $64

DATA resizeHalf<>+0(SB)/4, $0x200000
GLOBL resizeHalf<>(SB), RODATA|NOPTR, $4

// func resizeRowHAVX2(o, in *uint8, bounds *int, k4 *int32, ksize4, count int)
TEXT ·resizeRowHAVX2(SB), NOSPLIT, $0-48
	MOVQ o+0(FP), DI
	MOVQ in+8(FP), SI
	MOVQ bounds+16(FP), R8
	MOVQ k4+24(FP), R9
	MOVQ ksize4+32(FP), R10
	MOVQ count+40(FP), CX
	SHLQ $4, R10
	VMOVDQU      resizeShuf<>+0(SB), Y14
	VMOVDQU      resizeShuf<>+32(SB), Y13
	VPBROADCASTD resizeHalf<>(SB), X12
	TESTQ CX, CX
	JZ    done

pixel:
	MOVQ  0(R8), AX
	MOVQ  8(R8), BX
	LEAQ  (AX)(AX*2), AX
	ADDQ  SI, AX
	MOVQ  R9, DX
	VPXOR Y0, Y0, Y0
	VPXOR Y4, Y4, Y4
	ADDQ  $3, BX
	SHRQ  $2, BX
	JZ    store

taps:
	VBROADCASTI128 (AX), Y1
	VPSHUFB        Y14, Y1, Y2
	VPSHUFB        Y13, Y1, Y3
	VPMULLD        (DX), Y2, Y2
	VPMULLD        32(DX), Y3, Y3
	VPADDD         Y2, Y0, Y0
	VPADDD         Y3, Y4, Y4
	ADDQ           $12, AX
	ADDQ           $64, DX
	DECQ           BX
	JNZ            taps

store:
	VPADDD       Y4, Y0, Y0
	VEXTRACTI128 $1, Y0, X1
	VPADDD       X1, X0, X0
	VPADDD       X12, X0, X0
	VPSRAD       $22, X0, X0
	VPACKSSDW    X0, X0, X0
	VPACKUSWB    X0, X0, X0
	VMOVD        X0, AX
	MOVW         AX, (DI)
	SHRL         $16, AX
	MOVB         AX, 2(DI)
	ADDQ         $3, DI
	ADDQ         $16, R8
	ADDQ         R10, R9
	DECQ         CX
	JNZ          pixel

done:
	VZEROUPPER
	RET

// func resizeRowVAVX2(o, in *uint8, stride int, k *int32, taps, n int)
// The vertical pass (ImagingResampleVertical_8bpc) of one output row, 16
// bytes (any channels) per step: taps rows of in at stride, weighted by
// k[0..taps), taps ≥ 1; n is a multiple of 16.
TEXT ·resizeRowVAVX2(SB), NOSPLIT, $0-48
	MOVQ o+0(FP), DI
	MOVQ in+8(FP), SI
	MOVQ stride+16(FP), R8
	MOVQ k+24(FP), R9
	MOVQ taps+32(FP), R10
	MOVQ n+40(FP), CX
	VPBROADCASTD resizeHalf<>(SB), Y15
	SHRQ $4, CX
	JZ   vdone

chunk:
	VMOVDQA Y15, Y0
	VMOVDQA Y15, Y1
	MOVQ    SI, AX
	MOVQ    R9, DX
	MOVQ    R10, BX

vtap:
	VPBROADCASTD (DX), Y2
	VPMOVZXBD    (AX), Y3
	VPMOVZXBD    8(AX), Y4
	VPMULLD      Y2, Y3, Y3
	VPMULLD      Y2, Y4, Y4
	VPADDD       Y3, Y0, Y0
	VPADDD       Y4, Y1, Y1
	ADDQ         R8, AX
	ADDQ         $4, DX
	DECQ         BX
	JNZ          vtap

	VPSRAD       $22, Y0, Y0
	VPSRAD       $22, Y1, Y1
	VPACKSSDW    Y1, Y0, Y0
	VPERMQ       $0xD8, Y0, Y0
	VEXTRACTI128 $1, Y0, X1
	VPACKUSWB    X1, X0, X0
	VMOVDQU      X0, (DI)
	ADDQ         $16, SI
	ADDQ         $16, DI
	DECQ         CX
	JNZ          chunk

vdone:
	VZEROUPPER
	RET
