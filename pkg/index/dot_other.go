//go:build !amd64

package index

const hasF16C = false

func dotHalfAVX2(q *float32, h *uint16, n int) float32 { panic("index: no AVX2 on this architecture") }
