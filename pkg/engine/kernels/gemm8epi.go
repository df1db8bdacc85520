package kernels

import (
	"fmt"
	"sync"
)

// The float epilogue of an int8 Linear (graph's OpQLinear): the int32
// sums of GemmU8 become Y = Act(float(C)·colScale + Bias) + Residual. Run
// as a pass after the GEMM it reads the whole m×n int32 product back from
// L3 and costs a parallel split of its own (a quarter of an int8 text
// tower's time); GemmU8Linear instead finishes each tile while its sums
// are in L1, just after the micro-kernel computed them, and needs no m×n
// int32 buffer at all when K fits one K block.

// gemm8Epi is one GemmU8Linear call's epilogue.
type gemm8Epi struct {
	lv    *isaKernels // the Pool's level, for the activation
	y     []float32
	ldy   int
	scale []float32 // n per-column scales
	ep    Epilogue  // Bias, Act, Residual as Linear's
}

// GemmU8Linear computes Y = Act(float(C)·colScale + Bias) + Residual with
// C = Σₖ (A−aZero)·(B−b₀) (GemmU8) for an m×k uint8 A (row stride lda)
// and a packed B, into the m×n Y (row stride ldy): the dynamically
// quantized MatMul's Cast → Mul → Add tail and the Linear epilogue (see
// Epilogue), in the float32 rounding order of those unfused steps
// (product, then bias, then the activation, then the residual), applied
// to each tile of C while it is in L1.
func GemmU8Linear(p *Pool, m int, a []uint8, lda int, aZero uint8, pb *PackedB8, colScale []float32, ep Epilogue, y []float32, ldy int) error {
	if pb == nil {
		return fmt.Errorf("kernels: GemmU8Linear: nil weights")
	}
	n, k := pb.n, pb.k
	if m < 0 || lda < k || ldy < n {
		return fmt.Errorf("kernels: GemmU8Linear: bad m=%d lda=%d (k=%d) ldy=%d (n=%d)", m, lda, k, ldy, n)
	}
	if m == 0 {
		return nil
	}
	if len(a) < (m-1)*lda+k || len(y) < (m-1)*ldy+n {
		return fmt.Errorf("kernels: GemmU8Linear: A has %d, Y %d values: too few for %d×%d×%d", len(a), len(y), m, n, k)
	}
	if len(colScale) != n || ep.Bias != nil && len(ep.Bias) != n {
		return fmt.Errorf("kernels: GemmU8Linear: %d scales and %d biases, want %d", len(colScale), len(ep.Bias), n)
	}
	if ep.Residual != nil && (ep.LdResidual < n || len(ep.Residual) < (m-1)*ep.LdResidual+n) {
		return fmt.Errorf("kernels: GemmU8Linear: residual (len %d, ld %d) too small for %d×%d", len(ep.Residual), ep.LdResidual, m, n)
	}
	if ep.Residual != nil && overlaps(ep.Residual, y) {
		return fmt.Errorf("kernels: GemmU8Linear: residual overlaps the output")
	}
	if ep.Act < ActNone || ep.Act > ActGELUTanh {
		return fmt.Errorf("kernels: GemmU8Linear: unknown activation %v", ep.Act)
	}
	lv := p.level()
	epi := &gemm8Epi{lv: lv, y: y, ldy: ldy, scale: colScale, ep: ep}
	var c []int32
	if k > gemm8KC {
		// The first K blocks' partial sums wait in an int32 C.
		buf := int32Scratch.Get().(*[]int32)
		defer int32Scratch.Put(buf)
		if cap(*buf) < m*n {
			*buf = make([]int32, m*n)
		}
		c = (*buf)[:m*n]
	}
	return gemmU8(p, lv.gemm8, lv.quad8, lv.pairQuad, m, a, lda, aZero, pb, c, n, epi)
}

// int32Scratch recycles GemmU8Linear's partial sums between calls.
var int32Scratch = sync.Pool{New: func() any { return new([]int32) }}

// gemm8EpiTile is the largest tile the int8 drivers finish at once:
// MR rows of the two-panel kernels' 32 columns.
const gemm8EpiTile = gemmMR * gemmQW

// tile finishes rows×cols of Y at (row, col) from their int32 sums src
// (row stride lds); f stages the activation's input.
func (e *gemm8Epi) tile(src []int32, lds, row, rows, col, cols int, f *[gemm8EpiTile]float32) {
	scale := e.scale[col : col+cols]
	var bias []float32
	if e.ep.Bias != nil {
		bias = e.ep.Bias[col : col+cols]
	}
	ldr := e.ep.LdResidual
	var res []float32
	if e.ep.Residual != nil {
		res = e.ep.Residual[row*ldr+col:]
	}
	if e.ep.Act == ActNone {
		dequantTile(e.y[row*e.ldy+col:], e.ldy, src, lds, rows, cols, scale, bias, res, ldr)
		return
	}
	// The activation runs on the tile as one contiguous vector (its
	// constants loaded once, not per 32-value row); when cols is not a
	// multiple of 8 row by row instead, so that each value takes the
	// vector or the scalar route exactly as in a whole-row pass.
	t := f[:rows*cols]
	dequantTile(t, cols, src, lds, rows, cols, scale, bias, nil, 0)
	act := Epilogue{Act: e.ep.Act}
	if cols%8 == 0 {
		act.apply(e.lv, t, rows*cols, 0, 1, 0, rows*cols)
	} else {
		act.apply(e.lv, t, cols, 0, rows, 0, cols)
	}
	for r := range rows {
		dst := e.y[(row+r)*e.ldy+col : (row+r)*e.ldy+col+cols]
		copy(dst, t[r*cols:(r+1)*cols])
		if res != nil {
			e.lv.add(dst, res[r*ldr:r*ldr+cols])
		}
	}
}

// dequantTile sets dst[r·ldd+j] = float(src[r·lds+j])·scale[j] + bias[j]
// (+ res[r·ldr+j]) for r < rows, j < cols, rounding after each operation
// as DequantizeRow and a following Add do; bias and res may be nil.
func dequantTile(dst []float32, ldd int, src []int32, lds, rows, cols int, scale, bias, res []float32, ldr int) {
	_ = dst[(rows-1)*ldd+cols-1]
	_ = src[(rows-1)*lds+cols-1]
	_ = scale[cols-1]
	if bias != nil {
		_ = bias[cols-1]
	}
	if res != nil {
		_ = res[(rows-1)*ldr+cols-1]
	}
	n := 0
	if hasAVX2FMA {
		n = cols &^ 7
		if n > 0 {
			var b, r *float32
			if bias != nil {
				b = &bias[0]
			}
			if res != nil {
				r = &res[0]
			}
			dequantTileAVX2(&dst[0], ldd, &src[0], lds, rows, n, &scale[0], b, r, ldr)
		}
	}
	if n < cols {
		dequantTileGo(dst[n:], ldd, src[n:], lds, rows, cols-n, scale[n:], sliceFrom(bias, n), sliceFrom(res, n), ldr)
	}
}

func sliceFrom(s []float32, i int) []float32 {
	if s == nil {
		return nil
	}
	return s[i:]
}

// dequantTileGo is the Go twin of dequantTileAVX2, for any cols.
func dequantTileGo(dst []float32, ldd int, src []int32, lds, rows, cols int, scale, bias, res []float32, ldr int) {
	for r := range rows {
		d, s := dst[r*ldd:r*ldd+cols], src[r*lds:r*lds+cols]
		for j, v := range s {
			x := float32(float32(v) * scale[j]) // no fused multiply-add
			if bias != nil {
				x += bias[j]
			}
			if res != nil {
				x += res[r*ldr+j]
			}
			d[j] = x
		}
	}
}
