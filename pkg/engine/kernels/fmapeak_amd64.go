package kernels

// fmaPeakLoop runs iters × 24 VFMADD231PS on 12 independent ymm
// accumulators, touching no memory.
//
//go:noescape
func fmaPeakLoop(iters int)
