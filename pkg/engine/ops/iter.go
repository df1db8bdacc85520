// Package ops computes one bound graph.Step: every ONNX operator the
// engine supports (all element types the step can carry, numpy-style
// broadcasting through strides instead of copies) and the fused steps of
// graph.Plan.Fuse, with the heavy ones (GEMM, Linear, LayerNorm, Softmax,
// attention, int8 GEMM, exp-based activations) delegated to
// pkg/engine/kernels. The engine wraps Eval in Gorgonia ops; pkg/graph
// calls it to fold constants.
package ops

import (
	"github.com/clip-go/clip/pkg/graph"
	"github.com/clip-go/clip/pkg/onnx"
)

// contiguous returns row-major strides of sh.
func contiguous(sh []int) []int {
	st := make([]int, len(sh))
	s := 1
	for i := len(sh) - 1; i >= 0; i-- {
		st[i] = s
		s *= sh[i]
	}
	return st
}

// bstrides returns the strides to read a tensor of shape in as if it had
// the broadcast shape out: 0 along broadcast (size-1 or missing) dims.
func bstrides(in, out []int) []int {
	st := make([]int, len(out))
	cs := contiguous(in)
	off := len(out) - len(in)
	for i := range in {
		if in[i] != 1 || out[off+i] == 1 {
			st[off+i] = cs[i]
		}
	}
	return st
}

// runs walks shape sh in row-major order and calls fn once per innermost
// row: offs[k] is the row's starting offset in operand k (strides[k] are
// that operand's per-dimension strides, bases[k] its starting offset), n
// the row length, inner[k] operand k's stride along the row. Dimensions
// that are contiguous for every operand are merged first, so same-shape
// operands come as one long row.
func runs(sh []int, strides [][]int, bases []int, fn func(offs []int, n int, inner []int)) {
	k := len(strides)
	if graph.NumElements(sh) == 0 {
		return
	}
	// merge dims
	dims := []int{}
	sts := make([][]int, k)
	for d := 0; d < len(sh); d++ {
		if sh[d] == 1 {
			continue
		}
		if len(dims) > 0 {
			last := len(dims) - 1
			ok := true
			for j := 0; j < k; j++ {
				if sts[j][last] != strides[j][d]*sh[d] {
					ok = false
					break
				}
			}
			if ok {
				dims[last] *= sh[d]
				for j := 0; j < k; j++ {
					sts[j][last] = strides[j][d]
				}
				continue
			}
		}
		dims = append(dims, sh[d])
		for j := 0; j < k; j++ {
			sts[j] = append(sts[j], strides[j][d])
		}
	}
	offs := make([]int, k)
	if bases != nil {
		copy(offs, bases)
	}
	inner := make([]int, k)
	r := len(dims)
	if r == 0 {
		fn(offs, 1, inner)
		return
	}
	n := dims[r-1]
	for j := 0; j < k; j++ {
		inner[j] = sts[j][r-1]
	}
	idx := make([]int, r-1)
	for {
		fn(offs, n, inner)
		d := r - 2
		for ; d >= 0; d-- {
			idx[d]++
			for j := range offs {
				offs[j] += sts[j][d]
			}
			if idx[d] < dims[d] {
				break
			}
			for j := range offs {
				offs[j] -= sts[j][d] * dims[d]
			}
			idx[d] = 0
		}
		if d < 0 {
			return
		}
	}
}

// stridedCopy copies tensor src into dst (of shape sh), reading src with
// the given per-dimension strides from base: the core of Transpose, Slice
// and Expand.
func stridedCopy(dst, src *graph.Tensor, sh, srcStrides []int, base int) {
	switch dst.DType {
	case onnx.Float, onnx.Float16, onnx.BFloat16:
		scopy(dst.Float32, src.Float32, sh, srcStrides, base)
	case onnx.Double:
		scopy(dst.Float64, src.Float64, sh, srcStrides, base)
	case onnx.Int64:
		scopy(dst.Int64, src.Int64, sh, srcStrides, base)
	case onnx.Int32:
		scopy(dst.Int32, src.Int32, sh, srcStrides, base)
	case onnx.Bool:
		scopy(dst.Bool, src.Bool, sh, srcStrides, base)
	case onnx.Uint8:
		scopy(dst.Uint8, src.Uint8, sh, srcStrides, base)
	case onnx.Int8:
		scopy(dst.Int8, src.Int8, sh, srcStrides, base)
	case onnx.Uint32:
		scopy(dst.Uint32, src.Uint32, sh, srcStrides, base)
	case onnx.Uint64:
		scopy(dst.Uint64, src.Uint64, sh, srcStrides, base)
	}
}

func scopy[T any](dst, src []T, sh, srcStrides []int, base int) {
	runs(sh, [][]int{contiguous(sh), srcStrides}, []int{0, base}, func(o []int, n int, in []int) {
		d := dst[o[0] : o[0]+n]
		if in[1] == 1 {
			copy(d, src[o[1]:o[1]+n])
			return
		}
		s, st := o[1], in[1]
		for i := range d {
			d[i] = src[s]
			s += st
		}
	})
}

// alias makes dst share src's data (reshape-like ops).
func alias(dst, src *graph.Tensor) {
	dst.Float32, dst.Float64, dst.Int64, dst.Int32 = src.Float32, src.Float64, src.Int64, src.Int32
	dst.Bool, dst.Uint8, dst.Int8, dst.Uint32, dst.Uint64 = src.Bool, src.Uint8, src.Int8, src.Uint32, src.Uint64
}
