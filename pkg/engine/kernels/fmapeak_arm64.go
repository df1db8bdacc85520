package kernels

// fmaPeakLoop runs iters × 48 FMLA on 24 independent 4-lane accumulators
// (fmaPeakFlopsPerIter flops, as on amd64), touching no memory.
//
//go:noescape
func fmaPeakLoop(iters int)

// fmaPeakLoop512 does not exist on arm64 (hasAVX512 is false).
func fmaPeakLoop512(iters int) { panic("kernels: no AVX-512 on this architecture") }
