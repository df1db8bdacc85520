//go:build !amd64

package kernels

func fmaPeakLoop(iters int) {}
