package kernels

import (
	"fmt"
	"unsafe"
)

// Activation selects the elementwise function of a Linear epilogue.
type Activation int

const (
	ActNone      Activation = iota
	ActQuickGELU            // x·sigmoid(1.702x), CLIP's MLP activation
	ActGELU                 // x/2·(1+erf(x/√2))
	ActReLU
	ActGELUTanh // x/2·(1+tanh(√(2/π)·(x+0.044715x³))), GELU(approximate="tanh")
)

func (a Activation) String() string {
	switch a {
	case ActNone:
		return "none"
	case ActQuickGELU:
		return "QuickGELU"
	case ActGELU:
		return "GELU"
	case ActReLU:
		return "ReLU"
	case ActGELUTanh:
		return "GELU(tanh)"
	}
	return fmt.Sprintf("Activation(%d)", int(a))
}

// Epilogue is what Linear applies to X·W before storing it:
// Y = Act(X·W + Bias) + Residual. Bias has n values (nil: none); Residual
// is an m×n matrix with row stride LdResidual (nil: none); it must not
// overlap Y, which is written before the last block of K is added.
type Epilogue struct {
	Bias       []float32
	Act        Activation
	Residual   []float32
	LdResidual int
}

// apply runs the epilogue on the rows×cols tile of c at (row, col) with
// the vector routines of level lv.
func (e *Epilogue) apply(lv *isaKernels, c []float32, ldc, row, rows, col, cols int) {
	for i := row; i < row+rows; i++ {
		seg := c[i*ldc+col : i*ldc+col+cols]
		if e.Bias != nil {
			lv.add(seg, e.Bias[col:col+cols])
		}
		switch e.Act {
		case ActQuickGELU:
			lv.quickGELU(seg, seg)
		case ActGELU:
			lv.gelu(seg, seg)
		case ActGELUTanh:
			GELUTanh(seg, seg)
		case ActReLU:
			for j, v := range seg {
				seg[j] = max(v, 0)
			}
		}
		if e.Residual != nil {
			lv.add(seg, e.Residual[i*e.LdResidual+col:i*e.LdResidual+col+cols])
		}
	}
}

// Linear computes Y = Act(X·W + Bias) + Residual for an m×k X (row stride
// ldx) and a packed k×n W, into the m×n Y (row stride ldy), applying the
// epilogue tile by tile while the product is in cache. For an ONNX
// MatMul(X, W) with W [k, n] pack with PackB(false, k, n, w, n); for a
// Gemm/Linear with W [n, k] (transB) use PackB(true, k, n, w, k).
func Linear(p *Pool, m int, x []float32, ldx int, w *PackedB, ep Epilogue, y []float32, ldy int) error {
	if w == nil {
		return fmt.Errorf("kernels: Linear: nil weights")
	}
	if err := checkGemm(false, false, m, w.n, w.k, x, ldx, nil, w.n, y, ldy); err != nil {
		return err
	}
	if ep.Bias != nil && len(ep.Bias) != w.n {
		return fmt.Errorf("kernels: Linear: bias has %d values, want %d", len(ep.Bias), w.n)
	}
	if ep.Residual != nil && m > 0 && (ep.LdResidual < w.n || len(ep.Residual) < (m-1)*ep.LdResidual+w.n) {
		return fmt.Errorf("kernels: Linear: residual (len %d, ld %d) too small for %d×%d", len(ep.Residual), ep.LdResidual, m, w.n)
	}
	if ep.Residual != nil && m > 0 && overlaps(ep.Residual, y) {
		return fmt.Errorf("kernels: Linear: residual overlaps the output")
	}
	if ep.Act < ActNone || ep.Act > ActGELUTanh {
		return fmt.Errorf("kernels: Linear: unknown activation %v", ep.Act)
	}
	sgemm(p, p.level().gemm, gemmOperands{m: m, n: w.n, k: w.k, alpha: 1, a: x, lda: ldx, pb: w, epi: ep, hasEpi: true, c: y, ldc: ldy})
	return nil
}

// overlaps reports whether two non-empty slices share memory.
func overlaps(a, b []float32) bool {
	if len(a) == 0 || len(b) == 0 {
		return false
	}
	a0, b0 := uintptr(unsafe.Pointer(&a[0])), uintptr(unsafe.Pointer(&b[0]))
	return a0 < b0+uintptr(len(b))*4 && b0 < a0+uintptr(len(a))*4
}
