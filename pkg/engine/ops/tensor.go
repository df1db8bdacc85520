package ops

import (
	"fmt"
	"math"

	"github.com/clip-go/clip/pkg/engine/kernels"

	"github.com/clip-go/clip/pkg/graph"
	"github.com/clip-go/clip/pkg/onnx"
)

func gather(p *graph.Params, x, idx, o *graph.Tensor) error {
	ids, err := idx.Ints()
	if err != nil {
		return fmt.Errorf("Gather indices: %w", err)
	}
	outer := graph.NumElements(x.Shape[:p.Axis])
	dim := x.Shape[p.Axis]
	inner := graph.NumElements(x.Shape[p.Axis+1:])
	k := len(ids)
	for a := 0; a < outer; a++ {
		for j, id := range ids {
			if id < 0 {
				id += dim
			}
			if id < 0 || id >= dim {
				return fmt.Errorf("Gather index %d out of range for axis of size %d", ids[j], dim)
			}
			copyRange(o, (a*k+j)*inner, x, (a*dim+id)*inner, inner)
		}
	}
	return nil
}

func concat(p *graph.Params, in []*graph.Tensor, o *graph.Tensor) error {
	outer := graph.NumElements(o.Shape[:p.Axis])
	inner := graph.NumElements(o.Shape[p.Axis+1:])
	row := o.Shape[p.Axis] * inner
	off := 0
	for _, t := range in {
		if t == nil {
			continue
		}
		if t.DType != o.DType {
			return fmt.Errorf("Concat of %s and %s", graph.DTypeName(o.DType), graph.DTypeName(t.DType))
		}
		chunk := t.Shape[p.Axis] * inner
		for a := 0; a < outer; a++ {
			copyRange(o, a*row+off, t, a*chunk, chunk)
		}
		off += chunk
	}
	return nil
}

func split(p *graph.Params, x *graph.Tensor, out []*graph.Tensor) error {
	outer := graph.NumElements(x.Shape[:p.Axis])
	inner := graph.NumElements(x.Shape[p.Axis+1:])
	row := x.Shape[p.Axis] * inner
	off := 0
	for i, o := range out {
		chunk := p.Split[i] * inner
		if o != nil {
			for a := 0; a < outer; a++ {
				copyRange(o, a*chunk, x, a*row+off, chunk)
			}
		}
		off += chunk
	}
	return nil
}

func rangeOp(in []*graph.Tensor, o *graph.Tensor) error {
	switch o.DType {
	case onnx.Int64:
		st, d := in[0].Int64[0], in[2].Int64[0]
		for i := range o.Int64 {
			o.Int64[i] = st + int64(i)*d
		}
	case onnx.Int32:
		st, d := in[0].Int32[0], in[2].Int32[0]
		for i := range o.Int32 {
			o.Int32[i] = st + int32(i)*d
		}
	case onnx.Float:
		st, d := in[0].Float32[0], in[2].Float32[0]
		for i := range o.Float32 {
			o.Float32[i] = st + float32(i)*d
		}
	case onnx.Double:
		st, d := in[0].Float64[0], in[2].Float64[0]
		for i := range o.Float64 {
			o.Float64[i] = st + float64(i)*d
		}
	default:
		return fmt.Errorf("Range of %s", graph.DTypeName(o.DType))
	}
	return nil
}

func fill(o, v *graph.Tensor) error {
	n := o.Len()
	for i := 0; i < n; i++ {
		copyRange(o, i, v, 0, 1)
	}
	return nil
}

func trilu(p *graph.Params, in []*graph.Tensor, o *graph.Tensor) error {
	x := in[0]
	k := 0
	if len(in) > 1 && in[1] != nil {
		ks, err := in[1].Ints()
		if err != nil || len(ks) != 1 {
			return fmt.Errorf("Trilu k must be one integer")
		}
		k = ks[0]
	}
	r := len(x.Shape)
	rows, cols := x.Shape[r-2], x.Shape[r-1]
	mats := graph.NumElements(x.Shape[:r-2])
	zero := graph.NewTensor(x.DType, []int{1})
	copyRange(o, 0, x, 0, x.Len())
	for m := 0; m < mats; m++ {
		for i := 0; i < rows; i++ {
			for j := 0; j < cols; j++ {
				keep := j-i >= k
				if !p.Upper {
					keep = j-i <= k
				}
				if !keep {
					copyRange(o, (m*rows+i)*cols+j, zero, 0, 1)
				}
			}
		}
	}
	return nil
}

// roundEven rounds half to even, as ONNX's quantizers do.
func roundEven(x float64) float64 { return math.RoundToEven(x) }

func saturate(v float64, dt onnx.DataType) float64 {
	lo, hi := 0.0, 255.0
	if dt == onnx.Int8 {
		lo, hi = -128, 127
	}
	return math.Min(math.Max(v, lo), hi)
}

func dynQuant(e *Env, x *graph.Tensor, out []*graph.Tensor) error {
	if !isFloat(x.DType) {
		return fmt.Errorf("DynamicQuantizeLinear of %s", graph.DTypeName(x.DType))
	}
	lo, hi := rangeOf(e.pool(), x.Float32)
	scale := (hi - lo) / 255
	zp := 0.0
	if scale != 0 {
		zp = saturate(roundEven(float64(0-lo/scale)), onnx.Uint8)
	}
	y := out[0].Uint8
	out[1].Float32[0] = scale
	out[2].Uint8[0] = uint8(zp)
	if scale == 0 {
		for i := range y {
			y[i] = uint8(zp)
		}
		return nil
	}
	if !math.IsInf(float64(scale), 0) && scale == scale {
		// QuantizeU8 is the loop below (x/scale, round half to even,
		// + zp, clamp to [0, 255], NaN → 0), vectorised.
		return kernels.QuantizeU8(e.pool(), y, x.Float32, scale, uint8(zp))
	}
	zpf := float32(zp)
	for i, v := range x.Float32 {
		q := v / scale
		var r float32
		switch {
		case q >= 512:
			r = 255
		case q <= -512 || q != q:
			r = 0
		default:
			// Adding and removing 1.5·2²³ rounds |q| < 2²² to the
			// nearest integer, ties to even, in float32 arithmetic.
			r = (q + 12582912) - 12582912 + zpf
		}
		switch {
		case r <= 0:
			y[i] = 0
		case r >= 255:
			y[i] = 255
		default:
			y[i] = uint8(r)
		}
	}
	return nil
}

// rangeOf returns min(0, xs...) and max(0, xs...), the range
// DynamicQuantizeLinear maps to [0, 255], over the pool's threads.
func rangeOf(p *kernels.Pool, xs []float32) (lo, hi float32) {
	return kernels.RangeWithZero(p, xs)
}

// perAxis returns, for element i of a tensor of shape sh, the index into
// a per-axis parameter (0 for per-tensor parameters).
func perAxis(sh []int, axis int) func(i int) int {
	if axis < 0 {
		return func(int) int { return 0 }
	}
	inner := graph.NumElements(sh[axis+1:])
	dim := sh[axis]
	return func(i int) int { return (i / inner) % dim }
}

func quantize(p *graph.Params, in []*graph.Tensor, o *graph.Tensor) error {
	x, scale := in[0], in[1]
	if o.DType != onnx.Uint8 && o.DType != onnx.Int8 {
		return fmt.Errorf("QuantizeLinear to %s is not supported", graph.DTypeName(o.DType))
	}
	var zp *graph.Tensor
	if len(in) > 2 {
		zp = in[2]
	}
	ax := perAxis(x.Shape, p.Axis)
	gx, st := getF(x), setF(o)
	for i := 0; i < x.Len(); i++ {
		a := ax(i)
		z := 0.0
		if zp != nil {
			z = zp.Float64At(a)
		}
		s := scale.Float64At(a)
		var q float64
		if isFloat(x.DType) {
			q = roundEven(float64(float32(gx(i)) / float32(s)))
		} else {
			q = roundEven(gx(i) / s)
		}
		st(i, saturate(q+z, o.DType))
	}
	return nil
}

func dequantize(p *graph.Params, in []*graph.Tensor, o *graph.Tensor) error {
	x, scale := in[0], in[1]
	var zp *graph.Tensor
	if len(in) > 2 {
		zp = in[2]
	}
	switch x.DType {
	case onnx.Uint8, onnx.Int8, onnx.Int32:
	default:
		return fmt.Errorf("DequantizeLinear of %s is not supported", graph.DTypeName(x.DType))
	}
	ax := perAxis(x.Shape, p.Axis)
	gx, st := getF(x), setF(o)
	for i := 0; i < x.Len(); i++ {
		a := ax(i)
		z := 0.0
		if zp != nil {
			z = zp.Float64At(a)
		}
		if isFloat(o.DType) {
			st(i, float64(float32(gx(i)-z)*float32(scale.Float64At(a))))
		} else {
			st(i, (gx(i)-z)*scale.Float64At(a))
		}
	}
	return nil
}

// centered returns t's integer values minus zero point zp as float64 (exact).
// zpIndex maps an element index to the zero point's index.
func centered(t, zp *graph.Tensor, zpIndex func(i int) int) ([]float64, error) {
	if t.DType != onnx.Uint8 && t.DType != onnx.Int8 {
		return nil, fmt.Errorf("want uint8 or int8, got %s", graph.DTypeName(t.DType))
	}
	r := make([]float64, t.Len())
	g := getF(t)
	for i := range r {
		z := 0.0
		if zp != nil {
			z = zp.Float64At(zpIndex(i))
		}
		r[i] = g(i) - z
	}
	return r, nil
}

func matmulInteger(in []*graph.Tensor, o *graph.Tensor) error {
	a, b := in[0], in[1]
	as, bs := promote(a.Shape, b.Shape)
	m, k, n := as[len(as)-2], as[len(as)-1], bs[len(bs)-1]
	var az, bz *graph.Tensor
	if len(in) > 2 {
		az = in[2]
	}
	if len(in) > 3 {
		bz = in[3]
	}
	// a's zero point: scalar or one per row (M); b's: scalar or one per column (N).
	ai := func(i int) int {
		if az == nil || az.Len() <= 1 {
			return 0
		}
		return (i / k) % m
	}
	bi := func(i int) int {
		if bz == nil || bz.Len() <= 1 {
			return 0
		}
		return i % n
	}
	af, err := centered(a, az, ai)
	if err != nil {
		return fmt.Errorf("MatMulInteger A: %w", err)
	}
	bf, err := centered(b, bz, bi)
	if err != nil {
		return fmt.Errorf("MatMulInteger B: %w", err)
	}
	tmp := make([]float64, m*n)
	batches(as, bs, func(ao, bo, oo int) {
		dgemm(false, false, m, n, k, af[ao:], max(k, 1), bf[bo:], max(n, 1), tmp, max(n, 1))
		for i, v := range tmp {
			o.Int32[oo+i] = int32(v)
		}
	})
	return nil
}

func convInteger(e *Env, s *graph.Step, in []*graph.Tensor, o *graph.Tensor) error {
	x, w := in[0], in[1]
	g, err := geometry(&s.P, x.Shape, w.Shape, o.Shape)
	if err != nil {
		return err
	}
	if ok, err := e.convIntegerPacked(s, &g, in, o); ok || err != nil {
		return err
	}
	var xz, wz *graph.Tensor
	if len(in) > 2 {
		xz = in[2]
	}
	if len(in) > 3 {
		wz = in[3]
	}
	xf, err := centered(x, xz, func(int) int { return 0 })
	if err != nil {
		return fmt.Errorf("ConvInteger x: %w", err)
	}
	per := graph.NumElements(w.Shape[1:])
	wf, err := centered(w, wz, func(i int) int {
		if wz == nil || wz.Len() <= 1 {
			return 0
		}
		return i / per
	})
	if err != nil {
		return fmt.Errorf("ConvInteger w: %w", err)
	}
	kk := g.cg * g.kh * g.kw
	ohw := g.oh * g.ow
	mg := g.m / g.group
	col := make([]float64, kk*ohw)
	tmp := make([]float64, mg*ohw)
	for b := 0; b < g.n; b++ {
		img := xf[b*g.c*g.h*g.w:]
		for gr := 0; gr < g.group; gr++ {
			im2col(&g, img, gr*g.cg, col, 0)
			dgemm(false, false, mg, ohw, kk, wf[gr*mg*kk:], max(kk, 1), col, max(ohw, 1), tmp, max(ohw, 1))
			out := o.Int32[(b*g.m+gr*mg)*ohw:]
			for i, v := range tmp {
				out[i] = int32(v)
			}
		}
	}
	return nil
}

// convIntegerPacked runs ConvInteger as an int8 GEMM (one group, uint8
// input with one zero point, constant weights): each output position's
// receptive field becomes a row of A, the weights transposed become B.
func (e *Env) convIntegerPacked(s *graph.Step, g *convGeom, in []*graph.Tensor, o *graph.Tensor) (bool, error) {
	x, w := in[0], in[1]
	if e == nil || g.group != 1 || x.DType != onnx.Uint8 || s.In[1].Const == nil || (w.DType != onnx.Uint8 && w.DType != onnx.Int8) {
		return false, nil
	}
	var xz uint8
	if len(in) > 2 && in[2] != nil {
		if in[2].Len() != 1 || in[2].DType != onnx.Uint8 {
			return false, nil
		}
		xz = in[2].Uint8[0]
	}
	zero := []int32{0}
	if len(in) > 3 && in[3] != nil {
		z := in[3]
		if z.Len() != 1 && z.Len() != g.m {
			return false, nil
		}
		zero = make([]int32, z.Len())
		for i := range zero {
			zero[i] = int32(z.Float64At(i))
		}
	}
	kk := g.c * g.kh * g.kw
	ohw := g.oh * g.ow
	pb, err := e.packedConvB8(w, kk, g.m, zero)
	if err != nil || pb == nil {
		return false, nil
	}
	// Every element of rows is written below and GemmU8 overwrites c, so
	// recycled buffers serve.
	rowsBuf := uint8Scratch.Get().(*[]uint8)
	defer uint8Scratch.Put(rowsBuf)
	if cap(*rowsBuf) < ohw*kk {
		*rowsBuf = make([]uint8, ohw*kk)
	}
	rows := (*rowsBuf)[:ohw*kk]
	cBuf := int32Scratch.Get().(*[]int32)
	defer int32Scratch.Put(cBuf)
	if cap(*cBuf) < ohw*g.m {
		*cBuf = make([]int32, ohw*g.m)
	}
	c := (*cBuf)[:ohw*g.m]
	for b := 0; b < g.n; b++ {
		img := x.Uint8[b*g.c*g.h*g.w:]
		for oy := 0; oy < g.oh; oy++ {
			for ox := 0; ox < g.ow; ox++ {
				row := rows[(oy*g.ow+ox)*kk:]
				i := 0
				for ci := 0; ci < g.c; ci++ {
					for ky := 0; ky < g.kh; ky++ {
						iy := oy*g.sh - g.pt + ky*g.dh
						for kx := 0; kx < g.kw; kx++ {
							ix := ox*g.sw - g.pl + kx*g.dw
							if iy < 0 || iy >= g.h || ix < 0 || ix >= g.w {
								row[i] = xz // padding contributes zero after the zero point
							} else {
								row[i] = img[(ci*g.h+iy)*g.w+ix]
							}
							i++
						}
					}
				}
			}
		}
		if err := kernels.GemmU8(e.pool(), ohw, rows, kk, xz, pb, c, g.m); err != nil {
			return true, err
		}
		dst := o.Int32[b*g.m*ohw:]
		for p := 0; p < ohw; p++ {
			for m := 0; m < g.m; m++ {
				dst[m*ohw+p] = c[p*g.m+m]
			}
		}
	}
	return true, nil
}
