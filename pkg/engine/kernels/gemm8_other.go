//go:build !amd64

package kernels

var activeKernel8 microKernel8 = kernel8Generic

func simdKernels8() map[string]microKernel8 { return nil }
