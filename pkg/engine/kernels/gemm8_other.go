//go:build !amd64

package kernels

var activeKernels8 = gemm8Kernels{one: kernel8Generic}

func simdKernels8() map[string]gemm8Kernels { return nil }
