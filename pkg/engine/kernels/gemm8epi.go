package kernels

import (
	"fmt"
	"sync"
)

// The float epilogue of an int8 Linear (graph's OpQLinear): the int32
// sums of GemmU8 become Y = Act(float(C)·colScale + Bias) + Residual. Run
// as a pass after the GEMM it reads the whole m×n int32 product back from
// L3 and costs a parallel split of its own; GemmU8Linear instead
// finishes each column strip of an MC-row block (≤ 300×32) while its sums
// are in L2, just after the micro-kernel computed them, and needs no m×n
// int32 buffer at all when K fits one K block. On AVX2 with pair-safe
// weights the micro-kernel itself finishes full tiles as floats
// (kernelQPair6x16FAVX2, see gemmQRun.floatStrip): into Y without an
// activation, into the strip's floats with one.

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
// to each column strip of C while it is in L2.
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
	return gemmU8(p, lv.gemm8, lv.quad8, lv.pairQuad, lv.pairQuadF, m, a, lda, aZero, pb, nil, n, epi)
}

// partialSums returns a recycled m×n int32 C for the first K blocks'
// partial sums of a GemmU8Linear call whose K spans several blocks (put
// it back into int32Scratch).
func partialSums(m, n int) *[]int32 {
	buf := int32Scratch.Get().(*[]int32)
	if cap(*buf) < m*n {
		*buf = make([]int32, m*n)
	}
	*buf = (*buf)[:m*n]
	return buf
}

var int32Scratch = sync.Pool{New: func() any { return new([]int32) }}

// gemm8Strip is one thread's buffers for the epilogue of one column strip
// (≤ 32 columns) of an MC-row block: the int32 sums (row r at r·QW) and
// the activation's float input.
type gemm8Strip struct {
	sums [gemmMC * gemmQW]int32
	f    [gemmMC * gemmQW]float32
}

// stripSums says where the sums of the column strip at (r0, col) go: C
// from column col (row r at r·ldc), or, with one K block and an epilogue
// (inStrip), the thread's strip buffer (row r at (r−r0)·QW, room for whole
// tiles), which keeps them in L2.
func stripSums(inStrip bool, st *gemm8Strip, c []int32, ldc, r0, col int) (cs []int32, ld, base int) {
	if inStrip {
		return st.sums[:], gemmQW, r0
	}
	return c[col:], ldc, 0
}

// growStrips returns s with a strip buffer for each of threads threads.
func growStrips(s []*gemm8Strip, threads int) []*gemm8Strip {
	for len(s) < threads {
		s = append(s, new(gemm8Strip))
	}
	return s
}

// strip finishes rows×cols of Y at (row, col) from their int32 sums src
// (row stride lds), a column strip of up to MC rows: one call per strip,
// so the activation runs on long vectors (its constants loaded once per
// strip, not per 6×32 tile: per tile the calls cost as much as the
// separate pass saved) while the strip is still in L2.
func (e *gemm8Epi) strip(src []int32, lds, row, rows, col, cols int, f *[gemmMC * gemmQW]float32) {
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
	// The activation runs on chunks of the strip as contiguous vectors
	// (16 KiB, half of L1).
	const chunk = 4096 / gemmQW
	for r0 := 0; r0 < rows; r0 += chunk {
		n := min(chunk, rows-r0)
		t := f[:n*cols]
		dequantTile(t, cols, src[r0*lds:], lds, n, cols, scale, bias, nil, 0)
		e.finish(t, row+r0, n, col, cols)
	}
}

// finish applies the activation to the rows×cols floats t (row stride
// cols) of Y at (row, col) and stores them there, adding the residual.
// When cols is not a multiple of 8 the activation runs row by row, so
// that each value takes the vector or the scalar route exactly as in a
// whole-row pass.
func (e *gemm8Epi) finish(t []float32, row, rows, col, cols int) {
	act := Epilogue{Act: e.ep.Act}
	if cols%8 == 0 {
		act.apply(e.lv, t, rows*cols, 0, 1, 0, rows*cols)
	} else {
		act.apply(e.lv, t, cols, 0, rows, 0, cols)
	}
	var res []float32
	if e.ep.Residual != nil {
		res = e.ep.Residual[row*e.ep.LdResidual+col:]
	}
	storeTile(e.y[row*e.ldy+col:], e.ldy, t, cols, rows, cols, res, e.ep.LdResidual)
}

// dequantTile sets dst[r·ldd+j] = float(src[r·lds+j])·scale[j] + bias[j]
// (+ res[r·ldr+j]) for r < rows, j < cols, rounding after each operation
// as the unfused Cast → Mul → Add (and a residual Add) do, no fused
// multiply-add; bias and res may be nil.
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
			dequantTileAVX2(&dst[0], ldd, &src[0], lds, rows, n, &scale[0], ptrOrNil(bias), ptrOrNil(res), ldr)
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

// storeTile sets dst[r·ldd+j] = src[r·lds+j] (+ res[r·ldr+j]) for r <
// rows, j < cols: the activated strip into Y, one call per chunk rather
// than a copy per 32-value row (a memmove call per row cost ~8% of the
// GEMM); res may be nil.
func storeTile(dst []float32, ldd int, src []float32, lds, rows, cols int, res []float32, ldr int) {
	_ = dst[(rows-1)*ldd+cols-1]
	_ = src[(rows-1)*lds+cols-1]
	if res != nil {
		_ = res[(rows-1)*ldr+cols-1]
	}
	n := 0
	if hasAVX2FMA {
		n = cols &^ 7
		if n > 0 {
			storeTileAVX2(&dst[0], ldd, &src[0], lds, rows, n, ptrOrNil(res), ldr)
		}
	}
	if n < cols {
		storeTileGo(dst[n:], ldd, src[n:], lds, rows, cols-n, sliceFrom(res, n), ldr)
	}
}

// storeTileGo is the Go twin of storeTileAVX2, for any cols.
func storeTileGo(dst []float32, ldd int, src []float32, lds, rows, cols int, res []float32, ldr int) {
	for r := range rows {
		d, s := dst[r*ldd:r*ldd+cols], src[r*lds:r*lds+cols]
		if res == nil {
			copy(d, s)
			continue
		}
		for j, v := range s {
			d[j] = v + res[r*ldr+j]
		}
	}
}

func ptrOrNil(s []float32) *float32 {
	if s == nil {
		return nil
	}
	return &s[0]
}
