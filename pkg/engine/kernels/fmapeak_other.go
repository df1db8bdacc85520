//go:build !amd64 && !arm64

package kernels

func fmaPeakLoop(iters int) {}

func fmaPeakLoop512(iters int) {}
