package main

import (
	"fmt"
	"math"
)

// The arm64 (NEON / Advanced SIMD) kernels. Every AArch64 CPU Go runs on
// has Advanced SIMD (the Go runtime's own memmove and bytealg use it
// unconditionally), so they need no feature test.

// fmlaElem returns the encoding of FMLA Vd.4S, Vn.4S, Vm.S[idx]
// (Vd += Vn · lane idx of Vm), as a Go assembler WORD line: the Go arm64
// assembler knows only the vector-by-vector form (VFMLA).
//
// Layout (Advanced SIMD vector × indexed element, single precision,
// Q=1): 0 1 0 01111 1 0 L M Rm[3:0] 0001 H 0 Rn Rd, lane = H:L and
// Vm = M:Rm (any of V0..V31).
func fmlaElem(d, n, m, idx int) string {
	if d < 0 || d > 31 || n < 0 || n > 31 || m < 0 || m > 31 || idx < 0 || idx > 3 {
		panic(fmt.Sprintf("fmlaElem(%d, %d, %d, %d): operand out of range", d, n, m, idx))
	}
	l, h := idx&1, idx>>1
	word := 0x4F801000 | l<<21 | (m>>4)<<20 | (m&15)<<16 | h<<11 | n<<5 | d
	return fmt.Sprintf("\tWORD $0x%08X // FMLA V%d.S4, V%d.S4, V%d.S[%d]", word, d, n, m, idx)
}

// vregs returns the register list "[Vlo.S4, ..., Vhi.S4]".
func vregs(lo, hi int) string {
	s := "["
	for r := lo; r <= hi; r++ {
		if r > lo {
			s += ", "
		}
		s += fmt.Sprintf("V%d.S4", r)
	}
	return s + "]"
}

// neonStep is one k step over the first rows rows of the tile with the
// packed B row in V0..V3 and the step's 6 values of A starting at lane
// first of the V4, V5, V6 sequence (first is 0 or 6: two steps' A, 12
// floats, are loaded together).
func neonStep(a *asm, rows, first int) {
	for r := range rows {
		i := first + r
		for q := range 4 {
			a.l("%s", fmlaElem(8+4*r+q, q, 4+i/4, i%4))
		}
	}
}

// neonPair is two k steps: A (12 floats) into V4..V6, each step's B row
// into V0..V3; R1 and R2 advance past them.
func neonPair(a *asm, rows int) {
	a.l("\tVLD1.P 48(R1), %s", vregs(4, 6))
	a.l("\tVLD1.P 64(R2), %s", vregs(0, 3))
	neonStep(a, rows, 0)
	a.l("\tVLD1.P 64(R2), %s", vregs(0, 3))
	neonStep(a, rows, 6)
}

func sgemmKernelNEON(a *asm, rows int) {
	p := func(label string) string { return fmt.Sprintf("%s%d", label, rows) }
	a.l("")
	a.l("TEXT ·kernel%dx16NEON(SB), NOSPLIT, $0-41", rows)
	a.l("\tMOVD k+0(FP), R0")
	a.l("\tMOVD a+8(FP), R1")
	a.l("\tMOVD b+16(FP), R2")
	a.l("\tMOVD c+24(FP), R3")
	a.l("\tMOVD ldc+32(FP), R4")
	a.l("\tLSL $2, R4 // row stride of C in bytes")
	a.l("\tMOVBU accumulate+40(FP), R5")
	a.l("\tCBZ R5, %s", p("zero"))
	a.l("")
	a.l("\t// Accumulate: the tile starts from C, so no vector add is needed")
	a.l("\t// at the end.")
	a.l("\tMOVD R3, R6")
	for r := range rows {
		a.l("\tVLD1.P (R6)(R4), %s", vregs(8+4*r, 11+4*r))
	}
	a.l("\tB %s", p("ready"))
	a.l("")
	a.l("%s:", p("zero"))
	for r := 8; r < 8+4*rows; r++ {
		a.l("\tVEOR V%d.B16, V%d.B16, V%d.B16", r, r, r)
	}
	a.l("")
	a.l("%s:", p("ready"))
	a.l("\tLSR $2, R0, R7 // blocks of 4 steps")
	a.l("\tCBZ R7, %s", p("tail"))
	a.l("")
	a.l("%s:", p("loop"))
	neonPair(a, rows)
	neonPair(a, rows)
	a.l("\tSUB $1, R7, R7")
	a.l("\tCBNZ R7, %s", p("loop"))
	a.l("")
	a.l("%s:", p("tail"))
	a.l("\tTBZ $1, R0, %s", p("single"))
	neonPair(a, rows)
	a.l("")
	a.l("%s:", p("single"))
	a.l("\tTBZ $0, R0, %s", p("store"))
	a.l("\t// The last step's 6 values of A: 4 + 2 floats, reading nothing past")
	a.l("\t// the panel.")
	a.l("\tVLD1.P 16(R1), [V4.S4]")
	a.l("\tFMOVD (R1), F5")
	a.l("\tVLD1 (R2), %s", vregs(0, 3))
	neonStep(a, rows, 0)
	a.l("")
	a.l("%s:", p("store"))
	for r := range rows {
		if r < rows-1 {
			a.l("\tVST1.P %s, (R3)(R4)", vregs(8+4*r, 11+4*r))
		} else {
			a.l("\tVST1 %s, (R3)", vregs(8+4*r, 11+4*r))
		}
	}
	a.l("\tRET")
}

// sgemmKernelsNEON is the text of sgemm_arm64.s.
func sgemmKernelsNEON() string {
	var a asm
	a.l("%s", header)
	a.l(`// func kernel6x16NEON(k int, a, b, c *float32, ldc int, accumulate bool)
//
// Register plan: V8..V31 hold the 6×16 accumulator tile (row r in
// V(8+4r)..V(11+4r), four floats each); V0..V3 one 16-float row of the
// packed B panel; V4..V6 the 12 values of A of two consecutive k steps,
// used lane by lane with FMLA by element (so A needs no broadcast). 24
// independent FMA chains cover FMA latency × throughput on the wide cores
// (4 cycles × 4 pipes on Apple M1, 4 × 2 on Neoverse N1 / Cortex-A76).
//
// The by-element FMLA is not in the Go assembler's vocabulary and is
// spelled as a WORD with the instruction in its comment.
//
// With accumulate set the tile is loaded from C before the products
// (C + Σ a·b, rounded per FMA) instead of being added at the end.
//
// kernelRx16NEON (R = 1..5) compute only the first R rows of the tile,
// for the last, partial panel of A, and touch no other row of C.`)
	for rows := 6; rows >= 1; rows-- {
		sgemmKernelNEON(&a, rows)
	}
	return a.String()
}

// Encodings of the Advanced SIMD single-precision instructions the Go
// assembler lacks, on 4 lanes (Q=1). Each returns a WORD line with the
// instruction in its comment; sameFP covers the "three same" group
// (Vd = op(Vn, Vm)), miscFP the "two-register miscellaneous" one
// (Vd = op(Vn)).
var sameFP = map[string]int{
	"FADD":  0x4E20D400,
	"FSUB":  0x4EA0D400,
	"FMUL":  0x6E20DC00,
	"FDIV":  0x6E20FC00,
	"FMAX":  0x4E20F400,
	"FMIN":  0x4EA0F400,
	"FMLA":  0x4E20CC00, // Vd += Vn·Vm
	"FMLS":  0x4EA0CC00, // Vd −= Vn·Vm
	"FCMEQ": 0x4E20E400,
	"FCMGT": 0x6EA0E400, // Vd = Vn > Vm ? ones : 0
	"BIC":   0x4E601C00, // Vd = Vn &^ Vm (bitwise, 16B)
	"FADDP": 0x6E20D400, // pairwise: Vd = [n0+n1, n2+n3, m0+m1, m2+m3]
}

var miscFP = map[string]int{
	"FCVTNS": 0x4E21A800, // to int32, rounding to nearest, ties to even
	"SCVTF":  0x4E21D800, // int32 to float32
	"FNEG":   0x6EA0F800,
	"FABS":   0x4EA0F800,
}

// reduceAdd returns FADDP Sd, Vn.2S (the sum of lanes 0 and 1 of Vn into
// the scalar Sd) and reduceMax FMAXV Sd, Vn.4S (the largest lane).
func reduceAdd(d, n int) string {
	return fmt.Sprintf("\tWORD $0x%08X // FADDP S%d, V%d.2S", 0x7E30D800|n<<5|d, d, n)
}

func reduceMax(d, n int) string {
	return fmt.Sprintf("\tWORD $0x%08X // FMAXV S%d, V%d.4S", 0x6E30F800|n<<5|d, d, n)
}

func same(op string, d, n, m int) string {
	base, ok := sameFP[op]
	if !ok || d|n|m < 0 || d > 31 || n > 31 || m > 31 {
		panic(fmt.Sprintf("same(%s, %d, %d, %d): unknown op or register", op, d, n, m))
	}
	arr := "4S"
	if op == "BIC" {
		arr = "16B"
	}
	return fmt.Sprintf("\tWORD $0x%08X // %s V%d.%s, V%d.%s, V%d.%s", base|m<<16|n<<5|d, op, d, arr, n, arr, m, arr)
}

func misc(op string, d, n int) string {
	base, ok := miscFP[op]
	if !ok || d|n < 0 || d > 31 || n > 31 {
		panic(fmt.Sprintf("misc(%s, %d, %d): unknown op or register", op, d, n))
	}
	return fmt.Sprintf("\tWORD $0x%08X // %s V%d.4S, V%d.4S", base|n<<5|d, op, d, n)
}

// sshr returns SSHR Vd.4S, Vn.4S, #shift (arithmetic shift right).
func sshr(d, n, shift int) string {
	if shift < 1 || shift > 32 {
		panic(fmt.Sprintf("sshr: shift %d out of range", shift))
	}
	return fmt.Sprintf("\tWORD $0x%08X // SSHR V%d.4S, V%d.4S, #%d", 0x4F000400|(64-shift)<<16|n<<5|d, d, n, shift)
}

// fmaPeakNEON is the text of fmapeak_arm64.s.
func fmaPeakNEON() string {
	var a asm
	a.l("%s", header)
	a.l(`// func fmaPeakLoop(iters int)
//
// 24 independent accumulator chains (V0..V23) cover FMLA latency (4
// cycles) × throughput (up to 4 per cycle on Apple M1); V24, V25 are the
// constant multiplicands. Each iteration issues 48 FMLAs on 4 lanes (the
// 384 flops of fmaPeakFlopsPerIter, as the amd64 loop) and touches no
// memory.
TEXT ·fmaPeakLoop(SB), NOSPLIT, $0-8
	MOVD iters+0(FP), R0`)
	for r := range 26 {
		a.l("\tVEOR V%d.B16, V%d.B16, V%d.B16", r, r, r)
	}
	a.l("\tCBZ R0, done")
	a.l("")
	a.l("loop:")
	for range 2 {
		for r := range 24 {
			a.l("\tVFMLA V24.S4, V25.S4, V%d.S4", r)
		}
	}
	a.l("\tSUB $1, R0, R0")
	a.l("\tCBNZ R0, loop")
	a.l("")
	a.l("done:")
	a.l("\tRET")
	return a.String()
}

// Registers of the exp kernels: the constants stay in V16..V29 for the
// whole loop (loadExpConsts); exp4 works in V0..V7.
const (
	vLog2e, vLn2Hi, vLn2Lo, vHi, vLo = 16, 17, 18, 19, 20
	vC0                              = 21 // c0..c5 in V21..V26
	vOne, vBias, vInf, vNegQG        = 27, 28, 29, 30
	vGeluK                           = 31 // the erf GELU's k = 2√2
)

// loadExpConsts broadcasts the constants of exp.go's algorithm (and
// QuickGELU's −1.702 and the erf GELU's k) into their registers
// through R5, once per call.
func loadExpConsts(a *asm) {
	consts := []struct {
		reg  int
		bits uint32
		what string
	}{
		{vLog2e, 0x3fb8aa3b, "log2(e)"},
		{vLn2Hi, 0x3f318000, "ln2 high part (exact in 9 bits)"},
		{vLn2Lo, 0xb95e8083, "ln2 low part"},
		{vHi, 0x42b17217, "88.72283: above, exp overflows to +Inf"},
		{vLo, 0xc2aeac4f, "-87.33654: below, exp flushes to 0"},
		{vC0, 0x39506967, "c0 (Cephes expf polynomial)"},
		{vC0 + 1, 0x3ab743ce, "c1"},
		{vC0 + 2, 0x3c088908, "c2"},
		{vC0 + 3, 0x3d2aa9c1, "c3"},
		{vC0 + 4, 0x3e2aaaaa, "c4"},
		{vC0 + 5, 0x3f000000, "c5 = 0.5"},
		{vOne, 0x3f800000, "1"},
		{vBias, 0x0000007f, "exponent bias 127 (int32)"},
		{vInf, 0x7f800000, "+Inf"},
		{vNegQG, 0xbfd9db23, "-1.702 (QuickGELU)"},
		{vGeluK, f32bits(2 * math.Sqrt2), "2√2 (erf GELU's k)"},
	}
	for _, c := range consts {
		a.l("\tMOVW $0x%08x, R5 // %s", c.bits, c.what)
		a.l("\tVDUP R5, V%d.S4", c.reg)
	}
}

// exp4 sets V0 = exp(V0) on 4 lanes, as exp.go's algorithm: clamp, n =
// round(x·log2 e) (ties to even), r = x − n·ln2 in two fused steps,
// exp(r) ≈ 1 + r + r²·P(r), scaled by 2^⌊n/2⌋·2^(n−⌊n/2⌋); x > 88.72283
// gives +Inf, x < −87.33654 gives 0, NaN gives NaN. Uses V1..V7.
func exp4(a *asm) {
	a.l("%s", same("FMIN", 1, 0, vHi))
	a.l("%s", same("FMAX", 1, 1, vLo))
	a.l("%s", same("FMUL", 2, 1, vLog2e))
	a.l("%s", misc("FCVTNS", 3, 2)) // n as int32
	a.l("%s", misc("SCVTF", 2, 3))  // n as float32
	a.l("%s", same("FMLS", 1, 2, vLn2Hi))
	a.l("%s", same("FMLS", 1, 2, vLn2Lo)) // r
	expPoly(a, 1)
	// y = p·r² + r + 1.
	a.l("%s", same("FMUL", 6, 1, 1))
	a.l("%s", same("FMLA", 1, 5, 6))
	a.l("%s", same("FADD", 1, 1, vOne))
	// 2^h·2^(n−h), h = n>>1 (arithmetic), as exponent fields.
	a.l("%s", sshr(4, 3, 1))
	a.l("\tVSUB V4.S4, V3.S4, V5.S4")
	a.l("\tVADD V%d.S4, V4.S4, V4.S4", vBias)
	a.l("\tVADD V%d.S4, V5.S4, V5.S4", vBias)
	a.l("\tVSHL $23, V4.S4, V4.S4")
	a.l("\tVSHL $23, V5.S4, V5.S4")
	a.l("%s", same("FMUL", 1, 1, 4))
	a.l("%s", same("FMUL", 1, 1, 5))
	// Out-of-range and NaN lanes (comparisons with NaN are false).
	a.l("%s", same("FCMGT", 6, 0, vHi))
	a.l("\tVBIT V6.B16, V%d.B16, V1.B16 // +Inf where x > hi", vInf)
	a.l("%s", same("FCMGT", 6, vLo, 0))
	a.l("%s", same("BIC", 1, 1, 6)) // 0 where x < lo
	a.l("%s", same("FCMEQ", 7, 0, 0))
	a.l("\tVBIT V7.B16, V1.B16, V0.B16 // y where x is not NaN, else x")
}

// expPoly sets V5 = P(Vr), exp's polynomial: Horner, p = ((((c0·r + c1)·r
// + c2)·r + c3)·r + c4)·r + c5, each step accumulating onto a copy of the
// next coefficient (in V4 and V5 by turns).
func expPoly(a *asm, r int) {
	a.l("\tVMOV V%d.B16, V4.B16", vC0)
	for i := 1; i <= 5; i++ {
		acc := 4 + i%2
		prev := 4 + (i-1)%2
		a.l("\tVMOV V%d.B16, V%d.B16", vC0+i, acc)
		a.l("%s", same("FMLA", acc, prev, r))
	}
}

// expLoop writes one kernel (dst, src *float32, n int) over 4 lanes at a
// time: body turns x in V0 into the result in V0 (x may be reloaded from
// V8, which holds it).
func expLoop(a *asm, name, doc, label string, body func()) {
	a.l("")
	a.l("%s", doc)
	a.l("TEXT ·%s(SB), NOSPLIT, $0-24", name)
	a.l("\tMOVD dst+0(FP), R0")
	a.l("\tMOVD src+8(FP), R1")
	a.l("\tMOVD n+16(FP), R2")
	a.l("\tLSR $2, R2, R2")
	a.l("\tCBZ R2, %sdone", label)
	loadExpConsts(a)
	a.l("")
	a.l("%sloop:", label)
	a.l("\tVLD1.P 16(R1), [V8.S4]")
	body()
	a.l("\tVST1.P [V0.S4], 16(R0)")
	a.l("\tSUB $1, R2, R2")
	a.l("\tCBNZ R2, %sloop", label)
	a.l("")
	a.l("%sdone:", label)
	a.l("\tRET")
}

// expNEON is the text of exp_arm64.s.
func expNEON() string {
	var a asm
	a.l("%s", header)
	a.l(`// The float32 exp of exp.go on NEON, 4 lanes per step: the constants
// live in V16..V30, one exp uses V0..V7 (see exp4 in internal/gen). Vector
// float instructions the Go assembler lacks are WORDs with the instruction
// in their comment.`)
	expLoop(&a, "expNEON", `// func expNEON(dst, src *float32, n int)
// dst = exp(src); n a multiple of 4.`, "exp", func() {
		a.l("\tVMOV V8.B16, V0.B16")
		exp4(&a)
	})
	expLoop(&a, "quickGELUNEON", `// func quickGELUNEON(dst, src *float32, n int)
// dst = x·sigmoid(1.702·x) = x / (1 + exp(−1.702·x)); n a multiple of 4.`, "qg", func() {
		a.l("%s", same("FMUL", 0, 8, vNegQG))
		exp4(&a)
		a.l("%s", same("FADD", 0, 0, vOne))
		a.l("%s", same("FDIV", 0, 8, 0))
	})
	expLoop(&a, "sigmoidNEON", `// func sigmoidNEON(dst, src *float32, n int)
// dst = 1 / (1 + exp(−x)); n a multiple of 4.`, "sg", func() {
		a.l("%s", misc("FNEG", 0, 8))
		exp4(&a)
		a.l("%s", same("FADD", 0, 0, vOne))
		a.l("%s", same("FDIV", 0, vOne, 0))
	})
	geluNEON(&a)
	return a.String()
}

// geluNEONConsts are the erf GELU's constants beyond exp's, in the order
// geluNEON's loop loads them (one post-incremented broadcast load each,
// from a pointer reset per step: the 16 exp constants and the values of
// two chains leave too few registers to hold them; k is loadExpConsts').
var geluNEONConsts = []string{"aMax", "magicBias", "magic", "r9", "r8", "r7", "r6", "r5", "r4", "r3", "r2", "r1", "r0", "negZero"}

// geluNEON writes geluNEON, the erf GELU of gelu.go (the steps of the
// AVX2 kernel, see gelu.go in this package): x in V8, a = min(|x|, 14) in
// V9, t in V10, a/2 then a/2·exp(−a²/2) in V11, h then ρ in V12, −l in
// V13, R(t) in V14; exp's log2 e, ln2 parts and polynomial from
// loadExpConsts, 0.5 from its c5 (V26).
func geluNEON(a *asm) {
	for i, name := range geluNEONConsts {
		var bits uint32
		for _, c := range geluConst {
			if c.name == name {
				bits = c.bits
			}
		}
		a.l("DATA geluNEONConsts<>+%d(SB)/4, $0x%08x // %s", 4*i, bits, name)
	}
	a.l("GLOBL geluNEONConsts<>(SB), RODATA|NOPTR, $%d", 4*len(geluNEONConsts))
	load := func(reg int, name string) {
		if geluNEONConsts[0] == name {
			a.l("\tMOVD $geluNEONConsts<>(SB), R6")
		}
		a.l("\tVLD1R.P 4(R6), [V%d.S4] // %s", reg, name)
	}
	expLoop(a, "geluNEON", `// func geluNEON(dst, src *float32, n int)
// dst = x/2·(1 + erf(x/√2)); n a multiple of 4.`, "ge", func() {
		a.l("%s", misc("FABS", 9, 8))
		load(1, "aMax")
		a.l("%s", same("FMIN", 9, 9, 1)) // a
		a.l("%s", same("FADD", 1, 9, vGeluK))
		a.l("%s", same("FDIV", 10, vGeluK, 1)) // t = k/(k + a)
		a.l("%s", same("FMUL", 11, 9, vC0+5))  // a/2
		a.l("%s", same("FMUL", 12, 9, 11))     // h
		a.l("\tVMOV V12.B16, V13.B16")
		a.l("%s", same("FMLS", 13, 9, 11)) // −l = h − a·(a/2)
		// exp(−h − l) = 2⁻ᵐ·exp(ρ), m = round(h·log2 e), ρ = m·ln2 − h − l.
		load(2, "magicBias")
		a.l("\tVMOV V2.B16, V3.B16")
		a.l("%s", same("FMLS", 3, 12, vLog2e)) // 1.5·2²³ + 127 − m
		a.l("%s", same("FSUB", 4, 3, 2))       // −m
		a.l("%s", same("FMLA", 12, 4, vLn2Hi)) // h − m·ln2Hi, exact
		a.l("%s", same("FMLA", 12, 4, vLn2Lo))
		a.l("%s", same("FSUB", 12, 13, 12)) // ρ
		load(5, "magic")
		a.l("%s", same("FMAX", 3, 3, 5)) // m > 126: 2⁻ᵐ becomes 0
		a.l("\tVSHL $23, V3.S4, V3.S4")
		a.l("%s", same("FMUL", 11, 11, 3)) // a/2·2⁻ᵐ
		a.l("%s", same("FMUL", 6, 12, 12)) // ρ²
		expPoly(a, 12)
		a.l("\tVMOV V12.B16, V7.B16")
		a.l("%s", same("FMLA", 7, 5, 6))   // exp(ρ) − 1
		a.l("%s", same("FMLA", 11, 7, 11)) // a/2·exp(−h − l)
		// R(t) by Horner, alternating V2 and V14 so that it ends in V14.
		load(2, "r9")
		cur, other := 2, 14
		for _, c := range []string{"r8", "r7", "r6", "r5", "r4", "r3", "r2", "r1", "r0"} {
			load(other, c)
			a.l("%s", same("FMLA", other, cur, 10))
			cur, other = other, cur
		}
		load(3, "negZero")
		a.l("%s", same("FMAX", 0, 8, 3))   // max(−0, x); NaN stays NaN
		a.l("%s", same("FMLS", 0, 11, 14)) // max(−0, x) − a/2·exp(−a²/2)·R(t)
	})
}

// addNEON is the text of vec_arm64.s.
func addNEON() string {
	var a asm
	a.l("%s", header)
	a.l(`// func addNEON(dst, src *float32, n int)
// dst += src, 16 floats per step; n a multiple of 16.
TEXT ·addNEON(SB), NOSPLIT, $0-24
	MOVD dst+0(FP), R0
	MOVD src+8(FP), R1
	MOVD n+16(FP), R2
	LSR $4, R2, R2
	CBZ R2, done

loop:
	VLD1.P 64(R1), [V0.S4, V1.S4, V2.S4, V3.S4]
	VLD1 (R0), [V4.S4, V5.S4, V6.S4, V7.S4]`)
	for q := range 4 {
		a.l("%s", same("FADD", 4+q, 4+q, q))
	}
	a.l(`	VST1.P [V4.S4, V5.S4, V6.S4, V7.S4], 64(R0)
	SUB $1, R2, R2
	CBNZ R2, loop

done:
	RET`)
	// dst = x op y for Binary, one function per operator.
	for _, op := range []struct{ name, ins, sym string }{
		{"add", "FADD", "+"}, {"sub", "FSUB", "−"}, {"mul", "FMUL", "·"}, {"div", "FDIV", "/"},
	} {
		a.l(`
// func %sVecNEON(dst, x, y *float32, n int)
// dst[i] = x[i] %s y[i], 16 floats per step; n a multiple of 16.
TEXT ·%sVecNEON(SB), NOSPLIT, $0-32
	MOVD dst+0(FP), R0
	MOVD x+8(FP), R1
	MOVD y+16(FP), R3
	MOVD n+24(FP), R2
	LSR $4, R2, R2
	CBZ R2, %sdone

%sloop:
	VLD1.P 64(R1), [V0.S4, V1.S4, V2.S4, V3.S4]
	VLD1.P 64(R3), [V4.S4, V5.S4, V6.S4, V7.S4]`, op.name, op.sym, op.name, op.name, op.name)
		for q := range 4 {
			a.l("%s", same(op.ins, q, q, 4+q))
		}
		a.l(`	VST1.P [V0.S4, V1.S4, V2.S4, V3.S4], 64(R0)
	SUB $1, R2, R2
	CBNZ R2, %sloop

%sdone:
	RET`, op.name, op.name)
	}
	return a.String()
}

// sumLanes reduces V0..V3 (4 lanes each) to their total in F0.
func sumLanes(a *asm) {
	a.l("%s", same("FADD", 0, 0, 1))
	a.l("%s", same("FADD", 2, 2, 3))
	a.l("%s", same("FADD", 0, 0, 2))
	a.l("%s", same("FADDP", 0, 0, 0))
	a.l("%s", reduceAdd(0, 0))
}

// rowsNEON is the text of rows_arm64.s: the vector steps of Softmax and
// LayerNorm (rows.go), as the AVX2 ones in exp_amd64.s and vec_amd64.s.
func rowsNEON() string {
	var a asm
	a.l("%s", header)
	a.l(`// The row kernels of Softmax and LayerNorm on NEON. Vector float
// instructions the Go assembler lacks are WORDs with the instruction in
// their comment.

// func maxNEON(x *float32, n int) float32
// The largest of x[0:n] (NaN if any is NaN); n a positive multiple of 4.
TEXT ·maxNEON(SB), NOSPLIT, $0-20
	MOVD x+0(FP), R0
	MOVD n+8(FP), R1
	LSR $2, R1, R1
	VLD1.P 16(R0), [V0.S4]
	SUB $1, R1, R1
	CBZ R1, maxreduce

maxloop:
	VLD1.P 16(R0), [V1.S4]`)
	a.l("%s", same("FMAX", 0, 0, 1))
	a.l(`	SUB $1, R1, R1
	CBNZ R1, maxloop

maxreduce:`)
	a.l("%s", reduceMax(0, 0))
	a.l(`	FMOVS F0, ret+16(FP)
	RET

// func scaleNEON(x *float32, n int, s float32)
// x[i] *= s; n a multiple of 4.
TEXT ·scaleNEON(SB), NOSPLIT, $0-20
	MOVD x+0(FP), R0
	MOVD n+8(FP), R1
	FMOVS s+16(FP), F1
	VDUP V1.S[0], V1.S4
	LSR $2, R1, R1
	CBZ R1, scdone

scloop:
	VLD1 (R0), [V0.S4]`)
	a.l("%s", same("FMUL", 0, 0, 1))
	a.l(`	VST1.P [V0.S4], 16(R0)
	SUB $1, R1, R1
	CBNZ R1, scloop

scdone:
	RET

// func expShiftSumNEON(dst, src *float32, n int, shift float32) float32
// dst[i] = exp(src[i] − shift) and returns the sum of the dst values (4
// lane partial sums in V10, then reduced); n a multiple of 4. The exp
// constants live in V16..V30, one exp uses V0..V7 (exp4).
TEXT ·expShiftSumNEON(SB), NOSPLIT, $0-36
	MOVD dst+0(FP), R0
	MOVD src+8(FP), R1
	MOVD n+16(FP), R2
	FMOVS shift+24(FP), F9
	VDUP V9.S[0], V9.S4
	VEOR V10.B16, V10.B16, V10.B16
	LSR $2, R2, R2
	CBZ R2, essreduce`)
	loadExpConsts(&a)
	a.l("")
	a.l("essloop:")
	a.l("\tVLD1.P 16(R1), [V8.S4]")
	a.l("%s", same("FSUB", 0, 8, 9))
	exp4(&a)
	a.l("\tVST1.P [V0.S4], 16(R0)")
	a.l("%s", same("FADD", 10, 10, 0))
	a.l(`	SUB $1, R2, R2
	CBNZ R2, essloop

essreduce:`)
	a.l("%s", same("FADDP", 10, 10, 10))
	a.l("%s", reduceAdd(0, 10))
	a.l(`	FMOVS F0, ret+32(FP)
	RET

// func sumNEON(x *float32, n int) float32
// Σ x[0:n] with 4×4 partial sums; n a multiple of 16.
TEXT ·sumNEON(SB), NOSPLIT, $0-20
	MOVD x+0(FP), R0
	MOVD n+8(FP), R1
	VEOR V0.B16, V0.B16, V0.B16
	VEOR V1.B16, V1.B16, V1.B16
	VEOR V2.B16, V2.B16, V2.B16
	VEOR V3.B16, V3.B16, V3.B16
	LSR $4, R1, R1
	CBZ R1, sumreduce

sumloop:
	VLD1.P 64(R0), [V4.S4, V5.S4, V6.S4, V7.S4]`)
	for q := range 4 {
		a.l("%s", same("FADD", q, q, 4+q))
	}
	a.l(`	SUB $1, R1, R1
	CBNZ R1, sumloop

sumreduce:`)
	sumLanes(&a)
	a.l(`	FMOVS F0, ret+16(FP)
	RET

// func sumSqDevNEON(x *float32, n int, mean float32) float32
// Σ (x[i] − mean)² with 4×4 partial sums; n a multiple of 16.
TEXT ·sumSqDevNEON(SB), NOSPLIT, $0-28
	MOVD x+0(FP), R0
	MOVD n+8(FP), R1
	FMOVS mean+16(FP), F8
	VDUP V8.S[0], V8.S4
	VEOR V0.B16, V0.B16, V0.B16
	VEOR V1.B16, V1.B16, V1.B16
	VEOR V2.B16, V2.B16, V2.B16
	VEOR V3.B16, V3.B16, V3.B16
	LSR $4, R1, R1
	CBZ R1, ssdreduce

ssdloop:
	VLD1.P 64(R0), [V4.S4, V5.S4, V6.S4, V7.S4]`)
	for q := range 4 {
		a.l("%s", same("FSUB", 4+q, 4+q, 8))
	}
	for q := range 4 {
		a.l("%s", same("FMLA", q, 4+q, 4+q))
	}
	a.l(`	SUB $1, R1, R1
	CBNZ R1, ssdloop

ssdreduce:`)
	sumLanes(&a)
	a.l(`	FMOVS F0, ret+24(FP)
	RET

// func normAffineNEON(dst, src, gamma, beta *float32, n int, mean, rstd float32)
// dst[i] = (src[i] − mean)·rstd·gamma[i] + beta[i]; n a multiple of 4.
TEXT ·normAffineNEON(SB), NOSPLIT, $0-48
	MOVD dst+0(FP), R0
	MOVD src+8(FP), R1
	MOVD gamma+16(FP), R2
	MOVD beta+24(FP), R3
	MOVD n+32(FP), R4
	FMOVS mean+40(FP), F8
	VDUP V8.S[0], V8.S4
	FMOVS rstd+44(FP), F9
	VDUP V9.S[0], V9.S4
	LSR $2, R4, R4
	CBZ R4, nadone

naloop:
	VLD1.P 16(R1), [V0.S4]
	VLD1.P 16(R2), [V1.S4]
	VLD1.P 16(R3), [V2.S4]`)
	a.l("%s", same("FSUB", 0, 0, 8))
	a.l("%s", same("FMUL", 0, 0, 9))
	a.l("%s", same("FMLA", 2, 0, 1))
	a.l(`	VST1.P [V2.S4], 16(R0)
	SUB $1, R4, R4
	CBNZ R4, naloop

nadone:
	RET`)
	return a.String()
}

// smlalElem returns the encoding of SMLAL Vd.4S, Vn.4H, Vm.H[idx] (high
// false: Vd += the low 4 int16 of Vn times lane idx of Vm, widened to
// int32) or SMLAL2 Vd.4S, Vn.8H, Vm.H[idx] (high: the upper 4 int16 of
// Vn), as a Go assembler WORD line: the Go arm64 assembler has neither.
//
// Layout (Advanced SIMD vector × indexed element, long, signed,
// size=01): 0 Q 0 01111 01 L M Rm[3:0] 0010 H 0 Rn Rd with Q the "2"
// (upper half) form, lane = H:L:M and Vm = Rm, so only V0..V15 can hold
// the element operand.
func smlalElem(d, n, m, idx int, high bool) string {
	if d < 0 || d > 31 || n < 0 || n > 31 || m < 0 || m > 15 || idx < 0 || idx > 7 {
		panic(fmt.Sprintf("smlalElem(%d, %d, %d, %d): operand out of range", d, n, m, idx))
	}
	h, l, mb := idx>>2, idx>>1&1, idx&1
	word := 0x0F402000 | l<<21 | mb<<20 | m<<16 | h<<11 | n<<5 | d
	op, arr := "SMLAL", "4H"
	if high {
		word |= 1 << 30
		op, arr = "SMLAL2", "8H"
	}
	return fmt.Sprintf("\tWORD $0x%08X // %s V%d.4S, V%d.%s, V%d.H[%d]", word, op, d, n, arr, m, idx)
}

// hregs returns the register list "[Vlo.H8, ..., Vhi.H8]".
func hregs(lo, hi int) string {
	s := "["
	for r := lo; r <= hi; r++ {
		if r > lo {
			s += ", "
		}
		s += fmt.Sprintf("V%d.H8", r)
	}
	return s + "]"
}

// neon8Step is one pair step (two k) over the first rows rows of the int8
// tile: B's 16 columns de-interleaved by LD2 into V3 (k even, columns
// 0..7), V4 (k odd, 0..7), V5 and V6 (the same for columns 8..15); the
// step's 12 int16 of A (row r's pair at lanes 2r, 2r+1) start at lane
// first of the V0, V1, V2 sequence (first is 0 or 12: two steps' A, 24
// int16, are loaded together).
func neon8Step(a *asm, rows, first int) {
	a.l("\tVLD2.P 32(R2), [V3.H8, V4.H8]")
	a.l("\tVLD2.P 32(R2), [V5.H8, V6.H8]")
	for r := range rows {
		for kk := range 2 {
			i := first + 2*r + kk
			m, idx := i/8, i%8
			for q := range 4 {
				// Columns 4q..4q+3: the low (q even) or high half of V3
				// (k even) / V4 (k odd) for q < 2, of V5 / V6 past.
				src := 3 + 2*(q/2) + kk
				a.l("%s", smlalElem(8+4*r+q, src, m, idx, q%2 == 1))
			}
		}
	}
}

func gemm8KernelNEON(a *asm, rows int) {
	p := func(label string) string { return fmt.Sprintf("%s%d", label, rows) }
	a.l("")
	a.l("TEXT ·kernel8n%dx16NEON(SB), NOSPLIT, $0-41", rows)
	a.l("\tMOVD k+0(FP), R0")
	a.l("\tMOVD a+8(FP), R1")
	a.l("\tMOVD b+16(FP), R2")
	a.l("\tMOVD c+24(FP), R3")
	a.l("\tMOVD ldc+32(FP), R4")
	a.l("\tLSL $2, R4 // row stride of C in bytes")
	a.l("\tMOVBU accumulate+40(FP), R5")
	a.l("\tCBZ R5, %s", p("zero"))
	a.l("")
	a.l("\t// Accumulate: the tile starts from C (integer sums: the order")
	a.l("\t// cannot change them).")
	a.l("\tMOVD R3, R6")
	for r := range rows {
		a.l("\tVLD1.P (R6)(R4), %s", vregs(8+4*r, 11+4*r))
	}
	a.l("\tB %s", p("ready"))
	a.l("")
	a.l("%s:", p("zero"))
	for r := 8; r < 8+4*rows; r++ {
		a.l("\tVEOR V%d.B16, V%d.B16, V%d.B16", r, r, r)
	}
	a.l("")
	a.l("%s:", p("ready"))
	a.l("\tLSR $1, R0, R7 // blocks of 2 pair steps")
	a.l("\tCBZ R7, %s", p("tail"))
	a.l("")
	a.l("%s:", p("loop"))
	a.l("\tVLD1.P 48(R1), %s", hregs(0, 2))
	neon8Step(a, rows, 0)
	neon8Step(a, rows, 12)
	a.l("\tSUB $1, R7, R7")
	a.l("\tCBNZ R7, %s", p("loop"))
	a.l("")
	a.l("%s:", p("tail"))
	a.l("\tTBZ $0, R0, %s", p("store"))
	a.l("\t// The last pair step's 12 int16 of A: 8 + 4, reading nothing past")
	a.l("\t// the panel.")
	a.l("\tVLD1.P 16(R1), [V0.H8]")
	a.l("\tFMOVD (R1), F1")
	neon8Step(a, rows, 0)
	a.l("")
	a.l("%s:", p("store"))
	for r := range rows {
		if r < rows-1 {
			a.l("\tVST1.P %s, (R3)(R4)", vregs(8+4*r, 11+4*r))
		} else {
			a.l("\tVST1 %s, (R3)", vregs(8+4*r, 11+4*r))
		}
	}
	a.l("\tRET")
}

// gemm8KernelsNEON is the text of gemm8_arm64.s.
func gemm8KernelsNEON() string {
	var a asm
	a.l("%s", header)
	a.l(`// func kernel8n6x16NEON(k int, a, b *int16, c *int32, ldc int, accumulate bool)
//
// The int8 GEMM micro-kernel on the int16 pair layout of PackedB8 (see
// gemm8.go): k pair steps, each adding a0·b[j][0] + a1·b[j][1] for the
// 6 rows of A and the 16 columns of B into exact int32 sums (|v| ≤ 255
// after the zero points, so a product fits 17 bits and K ≤ gemm8MaxK
// keeps every sum in range).
//
// Register plan: V8..V31 hold the 6×16 int32 tile (row r in
// V(8+4r)..V(11+4r), four columns each); LD2 splits a step's 16 B pairs
// into its even-k values (V3: columns 0..7, V5: 8..15) and odd-k values
// (V4, V6); V0..V2 hold the 24 int16 of A of two consecutive pair steps,
// used lane by lane with SMLAL / SMLAL2 by element (int16 × int16 widened
// to int32 and added: 4 multiply-adds each, on every AArch64 CPU). The
// element operand of the 16-bit by-element form must be one of V0..V15,
// hence A in V0..V2.
//
// The dot-product extension (UDOT, ARMv8.2) multiplies 8-bit operands
// only, and A−a₀ and B−b₀ range over −255..255, so it cannot read this
// layout; it reads the quad layout instead (kernelQRx32DOT below).
//
// SMLAL by element is not in the Go assembler's vocabulary and is spelled
// as a WORD with the instruction in its comment.
//
// kernel8nRx16NEON (R = 1..5) compute only the first R rows of the tile,
// for the last, partial panel of A, and touch no other row of C.`)
	for rows := 6; rows >= 1; rows-- {
		gemm8KernelNEON(&a, rows)
	}
	a.l("")
	a.l(`// func kernelQ6x32DOT(k int, a *uint8, b *int8, c *int32, ldc int, accumulate bool, rs, dc, cc *int32)
//
// The quad-layout kernel (see gemm8q.go) for CPUs with the dot-product
// extension: k quad steps of raw uint8 A (row r's 4 bytes at S lane r of
// a step's 24) against B' (int8) in two 16-column panels, into the 6×32
// int32 tile, then + rs[r]·dc[j] + cc[j], the zero-point terms. UDOT
// multiplies uint8 by uint8, so each B' byte is flipped to B'+128 (XOR
// 0x80) as it is loaded and the extra 128·Σa = 128·rs[r] is taken back
// with the correction: + rs[r]·(dc[j] − 128). Every step is exact modulo
// 2³², and the total fits an int32.
//
// The 6×32 tile needs 48 registers, so the two 16-column halves run one
// after the other over the same A (V8..V31 the 6×16 half tile, V3..V6 a
// step's B quads, V0..V2 two steps' A, V7 the 0x80 bytes). UDOT and MLA
// are spelled as WORDs with the instruction in the comment.
//
// kernelQRx32DOT (R = 1..5) compute only the first R rows of the tile.`)
	for rows := 6; rows >= 1; rows-- {
		gemm8DotKernel(&a, rows)
	}
	return a.String()
}

// udotElem returns the encoding of UDOT Vd.4S, Vn.16B, Vm.4B[idx]
// (dot-product extension: lane i of Vd += the 4 uint8 of lane i of Vn
// times the 4 uint8 of lane idx of Vm, summed) as a Go assembler WORD line.
//
// Layout (Advanced SIMD vector × indexed element, U=1, size=10, Q=1):
// 0 1 1 01111 10 L M Rm[3:0] 1110 H 0 Rn Rd, lane = H:L and Vm = M:Rm.
func udotElem(d, n, m, idx int) string {
	if d < 0 || d > 31 || n < 0 || n > 31 || m < 0 || m > 31 || idx < 0 || idx > 3 {
		panic(fmt.Sprintf("udotElem(%d, %d, %d, %d): operand out of range", d, n, m, idx))
	}
	l, h := idx&1, idx>>1
	word := 0x6F80E000 | l<<21 | (m>>4)<<20 | (m&15)<<16 | h<<11 | n<<5 | d
	return fmt.Sprintf("\tWORD $0x%08X // UDOT V%d.4S, V%d.16B, V%d.4B[%d]", word, d, n, m, idx)
}

// mlaVec returns the encoding of MLA Vd.4S, Vn.4S, Vm.4S (Vd += Vn·Vm,
// int32 lanes, modulo 2³²) as a Go assembler WORD line.
func mlaVec(d, n, m int) string {
	if d|n|m < 0 || d > 31 || n > 31 || m > 31 {
		panic(fmt.Sprintf("mlaVec(%d, %d, %d): register out of range", d, n, m))
	}
	return fmt.Sprintf("\tWORD $0x%08X // MLA V%d.4S, V%d.4S, V%d.4S", 0x4EA09400|m<<16|n<<5|d, d, n, m)
}

// dotStep is one quad step (four k) over the first rows rows of a 6×16
// half tile: the 16 columns' quads of B' into V3..V6 (column group q in
// V(3+q)), flipped to B'+128 (uint8) by V7's 0x80 bytes; the step's 6
// quads of A (row r's at S lane r) start at lane first of the V0, V1, V2
// sequence (first is 0 or 6: two steps' A, 48 bytes, are loaded together).
func dotStep(a *asm, rows, first int) {
	a.l("\tVLD1.P 64(R2), [V3.B16, V4.B16, V5.B16, V6.B16]")
	for q := range 4 {
		a.l("\tVEOR V7.B16, V%d.B16, V%d.B16", 3+q, 3+q)
	}
	for r := range rows {
		i := first + r
		for q := range 4 {
			a.l("%s", udotElem(8+4*r+q, 3+q, i/4, i%4))
		}
	}
}

// gemm8DotHalf is one 16-column half of the quad kernel's 6×32 tile: C's
// half at R13, B's panel at R2 (left past it), A at R1, k quads in R0;
// dc and cc at R9, R10 (advanced past the half's 16), rs at R8.
func gemm8DotHalf(a *asm, rows, half int) {
	p := func(label string) string { return fmt.Sprintf("%s%d_%d", label, rows, half) }
	a.l("\tCBZ R5, %s", p("zero"))
	a.l("\tMOVD R13, R6")
	for r := range rows {
		a.l("\tVLD1.P (R6)(R4), %s", vregs(8+4*r, 11+4*r))
	}
	a.l("\tB %s", p("ready"))
	a.l("")
	a.l("%s:", p("zero"))
	for r := 8; r < 8+4*rows; r++ {
		a.l("\tVEOR V%d.B16, V%d.B16, V%d.B16", r, r, r)
	}
	a.l("")
	a.l("%s:", p("ready"))
	a.l("\tMOVD R1, R11")
	a.l("\tLSR $1, R0, R7 // blocks of 2 quad steps")
	a.l("\tCBZ R7, %s", p("tail"))
	a.l("")
	a.l("%s:", p("loop"))
	a.l("\tVLD1.P 48(R11), [V0.B16, V1.B16, V2.B16]")
	dotStep(a, rows, 0)
	dotStep(a, rows, 6)
	a.l("\tSUB $1, R7, R7")
	a.l("\tCBNZ R7, %s", p("loop"))
	a.l("")
	a.l("%s:", p("tail"))
	a.l("\tTBZ $0, R0, %s", p("fix"))
	a.l("\t// The last quad step's 24 bytes of A: 16 + 8, reading nothing past")
	a.l("\t// the panel.")
	a.l("\tVLD1.P 16(R11), [V0.B16]")
	a.l("\tFMOVD (R11), F1")
	dotStep(a, rows, 0)
	a.l("")
	a.l("%s:", p("fix"))
	a.l("\t// The zero-point terms: + rs[r]·(dc[j] − 128) + cc[j] (the 128")
	a.l("\t// takes back the flip of B').")
	a.l("\tMOVD $128, R12")
	a.l("\tVDUP R12, V2.S4")
	a.l("\tVLD1.P 64(R9), [V3.S4, V4.S4, V5.S4, V6.S4]")
	for q := range 4 {
		a.l("\tVSUB V2.S4, V%d.S4, V%d.S4", 3+q, 3+q)
	}
	a.l("\tMOVD R8, R12")
	for r := range rows {
		a.l("\tVLD1R.P 4(R12), [V0.S4]")
		for q := range 4 {
			a.l("%s", mlaVec(8+4*r+q, 3+q, 0))
		}
	}
	a.l("\tVLD1.P 64(R10), [V3.S4, V4.S4, V5.S4, V6.S4]")
	for r := range rows {
		for q := range 4 {
			a.l("\tVADD V%d.S4, V%d.S4, V%d.S4", 3+q, 8+4*r+q, 8+4*r+q)
		}
	}
	a.l("\tMOVD R13, R6")
	for r := range rows {
		if r < rows-1 {
			a.l("\tVST1.P %s, (R6)(R4)", vregs(8+4*r, 11+4*r))
		} else {
			a.l("\tVST1 %s, (R6)", vregs(8+4*r, 11+4*r))
		}
	}
}

func gemm8DotKernel(a *asm, rows int) {
	a.l("")
	a.l("TEXT ·kernelQ%dx32DOT(SB), NOSPLIT, $0-72", rows)
	a.l("\tMOVD k+0(FP), R0")
	a.l("\tMOVD a+8(FP), R1")
	a.l("\tMOVD b+16(FP), R2")
	a.l("\tMOVD c+24(FP), R13")
	a.l("\tMOVD ldc+32(FP), R4")
	a.l("\tLSL $2, R4 // row stride of C in bytes")
	a.l("\tMOVBU accumulate+40(FP), R5")
	a.l("\tMOVD rs+48(FP), R8")
	a.l("\tMOVD dc+56(FP), R9")
	a.l("\tMOVD cc+64(FP), R10")
	a.l("\tVMOVI $128, V7.B16 // 0x80 bytes: B' XOR 0x80 = B'+128, a uint8")
	for half := range 2 {
		a.l("")
		a.l("\t// Columns %d..%d.", 16*half, 16*half+15)
		if half == 1 {
			a.l("\tADD $64, R13")
		}
		gemm8DotHalf(a, rows, half)
	}
	a.l("\tRET")
}

// uaddlp returns the encoding of UADDLP Vd.8H, Vn.16B (adjacent uint8
// pairs added into uint16 lanes) as a Go assembler WORD line.
func uaddlp(d, n int) string {
	if d|n < 0 || d > 31 || n > 31 {
		panic(fmt.Sprintf("uaddlp(%d, %d): register out of range", d, n))
	}
	return fmt.Sprintf("\tWORD $0x%08X // UADDLP V%d.8H, V%d.16B", 0x6E202800|n<<5|d, d, n)
}

// uadalp returns the encoding of UADALP Vd.4S, Vn.8H (adjacent uint16
// pairs added into the uint32 lanes of Vd) as a Go assembler WORD line.
func uadalp(d, n int) string {
	if d|n < 0 || d > 31 || n > 31 {
		panic(fmt.Sprintf("uadalp(%d, %d): register out of range", d, n))
	}
	return fmt.Sprintf("\tWORD $0x%08X // UADALP V%d.4S, V%d.8H", 0x6E606800|n<<5|d, d, n)
}

// packQuadNEON is the text of gemm8q_arm64.s: the quad GEMM's A packer,
// the NEON twin of packQuad6x16AVX2 (gemm8q_amd64.s).
func packQuadNEON() string {
	var a asm
	a.l("%s", header)
	a.l(`// func packQuad6x16NEON(dst *uint8, a *uint8, lda int, blocks int, rs *int32)
//
// packQuad6Go's body on the first 16·blocks bytes of six rows of A (row
// stride lda), blocks ≥ 1: per 16-byte block (4 quads), ZIP1/ZIP2 of the
// dwords of rows (0,1), (2,3), (4,5) pair each quad's row bytes into
// 8-byte elements, and ST3 of three such registers by 64-bit elements
// writes quad after quad, 24 bytes each: 96 sequential bytes. Each row's
// bytes are summed in the same pass (UADDLP to uint16 pairs, UADALP into
// uint32 lanes) and rs[r] is set to its sum. UADDLP and UADALP are
// spelled as WORDs with the instruction in the comment.
TEXT ·packQuad6x16NEON(SB), NOSPLIT, $0-40
	MOVD dst+0(FP), R0
	MOVD a+8(FP), R1
	MOVD lda+16(FP), R2
	MOVD blocks+24(FP), R3
	MOVD rs+32(FP), R4`)
	// Rows 1..5 at R5..R9.
	a.l("\tADD R2, R1, R5")
	for r := 2; r < 6; r++ {
		a.l("\tADD R2, R%d, R%d", 3+r, 4+r)
	}
	for r := range 6 {
		a.l("\tVEOR V%d.B16, V%d.B16, V%d.B16", 16+r, 16+r, 16+r)
	}
	a.l("")
	a.l("pq6loop:")
	rowReg := []int{1, 5, 6, 7, 8, 9}
	for r := range 6 {
		a.l("\tVLD1.P 16(R%d), [V%d.B16]", rowReg[r], r)
	}
	for r := range 6 {
		a.l("%s", uaddlp(22+r, r))
	}
	for r := range 6 {
		a.l("%s", uadalp(16+r, 22+r))
	}
	a.l("\t// Quads 0-1 of rows (0,1), (2,3), (4,5) in V6..V8, quads 2-3 in V9..V11.")
	for p := range 3 {
		a.l("\tVZIP1 V%d.S4, V%d.S4, V%d.S4", 2*p+1, 2*p, 6+p)
	}
	for p := range 3 {
		a.l("\tVZIP2 V%d.S4, V%d.S4, V%d.S4", 2*p+1, 2*p, 9+p)
	}
	a.l("\tVST3.P [V6.D2, V7.D2, V8.D2], 48(R0)")
	a.l("\tVST3.P [V9.D2, V10.D2, V11.D2], 48(R0)")
	a.l("\tSUB $1, R3, R3")
	a.l("\tCBNZ R3, pq6loop")
	a.l("")
	a.l(`	// Pairwise adds reduce the lanes: V24 = the sums of rows 0-3, the
	// low half of V26 those of rows 4-5.
	VADDP V17.S4, V16.S4, V22.S4
	VADDP V19.S4, V18.S4, V23.S4
	VADDP V23.S4, V22.S4, V24.S4
	VADDP V21.S4, V20.S4, V25.S4
	VADDP V25.S4, V25.S4, V26.S4
	VST1 [V24.S4], (R4)
	VMOV V26.D[0], R10
	MOVD R10, 16(R4)
	RET`)
	return a.String()
}
