package onnx

import (
	"math"
	"testing"
)

// TestFloat16sToFloat32 widens all 65536 halves at every offset modulo
// the vector width and compares with Float16ToFloat32 bit for bit (NaN
// for NaN: F16C quiets signalling ones).
func TestFloat16sToFloat32(t *testing.T) {
	src := make([]uint16, 1<<16+13)
	for i := range src {
		src[i] = uint16(i)
	}
	for _, off := range []int{0, 1, 5, 8, 13} {
		s := src[off:]
		dst := make([]float32, len(s))
		Float16sToFloat32(dst, s)
		for i, h := range s {
			got, want := dst[i], Float16ToFloat32(h)
			if want != want {
				if got == got {
					t.Fatalf("half %#04x: %g, want NaN", h, got)
				}
				continue
			}
			if math.Float32bits(got) != math.Float32bits(want) {
				t.Fatalf("half %#04x: %#08x, want %#08x", h, math.Float32bits(got), math.Float32bits(want))
			}
		}
	}
}

func BenchmarkFloat16sToFloat32(b *testing.B) {
	src := make([]uint16, 768*3072)
	for i := range src {
		src[i] = uint16(i * 7)
	}
	dst := make([]float32, len(src))
	b.SetBytes(int64(2 * len(src)))
	b.Run("vector", func(b *testing.B) {
		for b.Loop() {
			Float16sToFloat32(dst, src)
		}
	})
	b.Run("scalar", func(b *testing.B) {
		for b.Loop() {
			for i, h := range src {
				dst[i] = Float16ToFloat32(h)
			}
		}
	})
}
