package engine

import (
	"math"
	"testing"

	"github.com/clip-go/clip/pkg/onnx"
)

// TestComparisonsFailOnNaN feeds the comparison helpers of the
// conformance, differential and fusion tests an output holding NaN where
// the reference holds a number: each must report a mismatch (a `d > tol`
// test is false for NaN and would let a kernel returning NaN pass).
func TestComparisonsFailOnNaN(t *testing.T) {
	nan := float32(math.NaN())
	f32 := func(xs ...float32) *Tensor { return &Tensor{DType: onnx.Float, Shape: []int{len(xs)}, Float32: xs} }
	want := f32(1, 2, 3, 4)
	for _, got := range []*Tensor{f32(1, nan, 3, 4), f32(nan, 2, 3, 4), f32(1, 2, 3, nan), f32(nan, nan, nan, nan)} {
		if err := compare(got, want); err == nil {
			t.Errorf("conformance compare(%v, %v) passed", got.Float32, want.Float32)
		}
		for _, norm := range []bool{false, true} {
			d, err := maxAbsDiff(got, want, norm)
			if err != nil {
				t.Fatal(err)
			}
			if within(d, 1e-3) {
				t.Errorf("maxAbsDiff(%v, %v, normalised=%v) = %g passes a 1e-3 limit", got.Float32, want.Float32, norm, d)
			}
		}
	}
	// The helpers still accept what they should: equal values, and NaN
	// where the reference has NaN (conformance data holds some).
	if err := compare(f32(1, nan, 3), f32(1, nan, 3)); err != nil {
		t.Errorf("NaN against NaN: %v", err)
	}
	if d, err := maxAbsDiff(f32(1, 2, 3, 4), want, true); err != nil || !within(d, 1e-6) {
		t.Errorf("equal tensors: diff %g, %v", d, err)
	}
}
