package kernels

import "golang.org/x/sys/cpu"

// hasF16C: VCVTPS2PH and VCVTPH2PS (every AVX2 CPU in practice, checked
// all the same).
var hasF16C = cpu.X86.HasAVX && cpu.X86.HasF16C

// roundFloat16F16C is RoundFloat16 on n values (a multiple of 8).
//
//go:noescape
func roundFloat16F16C(x *float32, n int)
