//go:build !amd64

package kernels

const hasF16C = false

func roundFloat16F16C(x *float32, n int) { panic("kernels: no F16C") }
