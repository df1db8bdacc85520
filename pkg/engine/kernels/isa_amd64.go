package kernels

// nativeISA is the best level this CPU supports.
var nativeISA = func() ISA {
	switch {
	case hasAVX512:
		return ISAAVX512
	case hasAVXVNNI:
		return ISAAVX2VNNI
	case hasAVX2FMA:
		return ISAAVX2
	}
	return ISAGeneric
}()

// isaTable holds each level's kernels (supported false where the CPU
// lacks the level); ISANative is a copy of the best level's entry, so the
// default path runs exactly the kernels chosen at start-up.
var isaTable = func() [numISA]isaKernels {
	var t [numISA]isaKernels
	t[ISAGeneric] = genericKernels()
	if hasAVX2FMA {
		t[ISAAVX2] = isaKernels{
			supported: true,
			gemm:      gemmKernels{one: kernelAVX2},
			gemm8:     gemm8Kernels{one: kernel8AVX2},
			pairQuad:  kernelQPairAVX2,
			pairQuadF: kernelQPairFAVX2,
			quickGELU: quickGELUYMM,
			gelu:      geluYMM,
			add:       Add,
		}
	}
	if hasAVXVNNI {
		t[ISAAVX2VNNI] = t[ISAAVX2]
		t[ISAAVX2VNNI].gemm8 = gemm8Kernels{one: kernel8VNNI}
		t[ISAAVX2VNNI].pairQuad = nil // VPDPWSSD on int16 pairs instead
		t[ISAAVX2VNNI].pairQuadF = nil
	}
	if hasAVX512 {
		// Everything the CPU has: activeKernels and activeKernels8 are
		// the AVX-512 sets here (with AVX-VNNI and AVX-512 VNNI when
		// present).
		t[ISAAVX512] = isaKernels{
			supported: true,
			gemm:      activeKernels,
			gemm8:     activeKernels8,
			quad8:     useQuad8,
			quickGELU: QuickGELU,
			gelu:      GELU,
			add:       Add,
		}
	}
	t[ISANative] = t[nativeISA]
	return t
}()
