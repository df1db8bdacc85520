//go:build !amd64

package kernels

// nativeISA stays ISANative: only amd64 has named levels above generic.
const nativeISA = ISANative

// isaTable holds each level's kernels: generic and native (whatever this
// architecture's files chose at start-up) are the only supported ones.
var isaTable = func() [numISA]isaKernels {
	var t [numISA]isaKernels
	t[ISAGeneric] = genericKernels()
	t[ISANative] = isaKernels{
		supported: true,
		gemm:      activeKernels,
		gemm8:     activeKernels8,
		quad8:     useQuad8,
		quickGELU: QuickGELU,
		gelu:      GELU,
		add:       Add,
	}
	return t
}()
