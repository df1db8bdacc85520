package main

import "fmt"

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
