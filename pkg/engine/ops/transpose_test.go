package ops

import (
	"testing"

	"github.com/clip-go/clip/pkg/graph"
	"github.com/clip-go/clip/pkg/onnx"
)

// TestTransposeKeepingLastAxis checks Transpose's row-copy path (perms
// that keep the last axis last, as nn.MultiheadAttention's sequence-first
// permutes) against the definition out[i₀…] = x[i at perm positions], on
// every such perm of ranks 2 to 4, with shapes that include size-1 axes.
func TestTransposeKeepingLastAxis(t *testing.T) {
	for _, shape := range [][]int{{3, 5}, {4, 3, 5}, {1, 3, 2}, {2, 3, 1, 4}, {3, 1, 2, 5}} {
		r := len(shape)
		for _, perm := range perms(r - 1) {
			perm = append(perm, r-1)
			x := graph.NewTensor(onnx.Float, shape)
			for i := range x.Float32 {
				x.Float32[i] = float32(i) + 0.5
			}
			oshape := make([]int, r)
			for i, p := range perm {
				oshape[i] = shape[p]
			}
			o := graph.NewTensor(onnx.Float, oshape)
			if err := transpose(&graph.Params{Perm: perm}, x, o); err != nil {
				t.Fatal(err)
			}
			xst := contiguous(shape)
			idx := make([]int, r)
			for i := range o.Float32 {
				rem, src := i, 0
				for d := r - 1; d >= 0; d-- {
					idx[d] = rem % oshape[d]
					rem /= oshape[d]
				}
				for d, p := range perm {
					src += idx[d] * xst[p]
				}
				if o.Float32[i] != x.Float32[src] {
					t.Fatalf("shape %v perm %v: out[%d] = %g, want x[%d] = %g", shape, perm, i, o.Float32[i], src, x.Float32[src])
				}
			}
			if n := testing.AllocsPerRun(5, func() { _ = transpose(&graph.Params{Perm: perm}, x, o) }); n != 0 {
				t.Errorf("shape %v perm %v: %g allocations per Transpose, want 0", shape, perm, n)
			}
		}
	}
}

// perms returns every permutation of 0..n-1.
func perms(n int) [][]int {
	if n == 0 {
		return [][]int{{}}
	}
	var out [][]int
	for _, p := range perms(n - 1) {
		for i := 0; i <= len(p); i++ {
			q := append(append(append([]int{}, p[:i]...), n-1), p[i:]...)
			out = append(out, q)
		}
	}
	return out
}
