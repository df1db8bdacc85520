package index

import "golang.org/x/sys/cpu"

// hasF16C says the AVX2 float16 dot product can run here.
var hasF16C = cpu.X86.HasAVX2 && cpu.X86.HasFMA && cpu.X86.HasF16C

//go:noescape
func dotHalfAVX2(q *float32, h *uint16, n int) float32
