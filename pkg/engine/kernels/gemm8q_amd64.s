#include "textflag.h"

// Hand-written (not from internal/gen): the AVX2 quad kernel and its A
// packer.

// ones16 is sixteen int16 ones: VPMADDWD by it sums adjacent int16 lanes
// into int32.
DATA ones16<>+0(SB)/8, $0x0001000100010001
DATA ones16<>+8(SB)/8, $0x0001000100010001
DATA ones16<>+16(SB)/8, $0x0001000100010001
DATA ones16<>+24(SB)/8, $0x0001000100010001
GLOBL ones16<>(SB), RODATA|NOPTR, $32

// PAIRZERO clears the 6×16 tile's accumulators Y4-Y15 and loads
// ones16 into Y1.
#define PAIRZERO \
	VPXOR Y4, Y4, Y4; \
	VPXOR Y5, Y5, Y5; \
	VPXOR Y6, Y6, Y6; \
	VPXOR Y7, Y7, Y7; \
	VPXOR Y8, Y8, Y8; \
	VPXOR Y9, Y9, Y9; \
	VPXOR Y10, Y10, Y10; \
	VPXOR Y11, Y11, Y11; \
	VPXOR Y12, Y12, Y12; \
	VPXOR Y13, Y13, Y13; \
	VPXOR Y14, Y14, Y14; \
	VPXOR Y15, Y15, Y15; \
	VMOVDQU ones16<>(SB), Y1

// PAIRSTEP is one quad of the 6×16 tile: A's six quads at (SI), the
// two B panels' quads at (DI) and 32(DI).
#define PAIRSTEP \
	VMOVDQU (DI), Y0; \
	VPBROADCASTD 0(SI), Y2; \
	VPMADDUBSW Y0, Y2, Y3; \
	VPMADDWD Y1, Y3, Y3; \
	VPADDD Y3, Y4, Y4; \
	VPMADDUBSW 32(DI), Y2, Y3; \
	VPMADDWD Y1, Y3, Y3; \
	VPADDD Y3, Y5, Y5; \
	VPBROADCASTD 4(SI), Y2; \
	VPMADDUBSW Y0, Y2, Y3; \
	VPMADDWD Y1, Y3, Y3; \
	VPADDD Y3, Y6, Y6; \
	VPMADDUBSW 32(DI), Y2, Y3; \
	VPMADDWD Y1, Y3, Y3; \
	VPADDD Y3, Y7, Y7; \
	VPBROADCASTD 8(SI), Y2; \
	VPMADDUBSW Y0, Y2, Y3; \
	VPMADDWD Y1, Y3, Y3; \
	VPADDD Y3, Y8, Y8; \
	VPMADDUBSW 32(DI), Y2, Y3; \
	VPMADDWD Y1, Y3, Y3; \
	VPADDD Y3, Y9, Y9; \
	VPBROADCASTD 12(SI), Y2; \
	VPMADDUBSW Y0, Y2, Y3; \
	VPMADDWD Y1, Y3, Y3; \
	VPADDD Y3, Y10, Y10; \
	VPMADDUBSW 32(DI), Y2, Y3; \
	VPMADDWD Y1, Y3, Y3; \
	VPADDD Y3, Y11, Y11; \
	VPBROADCASTD 16(SI), Y2; \
	VPMADDUBSW Y0, Y2, Y3; \
	VPMADDWD Y1, Y3, Y3; \
	VPADDD Y3, Y12, Y12; \
	VPMADDUBSW 32(DI), Y2, Y3; \
	VPMADDWD Y1, Y3, Y3; \
	VPADDD Y3, Y13, Y13; \
	VPBROADCASTD 20(SI), Y2; \
	VPMADDUBSW Y0, Y2, Y3; \
	VPMADDWD Y1, Y3, Y3; \
	VPADDD Y3, Y14, Y14; \
	VPMADDUBSW 32(DI), Y2, Y3; \
	VPMADDWD Y1, Y3, Y3; \
	VPADDD Y3, Y15, Y15

// PAIRFIX adds the quad correction rs[r]·dc[j] + cc[j] (rs, dc, cc at
// R9, R10, R11) to the tile.
#define PAIRFIX \
	VPBROADCASTD 0(R9), Y2; \
	VPMULLD (R10), Y2, Y3; \
	VPADDD Y3, Y4, Y4; \
	VPADDD (R11), Y4, Y4; \
	VPMULLD 32(R10), Y2, Y3; \
	VPADDD Y3, Y5, Y5; \
	VPADDD 32(R11), Y5, Y5; \
	VPBROADCASTD 4(R9), Y2; \
	VPMULLD (R10), Y2, Y3; \
	VPADDD Y3, Y6, Y6; \
	VPADDD (R11), Y6, Y6; \
	VPMULLD 32(R10), Y2, Y3; \
	VPADDD Y3, Y7, Y7; \
	VPADDD 32(R11), Y7, Y7; \
	VPBROADCASTD 8(R9), Y2; \
	VPMULLD (R10), Y2, Y3; \
	VPADDD Y3, Y8, Y8; \
	VPADDD (R11), Y8, Y8; \
	VPMULLD 32(R10), Y2, Y3; \
	VPADDD Y3, Y9, Y9; \
	VPADDD 32(R11), Y9, Y9; \
	VPBROADCASTD 12(R9), Y2; \
	VPMULLD (R10), Y2, Y3; \
	VPADDD Y3, Y10, Y10; \
	VPADDD (R11), Y10, Y10; \
	VPMULLD 32(R10), Y2, Y3; \
	VPADDD Y3, Y11, Y11; \
	VPADDD 32(R11), Y11, Y11; \
	VPBROADCASTD 16(R9), Y2; \
	VPMULLD (R10), Y2, Y3; \
	VPADDD Y3, Y12, Y12; \
	VPADDD (R11), Y12, Y12; \
	VPMULLD 32(R10), Y2, Y3; \
	VPADDD Y3, Y13, Y13; \
	VPADDD 32(R11), Y13, Y13; \
	VPBROADCASTD 20(R9), Y2; \
	VPMULLD (R10), Y2, Y3; \
	VPADDD Y3, Y14, Y14; \
	VPADDD (R11), Y14, Y14; \
	VPMULLD 32(R10), Y2, Y3; \
	VPADDD Y3, Y15, Y15; \
	VPADDD 32(R11), Y15, Y15

// func kernelQPair6x16AVX2(k int, a *uint8, b *int8, c *int32, ldc int, accumulate bool, rs, dc, cc *int32)
//
// The 6×16 tile of the quad layout (k quads; A 6 rows × 4 uint8 per quad,
// B one 16-column panel × 4 int8) without VNNI: VPMADDUBSW multiplies the
// uint8 A by the int8 B and adds adjacent pairs into int16, VPMADDWD by
// ones16 adds the two pairs of each quad into int32, VPADDD accumulates:
// 3 instructions per 32 multiply-adds against the int16 layout's 4. Exact
// only when every pair of B satisfies |b₀|+|b₁| ≤ 128 (255·128 < 2¹⁵: no
// int16 saturation), which PackedB8.pairSafe records. Then the quad
// correction rs[r]·dc[j] + cc[j] (see gemm8q.go) is added, and C added
// when accumulate; always 6 rows (A and rs padded with zero rows).
// ones16 stays in Y1 and the second B panel is VPMADDUBSW's memory
// operand: 8 loads per step instead of 20 (ones16 from memory at every
// VPMADDWD), which had the load ports as busy as the multipliers
// (BenchmarkGemmU8 pair, 1 thread: +4% on the ViT shapes).
TEXT ·kernelQPair6x16AVX2(SB), NOSPLIT, $0-72
	MOVQ k+0(FP), CX
	MOVQ a+8(FP), SI
	MOVQ b+16(FP), DI
	MOVQ c+24(FP), DX
	MOVQ ldc+32(FP), R8
	SHLQ $2, R8
	PAIRZERO
	TESTQ CX, CX
	JZ fixP6

loopP6:
	PAIRSTEP
	ADDQ $24, SI
	ADDQ $64, DI
	DECQ CX
	JNZ loopP6

fixP6:
	MOVQ rs+48(FP), R9
	MOVQ dc+56(FP), R10
	MOVQ cc+64(FP), R11
	PAIRFIX
	MOVBLZX accumulate+40(FP), AX
	TESTB AL, AL
	JZ overwriteP6
	VPADDD (DX), Y4, Y4
	VMOVDQU Y4, (DX)
	VPADDD 32(DX), Y5, Y5
	VMOVDQU Y5, 32(DX)
	ADDQ R8, DX
	VPADDD (DX), Y6, Y6
	VMOVDQU Y6, (DX)
	VPADDD 32(DX), Y7, Y7
	VMOVDQU Y7, 32(DX)
	ADDQ R8, DX
	VPADDD (DX), Y8, Y8
	VMOVDQU Y8, (DX)
	VPADDD 32(DX), Y9, Y9
	VMOVDQU Y9, 32(DX)
	ADDQ R8, DX
	VPADDD (DX), Y10, Y10
	VMOVDQU Y10, (DX)
	VPADDD 32(DX), Y11, Y11
	VMOVDQU Y11, 32(DX)
	ADDQ R8, DX
	VPADDD (DX), Y12, Y12
	VMOVDQU Y12, (DX)
	VPADDD 32(DX), Y13, Y13
	VMOVDQU Y13, 32(DX)
	ADDQ R8, DX
	VPADDD (DX), Y14, Y14
	VMOVDQU Y14, (DX)
	VPADDD 32(DX), Y15, Y15
	VMOVDQU Y15, 32(DX)
	VZEROUPPER
	RET

overwriteP6:
	VMOVDQU Y4, (DX)
	VMOVDQU Y5, 32(DX)
	ADDQ R8, DX
	VMOVDQU Y6, (DX)
	VMOVDQU Y7, 32(DX)
	ADDQ R8, DX
	VMOVDQU Y8, (DX)
	VMOVDQU Y9, 32(DX)
	ADDQ R8, DX
	VMOVDQU Y10, (DX)
	VMOVDQU Y11, 32(DX)
	ADDQ R8, DX
	VMOVDQU Y12, (DX)
	VMOVDQU Y13, 32(DX)
	ADDQ R8, DX
	VMOVDQU Y14, (DX)
	VMOVDQU Y15, 32(DX)
	VZEROUPPER
	RET

// func kernelQPair6x16FAVX2(k int, a *uint8, b *int8, rs, dc, cc *int32, y *float32, ldy int, scale, bias, res *float32, ldr int)
//
// kernelQPair6x16AVX2 finishing its tile as floats in registers, the
// int8 Linear's epilogue without an activation: y[r·ldy+j] =
// float(C[r][j])·scale[j] + bias[j] + res[r·ldr+j], each operation
// rounded (no FMA) as dequantTile does; bias and res may be nil. Six rows
// always (the caller's partial panels take the int32 route). It replaces
// storing the sums and converting them in a pass of its own (dequantTile,
// 7% of the profile of BenchmarkGemmU8Linear text_qkv); the twelve
// stores into Y then drain while the next tile computes. Measured
// against that pass: +2-3% on text_qkv, level on the others (the store
// misses stay, now inside the kernel; PREFETCHT0 of Y's rows at the
// start changed nothing).
TEXT ·kernelQPair6x16FAVX2(SB), NOSPLIT, $0-96
	MOVQ k+0(FP), CX
	MOVQ a+8(FP), SI
	MOVQ b+16(FP), DI
	PAIRZERO
	TESTQ CX, CX
	JZ fixF6

loopF6:
	PAIRSTEP
	ADDQ $24, SI
	ADDQ $64, DI
	DECQ CX
	JNZ loopF6

fixF6:
	MOVQ rs+24(FP), R9
	MOVQ dc+32(FP), R10
	MOVQ cc+40(FP), R11
	PAIRFIX
	MOVQ scale+64(FP), AX
	VMOVUPS (AX), Y0
	VMOVUPS 32(AX), Y1
	VCVTDQ2PS Y4, Y4
	VCVTDQ2PS Y5, Y5
	VMULPS Y0, Y4, Y4
	VMULPS Y1, Y5, Y5
	VCVTDQ2PS Y6, Y6
	VCVTDQ2PS Y7, Y7
	VMULPS Y0, Y6, Y6
	VMULPS Y1, Y7, Y7
	VCVTDQ2PS Y8, Y8
	VCVTDQ2PS Y9, Y9
	VMULPS Y0, Y8, Y8
	VMULPS Y1, Y9, Y9
	VCVTDQ2PS Y10, Y10
	VCVTDQ2PS Y11, Y11
	VMULPS Y0, Y10, Y10
	VMULPS Y1, Y11, Y11
	VCVTDQ2PS Y12, Y12
	VCVTDQ2PS Y13, Y13
	VMULPS Y0, Y12, Y12
	VMULPS Y1, Y13, Y13
	VCVTDQ2PS Y14, Y14
	VCVTDQ2PS Y15, Y15
	VMULPS Y0, Y14, Y14
	VMULPS Y1, Y15, Y15
	MOVQ bias+72(FP), AX
	TESTQ AX, AX
	JZ nobiasF6
	VMOVUPS (AX), Y0
	VMOVUPS 32(AX), Y1
	VADDPS Y0, Y4, Y4
	VADDPS Y1, Y5, Y5
	VADDPS Y0, Y6, Y6
	VADDPS Y1, Y7, Y7
	VADDPS Y0, Y8, Y8
	VADDPS Y1, Y9, Y9
	VADDPS Y0, Y10, Y10
	VADDPS Y1, Y11, Y11
	VADDPS Y0, Y12, Y12
	VADDPS Y1, Y13, Y13
	VADDPS Y0, Y14, Y14
	VADDPS Y1, Y15, Y15

nobiasF6:
	MOVQ res+80(FP), AX
	TESTQ AX, AX
	JZ storeF6
	MOVQ ldr+88(FP), BX
	SHLQ $2, BX
	VADDPS (AX), Y4, Y4
	VADDPS 32(AX), Y5, Y5
	ADDQ BX, AX
	VADDPS (AX), Y6, Y6
	VADDPS 32(AX), Y7, Y7
	ADDQ BX, AX
	VADDPS (AX), Y8, Y8
	VADDPS 32(AX), Y9, Y9
	ADDQ BX, AX
	VADDPS (AX), Y10, Y10
	VADDPS 32(AX), Y11, Y11
	ADDQ BX, AX
	VADDPS (AX), Y12, Y12
	VADDPS 32(AX), Y13, Y13
	ADDQ BX, AX
	VADDPS (AX), Y14, Y14
	VADDPS 32(AX), Y15, Y15

storeF6:
	MOVQ y+48(FP), DX
	MOVQ ldy+56(FP), R8
	SHLQ $2, R8
	VMOVUPS Y4, (DX)
	VMOVUPS Y5, 32(DX)
	ADDQ R8, DX
	VMOVUPS Y6, (DX)
	VMOVUPS Y7, 32(DX)
	ADDQ R8, DX
	VMOVUPS Y8, (DX)
	VMOVUPS Y9, 32(DX)
	ADDQ R8, DX
	VMOVUPS Y10, (DX)
	VMOVUPS Y11, 32(DX)
	ADDQ R8, DX
	VMOVUPS Y12, (DX)
	VMOVUPS Y13, 32(DX)
	ADDQ R8, DX
	VMOVUPS Y14, (DX)
	VMOVUPS Y15, 32(DX)
	VZEROUPPER
	RET

// func packQuad6x16AVX2(dst *uint8, a *uint8, lda int, blocks int, rs *int32)
//
// packQuad6Go's body on the first 16·blocks bytes of six rows of A (row
// stride lda), blocks ≥ 1: per 16-byte block (4 quads), a 4×4 transpose of
// the dwords of rows 0-3 gives each quad's first 16 bytes, a dword
// interleave of rows 4-5 two quads' last 8 bytes, stored as 96 sequential
// bytes. Each row's bytes are summed (VPSADBW against zero, 64-bit lanes)
// in the same pass and rs[r] is set to its sum.
TEXT ·packQuad6x16AVX2(SB), NOSPLIT, $0-40
	MOVQ dst+0(FP), DI
	MOVQ a+8(FP), SI
	MOVQ lda+16(FP), R9
	MOVQ blocks+24(FP), CX
	MOVQ rs+32(FP), DX
	LEAQ (R9)(R9*2), R10  // 3·lda
	LEAQ (SI)(R9*4), AX   // row 4
	VPXOR X15, X15, X15
	VPXOR X6, X6, X6
	VPXOR X7, X7, X7
	VPXOR X8, X8, X8
	VPXOR X9, X9, X9
	VPXOR X10, X10, X10
	VPXOR X11, X11, X11

pq6loop:
	VMOVDQU (SI), X0
	VMOVDQU (SI)(R9*1), X1
	VMOVDQU (SI)(R9*2), X2
	VMOVDQU (SI)(R10*1), X3
	VMOVDQU (AX), X4
	VMOVDQU (AX)(R9*1), X5
	VPSADBW X15, X0, X12
	VPSADBW X15, X1, X13
	VPSADBW X15, X2, X14
	VPADDQ  X12, X6, X6
	VPADDQ  X13, X7, X7
	VPADDQ  X14, X8, X8
	VPSADBW X15, X3, X12
	VPSADBW X15, X4, X13
	VPSADBW X15, X5, X14
	VPADDQ  X12, X9, X9
	VPADDQ  X13, X10, X10
	VPADDQ  X14, X11, X11

	// Rows 0-3: quad q of every row in one register.
	VPUNPCKLDQ  X1, X0, X12  // r0q0 r1q0 r0q1 r1q1
	VPUNPCKHDQ  X1, X0, X0   // r0q2 r1q2 r0q3 r1q3
	VPUNPCKLDQ  X3, X2, X13  // r2q0 r3q0 r2q1 r3q1
	VPUNPCKHDQ  X3, X2, X2   // r2q2 r3q2 r2q3 r3q3
	VPUNPCKLQDQ X13, X12, X1 // quad 0
	VPUNPCKHQDQ X13, X12, X12 // quad 1
	VPUNPCKLQDQ X2, X0, X13  // quad 2
	VPUNPCKHQDQ X2, X0, X0   // quad 3
	// Rows 4-5: quads 0-1, then 2-3.
	VPUNPCKLDQ  X5, X4, X14
	VPUNPCKHDQ  X5, X4, X4

	VMOVDQU X1, (DI)
	VMOVQ   X14, 16(DI)
	VMOVDQU X12, 24(DI)
	VMOVHPS X14, 40(DI)
	VMOVDQU X13, 48(DI)
	VMOVQ   X4, 64(DI)
	VMOVDQU X0, 72(DI)
	VMOVHPS X4, 88(DI)

	ADDQ $16, SI
	ADDQ $16, AX
	ADDQ $96, DI
	DECQ CX
	JNZ  pq6loop

	// Each sum is its register's two 64-bit lanes added.
	VPSHUFD $0x4E, X6, X0
	VPSHUFD $0x4E, X7, X1
	VPSHUFD $0x4E, X8, X2
	VPSHUFD $0x4E, X9, X3
	VPSHUFD $0x4E, X10, X4
	VPSHUFD $0x4E, X11, X5
	VPADDQ  X0, X6, X6
	VPADDQ  X1, X7, X7
	VPADDQ  X2, X8, X8
	VPADDQ  X3, X9, X9
	VPADDQ  X4, X10, X10
	VPADDQ  X5, X11, X11
	VMOVD   X6, 0(DX)
	VMOVD   X7, 4(DX)
	VMOVD   X8, 8(DX)
	VMOVD   X9, 12(DX)
	VMOVD   X10, 16(DX)
	VMOVD   X11, 20(DX)
	RET
