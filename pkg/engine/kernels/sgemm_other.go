//go:build !amd64 && !arm64

package kernels

// activeKernels are the micro-kernels Sgemm uses on this CPU.
var activeKernels = gemmKernels{one: kernelGeneric}

func simdGemmKernels() map[string]gemmKernels { return nil }

// hasAVX2FMA reports whether the assembly kernels can run.
const hasAVX2FMA = false

// hasAVX512 reports whether the AVX-512 kernels can run.
const hasAVX512 = false
