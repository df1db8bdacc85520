//go:build !amd64 && !arm64

package kernels

var activeKernels8 = gemm8Kernels{one: kernel8Generic}

func simdKernels8() map[string]gemm8Kernels { return nil }

// useQuad8 is false: the uint8×int8 layout needs AVX-512 VNNI.
const useQuad8 = false

var kernelsQByRows [gemmMR + 1]func(k int, a *uint8, b *int8, c *int32, ldc int, accumulate bool, rs, dc, cc *int32)
