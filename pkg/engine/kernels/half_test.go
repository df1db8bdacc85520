package kernels

import (
	"math"
	"testing"

	"github.com/clip-go/clip/pkg/onnx"
)

// TestRoundFloat16 checks RoundFloat16, vector and Go twin, bit for bit
// against the onnx package's float16 conversion there and back (the
// engine's reference, checked against numpy's astype(float16) in its own
// tests): every 4099th float32 bit pattern (both signs, NaNs, Infs,
// subnormals) plus the edges of each range, on one thread and split over
// a Pool, at every slice length around the vector width.
func TestRoundFloat16(t *testing.T) {
	var xs []float32
	for b := uint64(0); b <= math.MaxUint32; b += 4099 {
		xs = append(xs, math.Float32frombits(uint32(b)))
	}
	for _, b := range []uint32{
		0x00000000, 0x00000001, 0x007fffff, 0x00800000, // zero, float32 subnormals
		0x33000000, 0x33000001, 0x337fffff, 0x33800000, 0x33c00000, // around 2⁻²⁵, 2⁻²⁴
		0x387fefff, 0x387ff000, 0x387fffff, 0x38800000, 0x38800fff, 0x38801000, 0x38803000, // around 2⁻¹⁴
		0x3f800fff, 0x3f801000, 0x3f801001, 0x3f803000, 0x3fffffff, // ties to even, carry into the exponent
		0x477fe000, 0x477fefff, 0x477ff000, 0x477fffff, 0x7f7fffff, // around 65504 and 65520
		0x7f800000, 0x7f800001, 0x7fc00000, 0x7fbfffff, 0x7fffe000, 0x7fffffff, // Inf, NaNs
	} {
		xs = append(xs, math.Float32frombits(b), math.Float32frombits(b|0x80000000))
	}
	// Worked by hand, independently of the onnx package: 1+2⁻¹¹ lies
	// halfway between the halves 1 and 1+2⁻¹⁰ (ties to even give 1); 1/3
	// is nearest to 0x3555 = 0.333251953125; 70000 overflows.
	hand := []float32{1 + 1.0/2048, 1.0 / 3, 70000}
	RoundFloat16(nil, hand)
	if hand[0] != 1 || hand[1] != 0.333251953125 || !math.IsInf(float64(hand[2]), 1) {
		t.Fatalf("1+2⁻¹¹, 1/3, 70000 → %v", hand)
	}
	want := make([]float32, len(xs))
	for i, x := range xs {
		want[i] = onnx.Float16ToFloat32(onnx.Float32ToFloat16(x))
	}
	check := func(what string, got []float32, off int) {
		t.Helper()
		for i, g := range got {
			if w := want[off+i]; math.Float32bits(g) != math.Float32bits(w) {
				t.Fatalf("%s: %#08x → %#08x, want %#08x", what, math.Float32bits(xs[off+i]), math.Float32bits(g), math.Float32bits(w))
			}
		}
	}
	for i, x := range xs {
		if g := roundFloat16Go(x); math.Float32bits(g) != math.Float32bits(want[i]) {
			t.Fatalf("Go twin: %#08x → %#08x, want %#08x", math.Float32bits(x), math.Float32bits(g), math.Float32bits(want[i]))
		}
	}
	pool := NewPool(2)
	defer pool.Close()
	for _, p := range []*Pool{nil, pool} {
		got := append([]float32(nil), xs...)
		RoundFloat16(p, got)
		check("RoundFloat16", got, 0)
	}
	for n := range 40 {
		got := append([]float32(nil), xs[1000:1000+n]...)
		RoundFloat16(nil, got)
		check("short", got, 1000)
	}
}

func BenchmarkRoundFloat16(b *testing.B) {
	pool := NewPool(2)
	defer pool.Close()
	x := make([]float32, 400*3072)
	for i := range x {
		x[i] = float32(i%1000) * 0.37
	}
	b.SetBytes(int64(4 * len(x)))
	for _, c := range []struct {
		name string
		p    *Pool
	}{{"threads=1", nil}, {"threads=2", pool}} {
		b.Run(c.name, func(b *testing.B) {
			for b.Loop() {
				RoundFloat16(c.p, x)
			}
		})
	}
	b.Run("scalar-reference", func(b *testing.B) {
		for b.Loop() {
			for i, v := range x {
				x[i] = onnx.Float16ToFloat32(onnx.Float32ToFloat16(v))
			}
		}
	})
}
