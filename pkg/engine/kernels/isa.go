package kernels

import (
	"fmt"
	"strings"
)

// ISA is an instruction-set level a Pool's kernels may use at most. The
// zero value, ISANative, is everything this CPU offers (what Sgemm, GemmU8
// etc. use with a nil Pool). A lower level makes a machine run the code an
// older CPU would: on an AVX-512 machine, ISAAVX2 times the path of the
// AVX2-only CI machine.
type ISA uint8

const (
	// ISANative uses the best kernels for this CPU (resolved by
	// Pool.ISA to the concrete level on amd64).
	ISANative ISA = iota
	// ISAGeneric is the portable Go code: no SIMD assembly in the GEMM
	// micro-kernels (float32 and int8) or the Linear epilogue.
	ISAGeneric
	// ISAAVX2 is AVX2+FMA: the 6×16 ymm Sgemm kernel, the int16 VPMADDWD
	// int8 kernel, ymm QuickGELU and GELU. No AVX-VNNI, no AVX-512.
	ISAAVX2
	// ISAAVX2VNNI is ISAAVX2 with AVX-VNNI (VEX VPDPWSSD) in the int8
	// kernel, as on Alder Lake or Zen 5 without AVX-512.
	ISAAVX2VNNI
	// ISAAVX512 is AVX-512F: the zmm Sgemm kernels (6×32..6×64), zmm
	// QuickGELU and GELU, and AVX-512 VNNI's VPDPBUSD int8 kernel where present.
	ISAAVX512

	numISA
)

var isaNames = [numISA]string{
	ISANative:   "native",
	ISAGeneric:  "generic",
	ISAAVX2:     "avx2",
	ISAAVX2VNNI: "avx2vnni",
	ISAAVX512:   "avx512",
}

func (i ISA) String() string {
	if i < numISA {
		return isaNames[i]
	}
	return fmt.Sprintf("ISA(%d)", int(i))
}

// ParseISA reads a level by name: "native" (or ""), "generic", "avx2",
// "avx2vnni", "avx512". It does not check that this CPU has it (see
// ISA.Supported).
func ParseISA(s string) (ISA, error) {
	s = strings.ToLower(strings.TrimSpace(s))
	if s == "" {
		return ISANative, nil
	}
	for i, name := range isaNames {
		if s == name {
			return ISA(i), nil
		}
	}
	return 0, fmt.Errorf("kernels: unknown instruction-set level %q (want one of %s)", s, strings.Join(isaNames[:], ", "))
}

// Supported reports whether this CPU (and OS) can run level i.
func (i ISA) Supported() bool {
	return i < numISA && isaTable[i].supported
}

// Resolve returns the concrete level i stands for on this CPU: ISANative
// becomes the best level the CPU supports (on amd64; elsewhere it stays
// ISANative), any other level itself.
func (i ISA) Resolve() ISA {
	if i == ISANative {
		return nativeISA
	}
	return i
}

// SupportedISAs lists the levels this CPU supports, lowest first, without
// ISANative.
func SupportedISAs() []ISA {
	var out []ISA
	for i := ISAGeneric; i < numISA; i++ {
		if i.Supported() {
			out = append(out, i)
		}
	}
	return out
}

// isaKernels is everything that differs between levels: the kernel sets
// the GEMMs dispatch on and the vector routines of the Linear epilogue.
// One immutable value per level is built at start-up (isaTable); a Pool
// points at its level's, so choosing costs one load per call, nothing in
// the micro-kernel loops.
type isaKernels struct {
	supported bool
	gemm      gemmKernels
	gemm8     gemm8Kernels
	// quad8 reports that the int8 GEMM may run VPDPBUSD on the quad
	// layout of PackedB8 (AVX-512 VNNI); without it a quad-packed B is
	// converted once to the int16 layout (see PackedB8.int16Layout).
	quad8 bool
	// pairQuad is the quad kernel for a pair-safe B on CPUs without
	// VNNI (VPMADDUBSW, see kernelQPair6x16AVX2); nil where unused.
	pairQuad quadKernel
	// pairQuadF is pairQuad finishing an int8 Linear's tile as floats
	// (scale, bias, residual) in its registers; nil where unused.
	pairQuadF quadKernelF
	// quickGELU, gelu and add are QuickGELU, GELU and Add at this level.
	quickGELU func(dst, src []float32)
	gelu      func(dst, src []float32)
	add       func(dst, src []float32)
}

// PoolOption configures NewPoolWith.
type PoolOption func(*poolConfig) error

type poolConfig struct {
	isa ISA
}

// WithISA limits every kernel run by the Pool to level isa (and its
// parallel splits to the same). NewPoolWith fails when the CPU lacks it.
func WithISA(isa ISA) PoolOption {
	return func(c *poolConfig) error {
		if isa >= numISA {
			return fmt.Errorf("kernels: NewPool: unknown instruction-set level %v", isa)
		}
		if !isa.Supported() {
			return fmt.Errorf("kernels: NewPool: this CPU does not support instruction-set level %q (supported: %v)", isa, SupportedISAs())
		}
		c.isa = isa
		return nil
	}
}

// ISA reports the concrete level p's kernels use (see ISA.Resolve); a nil
// Pool uses the native one.
func (p *Pool) ISA() ISA {
	if p == nil {
		return nativeISA
	}
	return p.isa
}

// level returns the kernels of p's level (native for a nil Pool).
func (p *Pool) level() *isaKernels {
	if p == nil {
		return &isaTable[ISANative]
	}
	return p.kern
}

// Serial returns a single-threaded Pool with p's level, for kernels that
// run many small products inside one parallel share (attention heads,
// small batched MatMuls): pass it where nil would otherwise be passed so
// the level is kept. It is nil when p is nil, and needs no Close.
func (p *Pool) Serial() *Pool {
	if p == nil {
		return nil
	}
	return p.serial
}

// quickGELUGo and addGo are QuickGELU and Add in plain Go (ISAGeneric).
func quickGELUGo(dst, src []float32) {
	dst = dst[:len(src)]
	for i, x := range src {
		dst[i] = quickGELUScalar(x)
	}
}

func addGo(dst, src []float32) {
	dst = dst[:len(src)]
	for i, v := range src {
		dst[i] += v
	}
}

// genericKernels is ISAGeneric's table entry, the same on every
// architecture.
func genericKernels() isaKernels {
	return isaKernels{
		supported: true,
		gemm:      gemmKernels{one: kernelGeneric},
		gemm8:     gemm8Kernels{one: kernel8Generic},
		quickGELU: quickGELUGo,
		gelu:      geluGo,
		add:       addGo,
	}
}
