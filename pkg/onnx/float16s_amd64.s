#include "textflag.h"

// func float16sToFloat32F16C(dst *float32, src *uint16, n int)
// dst[i] = float32(src[i]) for i < n (a multiple of 8), 16 per step.
TEXT ·float16sToFloat32F16C(SB), NOSPLIT, $0-24
	MOVQ dst+0(FP), DI
	MOVQ src+8(FP), SI
	MOVQ n+16(FP), CX
	SHRQ $3, CX
	JZ   hwdone
	MOVQ CX, DX
	SHRQ $1, DX
	JZ   hwone

hwloop2:
	VCVTPH2PS (SI), Y0
	VCVTPH2PS 16(SI), Y1
	VMOVUPS Y0, (DI)
	VMOVUPS Y1, 32(DI)
	ADDQ $32, SI
	ADDQ $64, DI
	DECQ DX
	JNZ  hwloop2
	ANDQ $1, CX
	JZ   hwdone

hwone:
	VCVTPH2PS (SI), Y0
	VMOVUPS Y0, (DI)

hwdone:
	VZEROUPPER
	RET
