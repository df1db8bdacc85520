package ops

import (
	"fmt"
	"unsafe"

	"github.com/clip-go/clip/pkg/engine/kernels"
	"github.com/clip-go/clip/pkg/graph"
	"github.com/clip-go/clip/pkg/onnx"
)

// catLinear is the packed concatenation [W₁|W₂|…] of a multi-part
// OpLinear step (see graph.LinearPart) with its biases side by side.
type catLinear struct {
	parts []*graph.Tensor // each part's weights, to check a cache hit
	pb    *kernels.PackedB
	bias  []float32 // nil when no part has a bias
}

// catQLinear is the same for a multi-part OpQLinear step: the int8
// weights packed side by side with their zero points, and the weight
// scales and biases of every column.
type catQLinear struct {
	parts  []*byte
	pb     *kernels.PackedB8
	wScale []float32
	bias   []float32 // nil when no part has a bias
}

// catLinear returns the packed weights of a multi-part OpLinear step,
// building them on first use (Prepack does it at load).
func (e *Env) catLinear(s *graph.Step) (*catLinear, error) {
	first := graph.LinearPartAt(s, 0).W
	if first == nil || first.Const == nil {
		return nil, fmt.Errorf("Linear: weights are not a constant float matrix")
	}
	key := first.Const
	e.mu.Lock()
	c, ok := e.cat[key]
	e.mu.Unlock()
	if ok && c.matches(s) {
		return c, nil
	}
	c, err := buildCatLinear(s)
	if err != nil {
		return nil, err
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.cat == nil {
		e.cat = map[*graph.Tensor]*catLinear{}
	}
	if old, ok := e.cat[key]; ok && old.matches(s) {
		return old, nil // another goroutine built it meanwhile
	}
	e.cat[key] = c
	return c, nil
}

func (c *catLinear) matches(s *graph.Step) bool {
	if graph.NumLinearParts(s) != len(c.parts) {
		return false
	}
	for i, p := range c.parts {
		if graph.LinearPartAt(s, i).W.Const != p {
			return false
		}
	}
	return true
}

// buildCatLinear concatenates the parts' k×nᵢ weights into one k×Σnᵢ
// matrix (a temporary: only its packed form is kept) and packs it.
func buildCatLinear(s *graph.Step) (*catLinear, error) {
	np := graph.NumLinearParts(s)
	k, n := 0, 0
	for i := range np {
		p := graph.LinearPartAt(s, i)
		if p.W == nil || p.W.Const == nil || len(p.W.Shape) != 2 || len(p.W.Const.Materialize()) != graph.NumElements(p.W.Shape) || p.W.Const.Len() == 0 {
			return nil, fmt.Errorf("Linear: weight %d is not a constant float matrix", i)
		}
		if i == 0 {
			k = p.W.Shape[0]
		}
		if p.W.Shape[0] != k {
			return nil, fmt.Errorf("Linear: weight %d has %d rows, weight 0 has %d", i, p.W.Shape[0], k)
		}
		if p.Bias != nil && (p.Bias.Const == nil || len(p.Bias.Const.Float32) != p.W.Shape[1]) {
			return nil, fmt.Errorf("Linear: bias %d is not a constant of %d values", i, p.W.Shape[1])
		}
		n += p.W.Shape[1]
	}
	// The concatenation lives only until it is packed: recycle it, so
	// that packing a model's projections does not leave ~7 MB of garbage
	// per layer for the collector (and the peak RSS) at load.
	buf := float32Scratch.Get().(*[]float32)
	defer float32Scratch.Put(buf)
	if cap(*buf) < k*n {
		*buf = make([]float32, k*n)
	}
	w := (*buf)[:k*n]
	c := &catLinear{}
	col := 0
	for i := range np {
		p := graph.LinearPartAt(s, i)
		src, ni := p.W.Const.Materialize(), p.W.Shape[1]
		for r := range k {
			copy(w[r*n+col:r*n+col+ni], src[r*ni:(r+1)*ni])
		}
		if p.Bias != nil {
			if c.bias == nil {
				c.bias = make([]float32, n) // a missing bias adds 0
			}
			copy(c.bias[col:col+ni], p.Bias.Const.Float32)
		}
		c.parts = append(c.parts, p.W.Const)
		col += ni
	}
	pb, err := kernels.PackB(false, k, n, w, n)
	if err != nil {
		return nil, err
	}
	c.pb = pb
	return c, nil
}

// weightBytes returns the bytes of a constant uint8 or int8 tensor and
// whether they are signed.
func weightBytes(t *graph.Tensor) (b []byte, signed, ok bool) {
	switch {
	case t == nil || t.Len() == 0:
		return nil, false, false
	case t.DType == onnx.Uint8:
		return t.Uint8, false, true
	case t.DType == onnx.Int8:
		return unsafe.Slice((*byte)(unsafe.Pointer(&t.Int8[0])), len(t.Int8)), true, true
	}
	return nil, false, false
}

// catQLinear returns the packed weights of a multi-part OpQLinear step,
// building them on first use (Prepack does it at load).
func (e *Env) catQLinear(s *graph.Step) (*catQLinear, error) {
	first := graph.QLinearPartAt(s, 0).W
	if first == nil || first.Const == nil {
		return nil, fmt.Errorf("QLinear: weights are not a constant int8 matrix")
	}
	b, _, ok := weightBytes(first.Const)
	if !ok {
		return nil, fmt.Errorf("QLinear: weights are not a constant int8 matrix")
	}
	key := &b[0]
	e.mu.Lock()
	c, ok := e.cat8[key]
	e.mu.Unlock()
	if ok && c.matches(s) {
		return c, nil
	}
	c, err := buildCatQLinear(e.Pool, s)
	if err != nil {
		return nil, err
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.cat8 == nil {
		e.cat8 = map[*byte]*catQLinear{}
	}
	if old, ok := e.cat8[key]; ok && old.matches(s) {
		return old, nil
	}
	e.cat8[key] = c
	return c, nil
}

func (c *catQLinear) matches(s *graph.Step) bool {
	if graph.NumQLinearParts(s) != len(c.parts) {
		return false
	}
	for i, p := range c.parts {
		b, _, ok := weightBytes(graph.QLinearPartAt(s, i).W.Const)
		if !ok || &b[0] != p {
			return false
		}
	}
	return true
}

// perColumn expands a constant of one value or n values to n float64s.
func perColumn(v *graph.Value, n int, what string, part int) ([]float64, error) {
	if v == nil || v.Const == nil || (v.Const.Len() != 1 && v.Const.Len() != n) {
		return nil, fmt.Errorf("QLinear: %s of weight %d is not a constant of 1 or %d values", what, part, n)
	}
	r := make([]float64, n)
	for j := range r {
		if v.Const.Len() == 1 {
			r[j] = v.Const.Float64At(0)
		} else {
			r[j] = v.Const.Float64At(j)
		}
	}
	return r, nil
}

// buildCatQLinear concatenates the parts' k×nᵢ int8 weights, their zero
// points, scales and biases column-wise and packs the weights.
func buildCatQLinear(pool *kernels.Pool, s *graph.Step) (*catQLinear, error) {
	np := graph.NumQLinearParts(s)
	k, n := 0, 0
	signed := false
	for i := range np {
		p := graph.QLinearPartAt(s, i)
		if p.W == nil || p.W.Const == nil || len(p.W.Shape) != 2 {
			return nil, fmt.Errorf("QLinear: weight %d is not a constant int8 matrix", i)
		}
		_, sg, ok := weightBytes(p.W.Const)
		if !ok {
			return nil, fmt.Errorf("QLinear: weight %d is not a constant int8 matrix", i)
		}
		if i == 0 {
			k, signed = p.W.Shape[0], sg
		}
		if p.W.Shape[0] != k || sg != signed {
			return nil, fmt.Errorf("QLinear: weight %d (%v, signed %v) does not match weight 0 (%d rows, signed %v)", i, p.W.Shape, sg, k, signed)
		}
		n += p.W.Shape[1]
	}
	buf := uint8Scratch.Get().(*[]uint8)
	defer uint8Scratch.Put(buf)
	if cap(*buf) < k*n {
		*buf = make([]uint8, k*n)
	}
	w := (*buf)[:k*n] // recycled as in buildCatLinear
	zero := make([]int32, n)
	c := &catQLinear{wScale: make([]float32, n)}
	col := 0
	for i := range np {
		p := graph.QLinearPartAt(s, i)
		src, _, _ := weightBytes(p.W.Const)
		ni := p.W.Shape[1]
		for r := range k {
			copy(w[r*n+col:r*n+col+ni], src[r*ni:(r+1)*ni])
		}
		if p.WZero != nil {
			z, err := perColumn(p.WZero, ni, "zero point", i)
			if err != nil {
				return nil, err
			}
			for j, v := range z {
				zero[col+j] = int32(v)
			}
		}
		sc, err := perColumn(p.WScale, ni, "scale", i)
		if err != nil {
			return nil, err
		}
		for j, v := range sc {
			c.wScale[col+j] = float32(v) // a float32 constant: exact
		}
		if p.Bias != nil {
			if p.Bias.Const == nil || len(p.Bias.Const.Float32) != ni {
				return nil, fmt.Errorf("QLinear: bias %d is not a constant of %d values", i, ni)
			}
			if c.bias == nil {
				c.bias = make([]float32, n) // a missing bias adds 0
			}
			copy(c.bias[col:col+ni], p.Bias.Const.Float32)
		}
		c.parts = append(c.parts, &src[0])
		col += ni
	}
	pb, err := pool.PackB8(k, n, w, n, signed, zero)
	if err != nil {
		return nil, err
	}
	c.pb = pb
	return c, nil
}
