package kernels

import "golang.org/x/sys/cpu"

// On arm64 the int8 GEMM runs NEON micro-kernels. On the int16 pair layout
// of PackedB8: SMLAL / SMLAL2 by element (int16 × int16 widened into int32
// accumulators), Advanced SIMD present on every AArch64 CPU, so it is the
// kernel that always works. CPUs with the dot-product extension (ARMv8.2
// DotProd: Cortex-A76 / Neoverse N1, Apple M1 and later) instead read the
// uint8×int8 quad layout with UDOT, 16 multiply-adds per instruction
// against SMLAL's 4: PackB8 picks that layout there (useQuad8), and a
// Pool limited to ISAGeneric converts it to int16 pairs once, as on amd64.
// SDOT/UDOT multiply 8-bit operands only, too narrow for A−a₀ and B−b₀
// (−255..255), which is why the int16 layout keeps SMLAL.

// hasDotProd reports the dot-product extension's UDOT/SDOT.
var hasDotProd = cpu.ARM64.HasASIMDDP

// activeKernels8 are the int16-layout int8 micro-kernels GemmU8 uses on
// this CPU.
var activeKernels8 = gemm8Kernels{one: kernel8NEON}

// simdKernels8 lists the assembly int16-layout int8 kernels this CPU can
// run (tests check each against the exact integer reference).
func simdKernels8() map[string]gemm8Kernels {
	return map[string]gemm8Kernels{"neon": {one: kernel8NEON}}
}

// useQuad8 selects the uint8×int8 layout (and the UDOT kernel) for PackB8.
var useQuad8 = hasDotProd

// kernelQRx32DOT are the quad kernel (see kernelQ) with UDOT, computing
// the first R rows of the 6×32 tile.
//
//go:noescape
func kernelQ6x32DOT(k int, a *uint8, b *int8, c *int32, ldc int, accumulate bool, rs, dc, cc *int32)

//go:noescape
func kernelQ5x32DOT(k int, a *uint8, b *int8, c *int32, ldc int, accumulate bool, rs, dc, cc *int32)

//go:noescape
func kernelQ4x32DOT(k int, a *uint8, b *int8, c *int32, ldc int, accumulate bool, rs, dc, cc *int32)

//go:noescape
func kernelQ3x32DOT(k int, a *uint8, b *int8, c *int32, ldc int, accumulate bool, rs, dc, cc *int32)

//go:noescape
func kernelQ2x32DOT(k int, a *uint8, b *int8, c *int32, ldc int, accumulate bool, rs, dc, cc *int32)

//go:noescape
func kernelQ1x32DOT(k int, a *uint8, b *int8, c *int32, ldc int, accumulate bool, rs, dc, cc *int32)

var kernelsQByRows = [gemmMR + 1]func(k int, a *uint8, b *int8, c *int32, ldc int, accumulate bool, rs, dc, cc *int32){
	nil, kernelQ1x32DOT, kernelQ2x32DOT, kernelQ3x32DOT, kernelQ4x32DOT, kernelQ5x32DOT, kernelQ6x32DOT,
}

// kernel8nRx16NEON are kernel8Generic in NEON assembly on raw pointers,
// computing the first R rows of the tile and touching no other row; c
// must address R rows of 16 int32 at stride ldc, k ≥ 1 pair steps.
//
//go:noescape
func kernel8n6x16NEON(k int, a, b *int16, c *int32, ldc int, accumulate bool)

//go:noescape
func kernel8n5x16NEON(k int, a, b *int16, c *int32, ldc int, accumulate bool)

//go:noescape
func kernel8n4x16NEON(k int, a, b *int16, c *int32, ldc int, accumulate bool)

//go:noescape
func kernel8n3x16NEON(k int, a, b *int16, c *int32, ldc int, accumulate bool)

//go:noescape
func kernel8n2x16NEON(k int, a, b *int16, c *int32, ldc int, accumulate bool)

//go:noescape
func kernel8n1x16NEON(k int, a, b *int16, c *int32, ldc int, accumulate bool)

var kernels8NEONByRows = [gemmMR + 1]func(k int, a, b *int16, c *int32, ldc int, accumulate bool){
	nil, kernel8n1x16NEON, kernel8n2x16NEON, kernel8n3x16NEON, kernel8n4x16NEON, kernel8n5x16NEON, kernel8n6x16NEON,
}

// kernel8NEON is the arm64 int8 micro-kernel (gemm8Kernels.one): the
// first rows rows of the 6×16 tile from kp packed pairs of k.
func kernel8NEON(rows, kp int, a, b []int16, c []int32, ldc int, accumulate bool) {
	// Bounds are checked here once so the assembly can run unchecked.
	_ = c[(rows-1)*ldc+gemmNR-1]
	if kp == 0 { // an empty product: &a[0] would not exist
		if !accumulate {
			for r := range rows {
				clear(c[r*ldc : r*ldc+gemmNR])
			}
		}
		return
	}
	_ = a[kp*gemmMR*2-1]
	_ = b[kp*gemmNR*2-1]
	kernels8NEONByRows[rows](kp, &a[0], &b[0], &c[0], ldc, accumulate)
}

// packQuad6x16NEON packs six rows of A as quads (see packQuad6Blocks).
//
//go:noescape
func packQuad6x16NEON(dst *uint8, a *uint8, lda int, blocks int, rs *int32)
