#include "textflag.h"

// AVX-512 twin of EXP8 (exp_amd64.s) on 16 lanes: the same operations
// lane by lane (VRNDSCALEPS $0 rounds to nearest even like VROUNDPS $0),
// so results are bit-identical; the blends use mask registers K1-K3.
// Z0 = exp(Z0); uses Z1-Z7; constants in Z8-Z15 from LOADEXPCONSTS16.
#define LOADEXPCONSTS16 \
	VBROADCASTSS expConsts16<>+0(SB), Z8; \
	VBROADCASTSS expConsts16<>+4(SB), Z9; \
	VBROADCASTSS expConsts16<>+8(SB), Z10; \
	VBROADCASTSS expConsts16<>+12(SB), Z11; \
	VBROADCASTSS expConsts16<>+16(SB), Z12; \
	VBROADCASTSS expConsts16<>+44(SB), Z13; \
	VPBROADCASTD expConsts16<>+48(SB), Z14; \
	VBROADCASTSS expConsts16<>+52(SB), Z15

#define EXP16 \
	VMINPS Z11, Z0, Z1; \
	VMAXPS Z12, Z1, Z1; \
	VMULPS Z8, Z1, Z2; \
	VRNDSCALEPS $0, Z2, Z2; \
	VFNMADD231PS Z9, Z2, Z1; \
	VFNMADD231PS Z10, Z2, Z1; \
	VBROADCASTSS expConsts16<>+20(SB), Z3; \
	VBROADCASTSS expConsts16<>+24(SB), Z4; \
	VFMADD213PS Z4, Z1, Z3; \
	VBROADCASTSS expConsts16<>+28(SB), Z4; \
	VFMADD213PS Z4, Z1, Z3; \
	VBROADCASTSS expConsts16<>+32(SB), Z4; \
	VFMADD213PS Z4, Z1, Z3; \
	VBROADCASTSS expConsts16<>+36(SB), Z4; \
	VFMADD213PS Z4, Z1, Z3; \
	VBROADCASTSS expConsts16<>+40(SB), Z4; \
	VFMADD213PS Z4, Z1, Z3; \
	VMULPS Z1, Z1, Z4; \
	VFMADD213PS Z1, Z4, Z3; \
	VADDPS Z13, Z3, Z3; \
	VCVTPS2DQ Z2, Z2; \
	VPSRAD $1, Z2, Z5; \
	VPSUBD Z5, Z2, Z6; \
	VPADDD Z14, Z5, Z5; \
	VPADDD Z14, Z6, Z6; \
	VPSLLD $23, Z5, Z5; \
	VPSLLD $23, Z6, Z6; \
	VMULPS Z5, Z3, Z3; \
	VMULPS Z6, Z3, Z3; \
	VCMPPS $3, Z0, Z0, K1; \
	VMOVAPS Z0, K1, Z3; \
	VCMPPS $0x1e, Z11, Z0, K2; \
	VMOVAPS Z15, K2, Z3; \
	VCMPPS $0x11, Z12, Z0, K3; \
	VPXORD Z7, Z7, Z7; \
	VMOVAPS Z7, K3, Z3; \
	VMOVAPS Z3, Z0

// The constants of exp_amd64.s's expConsts (a file-local symbol there).
DATA expConsts16<>+0(SB)/4, $0x3fb8aa3b
DATA expConsts16<>+4(SB)/4, $0x3f318000
DATA expConsts16<>+8(SB)/4, $0xb95e8083
DATA expConsts16<>+12(SB)/4, $0x42b17217
DATA expConsts16<>+16(SB)/4, $0xc2aeac4f
DATA expConsts16<>+20(SB)/4, $0x39506967
DATA expConsts16<>+24(SB)/4, $0x3ab743ce
DATA expConsts16<>+28(SB)/4, $0x3c088908
DATA expConsts16<>+32(SB)/4, $0x3d2aa9c1
DATA expConsts16<>+36(SB)/4, $0x3e2aaaaa
DATA expConsts16<>+40(SB)/4, $0x3f000000
DATA expConsts16<>+44(SB)/4, $0x3f800000
DATA expConsts16<>+48(SB)/4, $0x0000007f
DATA expConsts16<>+52(SB)/4, $0x7f800000
GLOBL expConsts16<>(SB), RODATA|NOPTR, $56

DATA qgeluConsts16<>+0(SB)/4, $0xbfd9db23 // -1.702
GLOBL qgeluConsts16<>(SB), RODATA|NOPTR, $4

// func quickGELUAVX512(dst, src *float32, n int)
// dst = x / (1 + exp(-1.702·x)) as quickGELUAVX2; n a multiple of 16.
TEXT ·quickGELUAVX512(SB), NOSPLIT, $0-24
	MOVQ dst+0(FP), DI
	MOVQ src+8(FP), SI
	MOVQ n+16(FP), CX
	SHRQ $4, CX
	JZ   qg16done
	LOADEXPCONSTS16
	VBROADCASTSS qgeluConsts16<>+0(SB), Z16

qg16loop:
	VMOVUPS (SI), Z17
	VMULPS Z16, Z17, Z0
	EXP16
	VADDPS Z13, Z0, Z0
	VDIVPS Z0, Z17, Z0
	VMOVUPS Z0, (DI)
	ADDQ $64, SI
	ADDQ $64, DI
	DECQ CX
	JNZ  qg16loop

qg16done:
	VZEROUPPER
	RET
