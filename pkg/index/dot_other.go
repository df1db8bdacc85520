//go:build !amd64

package index

const (
	hasF16C = false
	hasAVX2 = false
)

func dotHalfAVX2(q *float32, h *uint16, n int) float32 { panic("index: no AVX2 on this architecture") }

func dotsInt8AVX2(q *int16, codes *int8, dim, count int, out *int32) {
	panic("index: no AVX2 on this architecture")
}
