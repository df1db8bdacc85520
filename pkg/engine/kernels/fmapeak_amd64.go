package kernels

// fmaPeakLoop runs iters × 24 VFMADD231PS on 12 independent ymm
// accumulators, touching no memory.
//
//go:noescape
func fmaPeakLoop(iters int)

// fmaPeakLoop512 is fmaPeakLoop on zmm registers (16 lanes); AVX-512F only.
//
//go:noescape
func fmaPeakLoop512(iters int)
