package index

import "golang.org/x/sys/cpu"

// hasF16C says the AVX2 float16 dot product can run here.
var hasF16C = cpu.X86.HasAVX2 && cpu.X86.HasFMA && cpu.X86.HasF16C

// hasAVX2 says the AVX2 int8 dot products can run here.
var hasAVX2 = cpu.X86.HasAVX2

//go:noescape
func dotHalfAVX2(q *float32, h *uint16, n int) float32

//go:noescape
func dotsInt8AVX2(q *int16, codes *int8, dim, count int, out *int32)
