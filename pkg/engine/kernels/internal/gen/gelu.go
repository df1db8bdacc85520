package main

import (
	"fmt"
	"math"
)

// geluConst lists the constants of the erf GELU kernels in their table's
// order. Each is stored 16 times (64 bytes) so both the ymm and the zmm
// kernel read it as a full-width memory operand, which leaves all 16
// vector registers to the computation.
var geluConst = []struct {
	name string
	bits uint32
}{
	{"absMask", 0x7fffffff},
	{"aMax", f32bits(14)}, // |x| clamp: erfc(14/√2)·e^… is below float32's range
	{"invSqrt2", f32bits(1 / math.Sqrt2)},
	{"half", f32bits(0.5)},
	{"one", f32bits(1)},
	// erfc(z) = t·exp(P(t) − z²), t = 1/(1 + z/2): the Chebyshev fit of
	// Numerical Recipes (erfcc), fractional error < 1.2e-7 for every z ≥ 0.
	{"p9", f32bits(0.17087277)},
	{"p8", f32bits(-0.82215223)},
	{"p7", f32bits(1.48851587)},
	{"p6", f32bits(-1.13520398)},
	{"p5", f32bits(0.27886807)},
	{"p4", f32bits(-0.18628806)},
	{"p3", f32bits(0.09678418)},
	{"p2", f32bits(0.37409196)},
	{"p1", f32bits(1.00002368)},
	{"p0", f32bits(-1.26551223)},
	// exp of exp.go (Cephes expf).
	{"expLo", 0xc2aeac4f},
	{"log2e", 0x3fb8aa3b},
	{"ln2Hi", 0x3f318000},
	{"ln2Lo", 0xb95e8083},
	{"e0", 0x39506967},
	{"e1", 0x3ab743ce},
	{"e2", 0x3c088908},
	{"e3", 0x3d2aa9c1},
	{"e4", 0x3e2aaaaa},
	{"e5", 0x3f000000},
	{"bias", 127},
	{"two", f32bits(2)},
	{"zero", 0},
	{"xMin", f32bits(-14)},
}

func f32bits(v float64) uint32 { return math.Float32bits(float32(v)) }

// geluAMD64 is the text of gelu_amd64.s: the erf GELU on ymm (AVX2+FMA)
// and zmm (AVX-512F), one instruction sequence written for both.
func geluAMD64() string {
	var a asm
	a.l("%s", header)
	a.l(`// x/2·(1 + erf(x/√2)) = x/2·(x ≥ 0 ? 2 − E : E) with E = erfc(|x|/√2),
// computed as E = t·exp(P(t) − x²/2) (see exp.go's GELU for the error).
// x²/2 is carried as h + l (h = fl(a·a)/2, l its rounding error from an
// FMA) and P − h as s + lo (TwoSum), so exp(P − x²/2) ≈ exp(s)·(1 + lo)
// keeps float32 accuracy where x²/2 is large. |x| is clamped to 14 (E is
// 0 there) and the outer factor x to ≥ −14, so ±Inf give +Inf and −0;
// NaN stays NaN.`)
	off := map[string]int{}
	for i, c := range geluConst {
		off[c.name] = 64 * i
		for j := range 16 {
			a.l("DATA geluConsts<>+%d(SB)/4, $0x%08x", 64*i+4*j, c.bits)
		}
	}
	a.l("GLOBL geluConsts<>(SB), RODATA|NOPTR, $%d", 64*len(geluConst))
	for _, zmm := range []bool{false, true} {
		geluKernel(&a, zmm, func(name string) string { return fmt.Sprintf("geluConsts<>+%d(SB)", off[name]) })
	}
	return a.String()
}

// geluKernel writes one kernel: a loop over two vectors at a time, their
// instruction sequences interleaved (the chain of one vector is ~60
// dependent steps, longer than the scheduler's window, so a single chain
// left the FP pipes idle: 0.60 Gvalues/s of CPU on Zen 3 against 0.95
// interleaved), then one vector alone when n/lanes is odd.
func geluKernel(a *asm, zmm bool, c func(string) string) {
	v, name, lanes, shift, sfx := "Y", "geluAVX2", 8, 3, "y"
	if zmm {
		v, name, lanes, shift, sfx = "Z", "geluAVX512", 16, 4, "z"
	}
	a.l("")
	a.l("// func %s(dst, src *float32, n int)", name)
	a.l("// n must be a multiple of %d.", lanes)
	a.l("TEXT ·%s(SB), NOSPLIT, $0-24", name)
	a.l("\tMOVQ dst+0(FP), DI")
	a.l("\tMOVQ src+8(FP), SI")
	a.l("\tMOVQ n+16(FP), CX")
	a.l("\tSHRQ $%d, CX", shift)
	a.l("\tMOVQ CX, DX")
	a.l("\tSHRQ $1, CX")
	a.l("\tJZ geluone%s", sfx)
	a.l("")
	a.l("gelupair%s:", sfx)
	chainA := geluChain(v, 0, 1, 0, zmm, c)
	chainB := geluChain(v, 8, 3, 4*lanes, zmm, c)
	for i := range chainA {
		a.l("%s", chainA[i])
		a.l("%s", chainB[i])
	}
	a.l("\tADDQ $%d, SI", 8*lanes)
	a.l("\tADDQ $%d, DI", 8*lanes)
	a.l("\tDECQ CX")
	a.l("\tJNZ gelupair%s", sfx)
	a.l("")
	a.l("geluone%s:", sfx)
	a.l("\tTESTQ $1, DX")
	a.l("\tJZ geludone%s", sfx)
	for _, ins := range geluChain(v, 0, 1, 0, zmm, c) {
		a.l("%s", ins)
	}
	a.l("")
	a.l("geludone%s:", sfx)
	a.l("\tVZEROUPPER")
	a.l("\tRET")
}

// geluChain is the instruction sequence of one vector at off bytes from SI
// and DI, in the eight vector registers from base (and, for zmm, the mask
// registers from k). Registers are reused as values die: x is loaded again
// at the end instead of being held, so two chains fit in 16 registers.
func geluChain(v string, base, k, off int, zmm bool, c func(string) string) []string {
	var out []string
	l := func(format string, args ...any) { out = append(out, "\t"+fmt.Sprintf(format, args...)) }
	r := func(i int) string { return fmt.Sprintf("%s%d", v, base+i) }
	mem := func(reg string) string {
		if off == 0 {
			return "(" + reg + ")"
		}
		return fmt.Sprintf("%d(%s)", off, reg)
	}
	l("VMOVUPS %s, %s // x", mem("SI"), r(0))
	if zmm {
		l("VPANDD %s, %s, %s", c("absMask"), r(0), r(0))
	} else {
		l("VANDPS %s, %s, %s", c("absMask"), r(0), r(0))
	}
	l("VMINPS %s, %s, %s // a = min(|x|, 14)", c("aMax"), r(0), r(0))
	l("VMULPS %s, %s, %s // z = a/√2", c("invSqrt2"), r(0), r(1))
	l("VMULPS %s, %s, %s", c("half"), r(1), r(2))
	l("VADDPS %s, %s, %s", c("one"), r(2), r(2))
	l("VMOVUPS %s, %s", c("one"), r(3))
	l("VDIVPS %s, %s, %s // t = 1/(1 + z/2)", r(2), r(3), r(2))
	l("VMOVUPS %s, %s", c("p9"), r(1))
	for _, p := range []string{"p8", "p7", "p6", "p5", "p4", "p3", "p2", "p1", "p0"} {
		l("VFMADD213PS %s, %s, %s", c(p), r(2), r(1))
	}
	l("VMULPS %s, %s, %s // a², then its rounding error", r(0), r(0), r(3))
	l("VMOVAPS %s, %s", r(3), r(4))
	l("VFMSUB231PS %s, %s, %s", r(0), r(0), r(4))
	l("VMULPS %s, %s, %s // h", c("half"), r(3), r(3))
	l("VMULPS %s, %s, %s // l: x²/2 = h + l", c("half"), r(4), r(4))
	l("VSUBPS %s, %s, %s // s = P − h", r(3), r(1), r(5))
	l("VSUBPS %s, %s, %s // TwoSum: b = s − P", r(1), r(5), r(6))
	l("VSUBPS %s, %s, %s", r(6), r(5), r(0))
	l("VSUBPS %s, %s, %s // P − (s − b)", r(0), r(1), r(0))
	l("VADDPS %s, %s, %s // h + b", r(6), r(3), r(6))
	l("VSUBPS %s, %s, %s // rounding error of s", r(6), r(0), r(0))
	l("VSUBPS %s, %s, %s // lo", r(4), r(0), r(0))
	// exp(s) for s ≤ 0 (P(t) ≤ 0): n = round(s·log2 e) ≥ −126, so one
	// scaling by 2ⁿ stays normal; s below expLo gives 0.
	l("VMAXPS %s, %s, %s", c("expLo"), r(5), r(1))
	l("VMULPS %s, %s, %s", c("log2e"), r(1), r(3))
	if zmm {
		l("VRNDSCALEPS $0, %s, %s", r(3), r(3))
	} else {
		l("VROUNDPS $0, %s, %s", r(3), r(3))
	}
	l("VFNMADD231PS %s, %s, %s", c("ln2Hi"), r(3), r(1))
	l("VFNMADD231PS %s, %s, %s", c("ln2Lo"), r(3), r(1))
	l("VMOVUPS %s, %s", c("e0"), r(4))
	for _, e := range []string{"e1", "e2", "e3", "e4", "e5"} {
		l("VFMADD213PS %s, %s, %s", c(e), r(1), r(4))
	}
	l("VMULPS %s, %s, %s", r(1), r(1), r(6))
	l("VFMADD213PS %s, %s, %s", r(1), r(6), r(4))
	l("VADDPS %s, %s, %s", c("one"), r(4), r(4))
	l("VCVTPS2DQ %s, %s", r(3), r(3))
	l("VPADDD %s, %s, %s", c("bias"), r(3), r(3))
	l("VPSLLD $23, %s, %s", r(3), r(3))
	l("VMULPS %s, %s, %s // exp(s)", r(3), r(4), r(4))
	if zmm {
		l("VCMPPS $0x11, %s, %s, K%d // s < expLo", c("expLo"), r(5), k)
		l("VMOVAPS %s, K%d, %s", c("zero"), k, r(4))
	} else {
		l("VCMPPS $0x11, %s, %s, %s // s < expLo", c("expLo"), r(5), r(6))
		l("VANDNPS %s, %s, %s", r(4), r(6), r(4))
	}
	l("VFMADD213PS %s, %s, %s // exp(s)·(1 + lo)", r(4), r(0), r(4))
	l("VMULPS %s, %s, %s // E", r(2), r(4), r(4))
	l("VMOVUPS %s, %s", c("two"), r(3))
	l("VSUBPS %s, %s, %s // 2 − E", r(4), r(3), r(3))
	l("VMOVUPS %s, %s // x again", mem("SI"), r(0))
	if zmm {
		l("VCMPPS $0x1d, %s, %s, K%d // x ≥ 0", c("zero"), r(0), k+1)
		l("VMOVAPS %s, K%d, %s", r(3), k+1, r(4))
	} else {
		l("VCMPPS $0x1d, %s, %s, %s // x ≥ 0", c("zero"), r(0), r(6))
		l("VBLENDVPS %s, %s, %s, %s", r(6), r(3), r(4), r(4))
	}
	// max(−14, x) with x as the operand MAXPS returns for NaN.
	l("VMOVUPS %s, %s", c("xMin"), r(7))
	l("VMAXPS %s, %s, %s", r(0), r(7), r(7))
	l("VMULPS %s, %s, %s", c("half"), r(7), r(7))
	l("VMULPS %s, %s, %s", r(4), r(7), r(7))
	l("VMOVUPS %s, %s", r(7), mem("DI"))
	return out
}
