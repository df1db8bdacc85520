package main

import (
	"fmt"
	"math"
)

// geluConst lists the constants of the erf GELU kernels in their table's
// order. Each is stored 16 times (64 bytes) so both the ymm and the zmm
// kernel read it as a full-width memory operand.
var geluConst = []struct {
	name string
	bits uint32
}{
	{"negZero", 0x80000000}, // −0: |x| = x &^ −0, and max(−0, x)
	{"aMax", f32bits(14)},   // |x| clamp: erfc(14/√2) is below float32's range
	{"k", f32bits(2 * math.Sqrt2)},
	{"half", f32bits(0.5)},
	// exp(−h − l) by exp.go's algorithm (Cephes expf), with m rounded by
	// adding 1.5·2²³ (whose float32 ulp is 1) and 2⁻ᵐ built from the sum's
	// low bits (+127: the exponent bias).
	{"magicBias", f32bits(0x1.8p23 + 127)},
	{"magic", f32bits(0x1.8p23)},
	{"log2e", 0x3fb8aa3b},
	{"ln2Hi", 0x3f318000},
	{"ln2Lo", 0xb95e8083},
	{"e0", 0x39506967},
	{"e1", 0x3ab743ce},
	{"e2", 0x3c088908},
	{"e3", 0x3d2aa9c1},
	{"e4", 0x3e2aaaaa},
	{"e5", 0x3f000000},
	// erfcx(a/√2) = exp(a²/2)·erfc(a/√2) ≈ R(t), t = k/(k + a): the
	// relative minimax fit of scripts/gelu_erfcx_fit.py, error 3.4e-8 on
	// a ∈ [0, 14] with these float32 coefficients.
	{"r9", 0xbd60c75f},
	{"r8", 0x3e86a780},
	{"r7", 0xbee0fe38},
	{"r6", 0x3e5fda8b},
	{"r5", 0x3c9c8661},
	{"r4", 0x3e388dee},
	{"r3", 0x3e800fef},
	{"r2", 0x3e8fe3a5},
	{"r1", 0x3e908041},
	{"r0", 0xb6d4d237},
}

func f32bits(v float64) uint32 { return math.Float32bits(float32(v)) }

// geluHeld are the constants the kernels keep in registers for the whole
// call, from Y14 (Z14) down: the ones each vector reads more than once or
// copies into an accumulator, then the next polynomial coefficient; the
// others are memory operands. Two vectors in flight use Y0..Y9 and −0 is
// in Y15.
var geluHeld = []string{"magicBias", "k", "r9", "e0", "r8"}

// geluRegNegZero holds −0 (|x| = x &^ −0, and max(−0, x)).
const geluRegNegZero = 15

// geluAMD64 is the text of gelu_amd64.s: the erf GELU on ymm (AVX2+FMA)
// and zmm (AVX-512F), one instruction sequence written for both.
func geluAMD64() string {
	var a asm
	a.l("%s", header)
	a.l(`// GELU(x) = max(−0, x) − a/2·erfc(a/√2) with a = min(|x|, 14) and
// erfc(a/√2) = R(t)·exp(−a²/2) (see gelu.go): R a polynomial in
// t = k/(k + a), and exp(−h − l) with a²/2 = h + l (h = a·(a/2) rounded, l
// its error, from an FMA) reduced exactly by m·ln2. The two chains are
// independent until the last FMA.`)
	off := map[string]int{}
	for i, c := range geluConst {
		off[c.name] = 64 * i
		for j := range 16 {
			a.l("DATA geluConsts<>+%d(SB)/4, $0x%08x", 64*i+4*j, c.bits)
		}
	}
	a.l("GLOBL geluConsts<>(SB), RODATA|NOPTR, $%d", 64*len(geluConst))
	for _, zmm := range []bool{false, true} {
		v := "Y"
		if zmm {
			v = "Z"
		}
		mem := func(name string) string { return fmt.Sprintf("geluConsts<>+%d(SB)", off[name]) }
		held := map[string]string{"negZero": fmt.Sprintf("%s%d", v, geluRegNegZero)}
		for i, name := range geluHeld {
			held[name] = fmt.Sprintf("%s%d", v, geluRegNegZero-1-i)
		}
		geluKernel(&a, zmm, held, mem, func(name string) string {
			if r, ok := held[name]; ok {
				return r
			}
			return mem(name)
		})
	}
	return a.String()
}

// geluKernel writes one kernel: a loop over two vectors at a time, their
// instruction sequences interleaved (the division and the two FMA chains
// of one vector leave the FP pipes idle), then one vector alone when
// n/lanes is odd. held maps the constants kept in registers to them, mem
// names a constant's memory operand and c its operand in the loop.
func geluKernel(a *asm, zmm bool, held map[string]string, mem, c func(string) string) {
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
	for _, name := range append([]string{"negZero"}, geluHeld...) {
		a.l("\tVMOVUPS %s, %s", mem(name), held[name])
	}
	a.l("\tSHRQ $%d, CX", shift)
	a.l("\tMOVQ CX, DX")
	a.l("\tSHRQ $1, CX")
	a.l("\tJZ geluone%s", sfx)
	a.l("")
	a.l("gelupair%s:", sfx)
	chainA := geluChain(v, 0, 0, zmm, c)
	chainB := geluChain(v, 5, 4*lanes, zmm, c)
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
	for _, ins := range geluChain(v, 0, 0, zmm, c) {
		a.l("%s", ins)
	}
	a.l("")
	a.l("geludone%s:", sfx)
	a.l("\tVZEROUPPER")
	a.l("\tRET")
}

// geluChain is the instruction sequence of one vector at off bytes from SI
// and DI, in the five vector registers from base; c gives a constant's
// operand. Registers are reused as values die and x is read from memory
// twice instead of being held, so two vectors and the held constants fit
// in 16 registers.
func geluChain(v string, base, off int, zmm bool, c func(string) string) []string {
	var out []string
	l := func(format string, args ...any) { out = append(out, "\t"+fmt.Sprintf(format, args...)) }
	r := func(i int) string { return fmt.Sprintf("%s%d", v, base+i) }
	mem := func(reg string) string {
		if off == 0 {
			return "(" + reg + ")"
		}
		return fmt.Sprintf("%d(%s)", off, reg)
	}
	andn := "VANDNPS"
	if zmm {
		andn = "VPANDND" // VANDNPS on zmm needs AVX512DQ
	}
	l("%s %s, %s, %s // |x|", andn, mem("SI"), c("negZero"), r(0))
	l("VMINPS %s, %s, %s // a = min(|x|, 14); NaN gives 14", c("aMax"), r(0), r(0))
	l("VADDPS %s, %s, %s", c("k"), r(0), r(2))
	l("VMOVUPS %s, %s", c("k"), r(1))
	l("VDIVPS %s, %s, %s // t = k/(k + a)", r(2), r(1), r(1))
	l("VMULPS %s, %s, %s // a/2", c("half"), r(0), r(2))
	l("VMULPS %s, %s, %s // h", r(2), r(0), r(3))
	l("VFNMADD132PS %s, %s, %s // −l = h − a·(a/2)", r(2), r(3), r(0))
	// exp(−h − l) = 2⁻ᵐ·exp(ρ), m = round(h·log2 e), ρ = m·ln2 − h − l.
	l("VMOVUPS %s, %s", c("magicBias"), r(4))
	l("VFNMADD231PS %s, %s, %s // 1.5·2²³ + 127 − m", c("log2e"), r(3), r(4))
	l("VSUBPS %s, %s, %s // −m", c("magicBias"), r(4), r(4))
	l("VFMADD231PS %s, %s, %s // h − m·ln2Hi, exact", c("ln2Hi"), r(4), r(3))
	l("VFMADD231PS %s, %s, %s", c("ln2Lo"), r(4), r(3))
	l("VSUBPS %s, %s, %s // ρ", r(3), r(0), r(3))
	// The sum again (exact), rebuilt rather than kept: five registers.
	l("VADDPS %s, %s, %s", c("magicBias"), r(4), r(4))
	l("VMAXPS %s, %s, %s // m > 126: 2⁻ᵐ becomes 0", c("magic"), r(4), r(4))
	l("VPSLLD $23, %s, %s // 2⁻ᵐ", r(4), r(4))
	l("VMULPS %s, %s, %s // a/2·2⁻ᵐ", r(4), r(2), r(2))
	l("VMULPS %s, %s, %s // ρ²", r(3), r(3), r(4))
	l("VMOVUPS %s, %s", c("e0"), r(0))
	for _, e := range []string{"e1", "e2", "e3", "e4", "e5"} {
		l("VFMADD213PS %s, %s, %s", c(e), r(3), r(0))
	}
	l("VFMADD213PS %s, %s, %s // exp(ρ) − 1", r(3), r(4), r(0))
	l("VFMADD213PS %s, %s, %s // a/2·exp(−h − l)", r(2), r(2), r(0))
	l("VMOVUPS %s, %s", c("r9"), r(3))
	for _, p := range []string{"r8", "r7", "r6", "r5", "r4", "r3", "r2", "r1", "r0"} {
		l("VFMADD213PS %s, %s, %s", c(p), r(1), r(3))
	}
	l("VMAXPS %s, %s, %s // max(−0, x): x where NaN", mem("SI"), c("negZero"), r(4))
	l("VFNMADD231PS %s, %s, %s // max(−0, x) − a/2·exp(−a²/2)·R(t)", r(0), r(3), r(4))
	l("VMOVUPS %s, %s", r(4), mem("DI"))
	return out
}
