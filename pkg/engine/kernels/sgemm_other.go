//go:build !amd64

package kernels

// activeKernel is the micro-kernel Sgemm uses on this CPU.
var activeKernel microKernel = kernelGeneric

// hasAVX2FMA reports whether the assembly kernels can run.
const hasAVX2FMA = false
