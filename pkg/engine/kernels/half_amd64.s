#include "textflag.h"

// func roundFloat16F16C(x *float32, n int)
// x[i] = float32(float16(x[i])) for i < n (a multiple of 8): VCVTPS2PH
// with immediate rounding 0 (to nearest, ties to even, whatever MXCSR
// says), then VCVTPH2PS, which is exact; two vectors per step.
TEXT ·roundFloat16F16C(SB), NOSPLIT, $0-16
	MOVQ x+0(FP), SI
	MOVQ n+8(FP), CX
	SHRQ $3, CX
	JZ   rhdone
	MOVQ CX, DX
	SHRQ $1, DX
	JZ   rhone

rhloop2:
	VMOVUPS (SI), Y0
	VMOVUPS 32(SI), Y2
	VCVTPS2PH $0, Y0, X1
	VCVTPS2PH $0, Y2, X3
	VCVTPH2PS X1, Y0
	VCVTPH2PS X3, Y2
	VMOVUPS Y0, (SI)
	VMOVUPS Y2, 32(SI)
	ADDQ $64, SI
	DECQ DX
	JNZ  rhloop2
	ANDQ $1, CX
	JZ   rhdone

rhone:
	VMOVUPS (SI), Y0
	VCVTPS2PH $0, Y0, X1
	VCVTPH2PS X1, Y0
	VMOVUPS Y0, (SI)

rhdone:
	VZEROUPPER
	RET
