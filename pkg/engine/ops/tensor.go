package ops

import (
	"fmt"
	"math"

	"github.com/clip-go/clip/pkg/engine/kernels"

	"github.com/clip-go/clip/pkg/graph"
	"github.com/clip-go/clip/pkg/onnx"
)

// Shape and layout operators, constants, and the int8 quantization ops.
func init() {
	define(
		def{OpDef: graph.OpDef{Op: "Reshape", Infer: withX(inferReshape), Aliases: true}, eval: evalAlias},
		def{OpDef: graph.OpDef{Op: "Squeeze", Infer: withX(inferSqueeze), Aliases: true}, eval: evalAlias},
		def{OpDef: graph.OpDef{Op: "Unsqueeze", Infer: withX(inferUnsqueeze), Aliases: true}, eval: evalAlias},
		def{OpDef: graph.OpDef{Op: "Flatten", Infer: withX(inferFlatten), Aliases: true}, eval: evalAlias},
		def{OpDef: graph.OpDef{Op: "Shape", Infer: withX(inferShape)}},
		def{OpDef: graph.OpDef{Op: "Constant", Infer: inferConstant}},
		def{OpDef: graph.OpDef{Op: "Gather", Infer: inferGather},
			eval: func(c call) error { return gather(&c.s.P, c.in[0], c.in[1], c.out[0]) }},
		def{OpDef: graph.OpDef{Op: "Slice", Infer: withX(inferSlice)},
			eval: func(c call) error { return slice(&c.s.P, c.in[0], c.out[0]) }},
		def{OpDef: graph.OpDef{Op: "Transpose", Infer: withX(inferTranspose)},
			eval: func(c call) error { return transpose(&c.s.P, c.in[0], c.out[0]) }},
		def{OpDef: graph.OpDef{Op: "Expand", Infer: withX(inferExpand)},
			eval: func(c call) error { return expand(c.in[0], c.out[0]) }},
		def{OpDef: graph.OpDef{Op: "Tile", Infer: withX(inferTile)},
			eval: func(c call) error { return tile(c.in[0], c.out[0]) }},
		def{OpDef: graph.OpDef{Op: "Concat", Infer: withX(inferConcat)},
			eval: func(c call) error { return concat(&c.s.P, c.in, c.out[0]) }},
		def{OpDef: graph.OpDef{Op: "Split", Infer: withX(inferSplit)},
			eval: func(c call) error { return split(&c.s.P, c.in[0], c.out) }},
		def{OpDef: graph.OpDef{Op: "Range", Infer: inferRange},
			eval: func(c call) error { return rangeOp(c.in, c.out[0]) }},
		def{OpDef: graph.OpDef{Op: "ConstantOfShape", Infer: withX(inferConstantOfShape)},
			eval: func(c call) error { return fill(c.out[0], c.s.P.Value) }},
		def{OpDef: graph.OpDef{Op: "Trilu", Infer: withX(inferTrilu)},
			eval: func(c call) error { return trilu(&c.s.P, c.in, c.out[0]) }},
		def{OpDef: graph.OpDef{Op: "DynamicQuantizeLinear", Infer: withX(inferDynQuant)},
			eval: func(c call) error { return dynQuant(c.e, c.in[0], c.out) }},
		def{OpDef: graph.OpDef{Op: "QuantizeLinear", Infer: inferQuant},
			eval: func(c call) error { return quantize(&c.s.P, c.in, c.out[0]) }},
		def{OpDef: graph.OpDef{Op: "DequantizeLinear", Infer: inferQuant},
			eval: func(c call) error { return dequantize(&c.s.P, c.in, c.out[0]) }},
		def{OpDef: graph.OpDef{Op: "MatMulInteger", Infer: inferInt32(inferMatMul), FLOPs: matmulFLOPs},
			eval: func(c call) error {
				if ok, err := c.e.matmulIntegerPacked(c.s, c.in, c.out[0]); ok || err != nil {
					return err
				}
				return matmulInteger(c.in, c.out[0])
			}},
		def{OpDef: graph.OpDef{Op: "ConvInteger", Infer: inferInt32(inferConv), FLOPs: convFLOPs},
			eval: func(c call) error { return convInteger(c.e, c.s, c.in, c.out[0]) }},
	)
}

// inferInt32 is infer with output 0 typed int32 (the integer products).
func inferInt32(infer func(*graph.Step, int64) error) func(*graph.Step, int64) error {
	return func(s *graph.Step, opset int64) error {
		if err := infer(s, opset); err != nil {
			return err
		}
		s.Out[0].DType = onnx.Int32
		return nil
	}
}

func inferShape(s *graph.Step, _ *graph.Value, _ int64) error {
	t := shapeTensor(s)
	setOut(s, 0, onnx.Int64, t.Shape)
	s.Out[0].Const = t // only the input's shape is needed: always known
	return nil
}

func inferConstant(s *graph.Step, _ int64) error {
	t, err := constantAttr(s.Node)
	if err != nil {
		return err
	}
	setOut(s, 0, t.DType, t.Shape)
	if len(s.Out) > 0 {
		s.Out[0].Const = t
	}
	return nil
}

func inferRange(s *graph.Step, _ int64) error {
	if err := need(s, 3); err != nil {
		return err
	}
	for i := 0; i < 3; i++ {
		if s.In[i].Const == nil {
			return fmt.Errorf("input %d must be known before the run", i)
		}
	}
	st, lim, d := s.In[0].Const.Float64At(0), s.In[1].Const.Float64At(0), s.In[2].Const.Float64At(0)
	if d == 0 {
		return fmt.Errorf("delta is zero")
	}
	cnt := int(ceil((lim - st) / d))
	if cnt < 0 {
		cnt = 0
	}
	setOut(s, 0, s.In[0].DType, []int{cnt})
	return nil
}

func inferConstantOfShape(s *graph.Step, _ *graph.Value, _ int64) error {
	sh, _, err := constInts(s, 0)
	if err != nil {
		return err
	}
	val := &graph.Tensor{DType: onnx.Float, Shape: []int{1}, Float32: []float32{0}}
	if a, ok := s.Node.Attrs["value"]; ok && a.T != nil {
		if val, err = graph.FromONNX(a.T); err != nil {
			return err
		}
		if val.Len() != 1 {
			return fmt.Errorf("value must hold one element")
		}
	}
	s.P.Value, s.P.Shape = val, sh
	setOut(s, 0, val.DType, cp(sh))
	return nil
}

func inferGather(s *graph.Step, _ int64) error {
	if err := need(s, 2); err != nil {
		return err
	}
	x := s.In[0]
	r := len(x.Shape)
	a, err := normAxis(int(s.Node.Int("axis", 0)), r)
	if err != nil {
		return err
	}
	if r == 0 {
		return fmt.Errorf("cannot gather from a scalar")
	}
	s.P.Axis = a
	sh := append(append(cp(x.Shape[:a]), s.In[1].Shape...), x.Shape[a+1:]...)
	setOut(s, 0, x.DType, sh)
	return nil
}

func inferConcat(s *graph.Step, x *graph.Value, _ int64) error {
	r := len(x.Shape)
	a, err := normAxis(int(s.Node.Int("axis", 0)), r)
	if err != nil {
		return err
	}
	s.P.Axis = a
	sh := cp(x.Shape)
	sh[a] = 0
	for i, v := range s.In {
		if v == nil {
			continue
		}
		if len(v.Shape) != r {
			return fmt.Errorf("input %d has rank %d, want %d", i, len(v.Shape), r)
		}
		for j := range sh {
			if j != a && v.Shape[j] != x.Shape[j] {
				return fmt.Errorf("input %d shape %v does not match %v outside axis %d", i, v.Shape, x.Shape, a)
			}
		}
		sh[a] += v.Shape[a]
	}
	setOut(s, 0, x.DType, sh)
	return nil
}

func inferSplit(s *graph.Step, x *graph.Value, opset int64) error {
	n := s.Node
	a, err := normAxis(int(n.Int("axis", 0)), len(x.Shape))
	if err != nil {
		return err
	}
	s.P.Axis = a
	var parts []int
	if opset >= 13 {
		parts, _, err = constInts(s, 1)
		if err != nil {
			return err
		}
	} else if n.Has("split") {
		parts = toInts(n.Ints("split"))
	}
	dim := x.Shape[a]
	if parts == nil {
		k := len(s.Out)
		if n.Has("num_outputs") {
			k = int(n.Int("num_outputs", 0))
			if k <= 0 {
				return fmt.Errorf("num_outputs must be positive")
			}
			chunk := (dim + k - 1) / k
			for i := 0; i < k; i++ {
				c := chunk
				if rest := dim - i*chunk; rest < chunk {
					c = rest
				}
				if c < 0 {
					c = 0
				}
				parts = append(parts, c)
			}
		} else {
			if dim%k != 0 {
				return fmt.Errorf("dimension %d is not divisible into %d outputs", dim, k)
			}
			for i := 0; i < k; i++ {
				parts = append(parts, dim/k)
			}
		}
	}
	if len(parts) != len(s.Out) {
		return fmt.Errorf("split has %d parts for %d outputs", len(parts), len(s.Out))
	}
	sum := 0
	for _, c := range parts {
		if c < 0 {
			return fmt.Errorf("negative split %v", parts)
		}
		sum += c
	}
	if sum != dim {
		return fmt.Errorf("split %v does not add up to dimension %d", parts, dim)
	}
	s.P.Split = parts
	for i, c := range parts {
		sh := cp(x.Shape)
		sh[a] = c
		setOut(s, i, x.DType, sh)
	}
	return nil
}

func inferReshape(s *graph.Step, x *graph.Value, _ int64) error {
	target, _, err := constInts(s, 1)
	if err != nil {
		return err
	}
	if target == nil {
		return fmt.Errorf("shape input is missing")
	}
	sh, err := reshapeShape(x.Shape, target, s.Node.Int("allowzero", 0) != 0)
	if err != nil {
		return err
	}
	setOut(s, 0, x.DType, sh)
	return nil
}

func inferTranspose(s *graph.Step, x *graph.Value, _ int64) error {
	r := len(x.Shape)
	perm := toInts(s.Node.Ints("perm"))
	if len(perm) == 0 {
		perm = nil
		for i := r - 1; i >= 0; i-- {
			perm = append(perm, i)
		}
	}
	if len(perm) != r {
		return fmt.Errorf("perm %v does not match rank %d", perm, r)
	}
	seen := make([]bool, r)
	sh := make([]int, r)
	for i, p := range perm {
		if p < 0 || p >= r || seen[p] {
			return fmt.Errorf("bad perm %v", perm)
		}
		seen[p] = true
		sh[i] = x.Shape[p]
	}
	s.P.Perm = perm
	setOut(s, 0, x.DType, sh)
	return nil
}

func inferSqueeze(s *graph.Step, x *graph.Value, opset int64) error {
	axes, has, err := axesParam(s, opset, 13)
	if err != nil {
		return err
	}
	if !has {
		for i, d := range x.Shape {
			if d == 1 {
				axes = append(axes, i)
			}
		}
	}
	if s.P.Axes, err = normAxes(axes, len(x.Shape)); err != nil {
		return err
	}
	var sh []int
	j := 0
	for i, d := range x.Shape {
		if j < len(s.P.Axes) && s.P.Axes[j] == i {
			if d != 1 {
				return fmt.Errorf("cannot squeeze axis %d of size %d", i, d)
			}
			j++
			continue
		}
		sh = append(sh, d)
	}
	if sh == nil {
		sh = []int{}
	}
	setOut(s, 0, x.DType, sh)
	return nil
}

func inferUnsqueeze(s *graph.Step, x *graph.Value, opset int64) error {
	axes, has, err := axesParam(s, opset, 13)
	if err != nil {
		return err
	}
	if !has {
		return fmt.Errorf("axes are missing")
	}
	or := len(x.Shape) + len(axes)
	if s.P.Axes, err = normAxes(axes, or); err != nil {
		return err
	}
	sh := make([]int, 0, or)
	j, k := 0, 0
	for i := 0; i < or; i++ {
		if j < len(s.P.Axes) && s.P.Axes[j] == i {
			sh = append(sh, 1)
			j++
		} else {
			sh = append(sh, x.Shape[k])
			k++
		}
	}
	setOut(s, 0, x.DType, sh)
	return nil
}

func inferFlatten(s *graph.Step, x *graph.Value, _ int64) error {
	r := len(x.Shape)
	a := int(s.Node.Int("axis", 1))
	if a < 0 {
		a += r
	}
	if a < 0 || a > r {
		return fmt.Errorf("axis %d out of range for rank %d", s.Node.Int("axis", 1), r)
	}
	setOut(s, 0, x.DType, []int{graph.NumElements(x.Shape[:a]), graph.NumElements(x.Shape[a:])})
	return nil
}

func inferExpand(s *graph.Step, x *graph.Value, _ int64) error {
	target, _, err := constInts(s, 1)
	if err != nil {
		return err
	}
	sh, err := graph.Broadcast(x.Shape, target)
	if err != nil {
		return err
	}
	setOut(s, 0, x.DType, sh)
	return nil
}

// inferTile: SigLIP's attention-pooling head repeats its learned probe
// over the batch (probe.repeat(B, 1, 1) exports as Tile).
func inferTile(s *graph.Step, x *graph.Value, _ int64) error {
	reps, ok, err := constInts(s, 1)
	if err != nil {
		return err
	}
	if !ok {
		return fmt.Errorf("repeats must be known when the graph is bound")
	}
	if len(reps) != len(x.Shape) {
		return fmt.Errorf("%d repeats for a rank-%d input", len(reps), len(x.Shape))
	}
	sh := make([]int, len(reps))
	for i, r := range reps {
		if r < 0 {
			return fmt.Errorf("repeats[%d] is %d", i, r)
		}
		sh[i] = x.Shape[i] * r
	}
	setOut(s, 0, x.DType, sh)
	return nil
}

func inferTrilu(s *graph.Step, x *graph.Value, _ int64) error {
	if len(x.Shape) < 2 {
		return fmt.Errorf("needs rank ≥ 2, got %v", x.Shape)
	}
	s.P.Upper = s.Node.Int("upper", 1) != 0
	setOut(s, 0, x.DType, cp(x.Shape))
	return nil
}

func inferDynQuant(s *graph.Step, x *graph.Value, _ int64) error {
	setOut(s, 0, onnx.Uint8, cp(x.Shape))
	setOut(s, 1, onnx.Float, []int{})
	setOut(s, 2, onnx.Uint8, []int{})
	return nil
}

// inferQuant serves QuantizeLinear and DequantizeLinear.
func inferQuant(s *graph.Step, _ int64) error {
	if err := need(s, 2); err != nil {
		return err
	}
	x := s.In[0]
	a := int(s.Node.Int("axis", 1))
	if len(s.In[1].Shape) == 1 && graph.NumElements(s.In[1].Shape) > 1 {
		var err error
		if a, err = normAxis(a, len(x.Shape)); err != nil {
			return err
		}
		if x.Shape[a] != s.In[1].Shape[0] {
			return fmt.Errorf("per-axis scale of length %d does not match axis %d of %v", s.In[1].Shape[0], a, x.Shape)
		}
	} else {
		a = -1 // per-tensor
	}
	s.P.Axis = a
	if s.Node.Op == "QuantizeLinear" {
		dt := onnx.Uint8
		if len(s.In) > 2 && s.In[2] != nil {
			dt = s.In[2].DType
		}
		setOut(s, 0, dt, cp(x.Shape))
	} else {
		setOut(s, 0, s.In[1].DType, cp(x.Shape))
	}
	return nil
}

func inferSlice(s *graph.Step, x *graph.Value, opset int64) error {
	n := s.Node
	r := len(x.Shape)
	var starts, ends, axes, steps []int
	if opset < 10 {
		starts, ends, axes = toInts(n.Ints("starts")), toInts(n.Ints("ends")), toInts(n.Ints("axes"))
	} else {
		var err error
		if starts, _, err = constInts(s, 1); err != nil {
			return err
		}
		if ends, _, err = constInts(s, 2); err != nil {
			return err
		}
		if axes, _, err = constInts(s, 3); err != nil {
			return err
		}
		if steps, _, err = constInts(s, 4); err != nil {
			return err
		}
	}
	if len(starts) != len(ends) {
		return fmt.Errorf("starts %v and ends %v differ in length", starts, ends)
	}
	if axes == nil {
		for i := range starts {
			axes = append(axes, i)
		}
	}
	if steps == nil {
		for range starts {
			steps = append(steps, 1)
		}
	}
	if len(axes) != len(starts) || len(steps) != len(starts) {
		return fmt.Errorf("starts, ends, axes and steps differ in length")
	}
	s.P.Starts = make([]int, r)
	s.P.Steps = make([]int, r)
	sh := cp(x.Shape)
	for i := range s.P.Steps {
		s.P.Steps[i] = 1
	}
	seen := map[int]bool{}
	for i, a := range axes {
		ax, err := normAxis(a, r)
		if err != nil {
			return err
		}
		if seen[ax] {
			return fmt.Errorf("axis %d repeated", a)
		}
		seen[ax] = true
		dim, st, en, step := x.Shape[ax], starts[i], ends[i], steps[i]
		if step == 0 {
			return fmt.Errorf("step is zero")
		}
		if st < 0 {
			st += dim
		}
		if en < 0 {
			en += dim
		}
		var cnt int
		if step > 0 {
			st, en = clamp(st, 0, dim), clamp(en, 0, dim)
			cnt = (en - st + step - 1) / step
		} else {
			st, en = clamp(st, 0, dim-1), clamp(en, -1, dim-1)
			cnt = (st - en + (-step) - 1) / (-step)
		}
		if cnt < 0 {
			cnt = 0
		}
		s.P.Starts[ax], s.P.Steps[ax], sh[ax] = st, step, cnt
	}
	setOut(s, 0, x.DType, sh)
	return nil
}

func shapeTensor(s *graph.Step) *graph.Tensor {
	sh := s.In[0].Shape
	r := len(sh)
	start, end := int(s.Node.Int("start", 0)), int(s.Node.Int("end", int64(r)))
	start, end = clampAxis(start, r), clampAxis(end, r)
	t := &graph.Tensor{DType: onnx.Int64, Shape: []int{0}}
	for i := start; i < end; i++ {
		t.Int64 = append(t.Int64, int64(sh[i]))
	}
	if t.Int64 == nil {
		t.Int64 = []int64{}
	}
	t.Shape[0] = len(t.Int64)
	return t
}

func clampAxis(a, r int) int {
	if a < 0 {
		a += r
	}
	if a < 0 {
		return 0
	}
	if a > r {
		return r
	}
	return a
}

func constantAttr(n *graph.Node) (*graph.Tensor, error) {
	if a, ok := n.Attrs["value"]; ok && a.T != nil {
		return graph.FromONNX(a.T)
	}
	if a, ok := n.Attrs["value_float"]; ok {
		return &graph.Tensor{DType: onnx.Float, Shape: []int{}, Float32: []float32{a.F}}, nil
	}
	if a, ok := n.Attrs["value_floats"]; ok {
		return &graph.Tensor{DType: onnx.Float, Shape: []int{len(a.Floats)}, Float32: append([]float32{}, a.Floats...)}, nil
	}
	if a, ok := n.Attrs["value_int"]; ok {
		return &graph.Tensor{DType: onnx.Int64, Shape: []int{}, Int64: []int64{a.I}}, nil
	}
	if a, ok := n.Attrs["value_ints"]; ok {
		return &graph.Tensor{DType: onnx.Int64, Shape: []int{len(a.Ints)}, Int64: append([]int64{}, a.Ints...)}, nil
	}
	return nil, fmt.Errorf("no supported value attribute")
}

func ceil(x float64) float64 {
	i := float64(int64(x))
	if i < x {
		return i + 1
	}
	return i
}

func reshapeShape(in []int, target []int, allowZero bool) ([]int, error) {
	out := make([]int, len(target))
	infer := -1
	prod := 1
	for i, d := range target {
		switch {
		case d == -1:
			if infer >= 0 {
				return nil, fmt.Errorf("shape %v has two -1 dimensions", target)
			}
			infer = i
			continue
		case d == 0 && !allowZero:
			if i >= len(in) {
				return nil, fmt.Errorf("shape %v copies dimension %d that %v lacks", target, i, in)
			}
			d = in[i]
		case d < -1:
			return nil, fmt.Errorf("bad dimension %d in shape %v", d, target)
		}
		out[i] = d
		prod *= d
	}
	total := graph.NumElements(in)
	if infer >= 0 {
		if prod == 0 || total%prod != 0 {
			return nil, fmt.Errorf("cannot reshape %v to %v", in, target)
		}
		out[infer] = total / prod
	} else if prod != total {
		return nil, fmt.Errorf("cannot reshape %v (%d elements) to %v", in, total, target)
	}
	return out, nil
}

func clamp(v, lo, hi int) int {
	if v < lo {
		return lo
	}
	if v > hi {
		return hi
	}
	return v
}

func slice(p *graph.Params, x, o *graph.Tensor) error {
	st := contiguous(x.Shape)
	base := 0
	src := make([]int, len(st))
	for d := range st {
		base += p.Starts[d] * st[d]
		src[d] = st[d] * p.Steps[d]
	}
	stridedCopy(o, x, o.Shape, src, base)
	return nil
}

func transpose(p *graph.Params, x, o *graph.Tensor) error {
	if transposeRows(p.Perm, x, o) {
		return nil
	}
	st := contiguous(x.Shape)
	src := make([]int, len(st))
	for i, q := range p.Perm {
		src[i] = st[q]
	}
	stridedCopy(o, x, o.Shape, src, 0)
	return nil
}

// transposeRows copies float32 x into o under perm when perm keeps the
// last axis last, i.e. moves whole rows (nn.MultiheadAttention's
// sequence-first [S, B, E] from and back to [B, S, E]): one copy per row
// and no index slices allocated, where stridedCopy allocates a few per
// call. It reports false (nothing done) for other permutations.
func transposeRows(perm []int, x, o *graph.Tensor) bool {
	r := len(perm)
	if x.DType != onnx.Float || o.DType != onnx.Float || r < 2 || r > 4 || len(x.Shape) != r || len(o.Shape) != r || perm[r-1] != r-1 {
		return false
	}
	n := x.Shape[r-1]
	var st [4]int // x's element strides
	st[r-1] = 1
	for d := r - 2; d >= 0; d-- {
		st[d] = st[d+1] * x.Shape[d+1]
	}
	// The output's leading dims (padded to three) and x's strides along them.
	dims, src := [3]int{1, 1, 1}, [3]int{}
	for i := 0; i < r-1; i++ {
		dims[3-(r-1)+i], src[3-(r-1)+i] = o.Shape[i], st[perm[i]]
	}
	off := 0
	for a := 0; a < dims[0]; a++ {
		for b := 0; b < dims[1]; b++ {
			s := a*src[0] + b*src[1]
			for c := 0; c < dims[2]; c++ {
				copy(o.Float32[off:off+n], x.Float32[s:s+n])
				off += n
				s += src[2]
			}
		}
	}
	return true
}

func expand(x, o *graph.Tensor) error {
	stridedCopy(o, x, o.Shape, bstrides(x.Shape, o.Shape), 0)
	return nil
}

// tile copies x's last-axis rows into every output row they repeat into.
func tile(x, o *graph.Tensor) error {
	if o.Len() == 0 {
		return nil
	}
	r := len(o.Shape)
	if r == 0 {
		graph.CopyRange(o, 0, x, 0, 1)
		return nil
	}
	inner, outInner := x.Shape[r-1], o.Shape[r-1]
	idx := make([]int, r-1)
	rows := graph.NumElements(o.Shape[:r-1])
	for row := 0; row < rows; row++ {
		src := 0
		for d, i := range idx {
			src = src*x.Shape[d] + i%x.Shape[d]
		}
		for k := 0; k < outInner; k += inner {
			graph.CopyRange(o, row*outInner+k, x, src*inner, inner)
		}
		for d := r - 2; d >= 0; d-- {
			if idx[d]++; idx[d] < o.Shape[d] {
				break
			}
			idx[d] = 0
		}
	}
	return nil
}

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
			graph.CopyRange(o, (a*k+j)*inner, x, (a*dim+id)*inner, inner)
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
			graph.CopyRange(o, a*row+off, t, a*chunk, chunk)
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
				graph.CopyRange(o, a*chunk, x, a*row+off, chunk)
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
		graph.CopyRange(o, i, v, 0, 1)
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
	graph.CopyRange(o, 0, x, 0, x.Len())
	for m := 0; m < mats; m++ {
		for i := 0; i < rows; i++ {
			for j := 0; j < cols; j++ {
				keep := j-i >= k
				if !p.Upper {
					keep = j-i <= k
				}
				if !keep {
					graph.CopyRange(o, (m*rows+i)*cols+j, zero, 0, 1)
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
	// The range and, when the scale is a positive finite number, the
	// quantisation in one parallel pass over x (its quantisation is the
	// loop below — x/scale, round half to even, + zp, clamp to [0, 255],
	// NaN → 0 — vectorised).
	y := out[0].Uint8
	lo, hi, done := kernels.DynamicQuantizeU8(e.pool(), y, x.Float32, dynQuantParams)
	scale, zp := dynQuantScale(lo, hi)
	out[1].Float32[0] = scale
	out[2].Uint8[0] = uint8(zp)
	if done {
		return nil
	}
	if scale == 0 {
		for i := range y {
			y[i] = uint8(zp)
		}
		return nil
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

// dynQuantScale is DynamicQuantizeLinear's scale and zero point for the
// range [lo, hi] (which includes 0).
func dynQuantScale(lo, hi float32) (scale float32, zp float64) {
	scale = (hi - lo) / 255
	if scale != 0 {
		zp = saturate(roundEven(float64(0-lo/scale)), onnx.Uint8)
	}
	return scale, zp
}

// dynQuantParams gives kernels.DynamicQuantizeU8 the parameters of a
// range whose scale is a positive finite number; dynQuant quantizes the
// others itself.
func dynQuantParams(lo, hi float32) (float32, uint8, bool) {
	scale, zp := dynQuantScale(lo, hi)
	if scale == 0 || math.IsInf(float64(scale), 0) || scale != scale {
		return 0, 0, false
	}
	return scale, uint8(zp), true
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
	if o.DType == onnx.Float && scale.DType == onnx.Float && (zp == nil || zp.DType == x.DType) {
		switch x.DType {
		case onnx.Uint8:
			dequantizeF32(o.Float32, x.Uint8, scale.Float32, zpOf(zp, func(t *graph.Tensor) []uint8 { return t.Uint8 }), x.Shape, p.Axis)
		case onnx.Int8:
			dequantizeF32(o.Float32, x.Int8, scale.Float32, zpOf(zp, func(t *graph.Tensor) []int8 { return t.Int8 }), x.Shape, p.Axis)
		default:
			dequantizeF32(o.Float32, x.Int32, scale.Float32, zpOf(zp, func(t *graph.Tensor) []int32 { return t.Int32 }), x.Shape, p.Axis)
		}
		return nil
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

func zpOf[T any](zp *graph.Tensor, vals func(*graph.Tensor) []T) []T {
	if zp == nil {
		return nil
	}
	return vals(zp)
}

// dequantizeF32 is DequantizeLinear into float32 with typed loops: the
// generic path reads every element, scale and zero point through float64
// accessors (~20 ns an element), which made the int8 text tower's one
// runtime DequantizeLinear (its gathered token embeddings) cost 1.5% of a
// run. The result is rounded as the generic path rounds it: the exact
// difference x − zp to float32, times the float32 scale.
func dequantizeF32[T uint8 | int8 | int32](dst []float32, x []T, scale []float32, zp []T, shape []int, axis int) {
	inner, dim := len(x), 1
	if axis >= 0 {
		inner, dim = graph.NumElements(shape[axis+1:]), shape[axis]
	}
	for base, a := 0, 0; base < len(x); base, a = base+inner, (a+1)%dim {
		s := scale[a]
		var z int64
		if zp != nil {
			z = int64(zp[a])
		}
		d, v := dst[base:base+inner], x[base:base+inner]
		for i, q := range v {
			d[i] = float32(int64(q)-z) * s
		}
	}
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
	// recycled buffers serve. All images' receptive fields are rows of one
	// GEMM (a ViT's patch embedding at batch 8: 392 rows, not 8 GEMMs of
	// 49, whose row panels left the threads idle).
	rowsN := g.n * ohw
	rowsBuf := uint8Scratch.Get().(*[]uint8)
	defer uint8Scratch.Put(rowsBuf)
	if cap(*rowsBuf) < rowsN*kk {
		*rowsBuf = make([]uint8, rowsN*kk)
	}
	rows := (*rowsBuf)[:rowsN*kk]
	cBuf := int32Scratch.Get().(*[]int32)
	defer int32Scratch.Put(cBuf)
	if cap(*cBuf) < rowsN*g.m {
		*cBuf = make([]int32, rowsN*g.m)
	}
	c := (*cBuf)[:rowsN*g.m]
	for b := 0; b < g.n; b++ {
		img := x.Uint8[b*g.c*g.h*g.w:]
		for oy := 0; oy < g.oh; oy++ {
			for ox := 0; ox < g.ow; ox++ {
				g.receptiveField(rows[((b*g.oh+oy)*g.ow+ox)*kk:][:kk], img, oy, ox, xz)
			}
		}
	}
	if err := kernels.GemmU8(e.pool(), rowsN, rows, kk, xz, pb, c, g.m); err != nil {
		return true, err
	}
	for b := 0; b < g.n; b++ {
		dst, src := o.Int32[b*g.m*ohw:], c[b*ohw*g.m:]
		for p := 0; p < ohw; p++ {
			for m := 0; m < g.m; m++ {
				dst[m*ohw+p] = src[p*g.m+m]
			}
		}
	}
	return true, nil
}

// receptiveField writes into row the c·kh·kw inputs of output position
// (oy, ox) of img (one image, c×h×w), in channel, ky, kx order, with pad
// for positions outside the image (the zero point: they add nothing).
// A kernel row inside the image with dilation 1 is one copy.
func (g *convGeom) receptiveField(row, img []uint8, oy, ox int, pad uint8) {
	i := 0
	x0 := ox*g.sw - g.pl
	inX := g.dw == 1 && x0 >= 0 && x0+g.kw <= g.w
	for ci := 0; ci < g.c; ci++ {
		for ky := 0; ky < g.kh; ky++ {
			iy := oy*g.sh - g.pt + ky*g.dh
			switch {
			case iy >= 0 && iy < g.h && inX:
				copy(row[i:i+g.kw], img[(ci*g.h+iy)*g.w+x0:])
			default:
				for kx := 0; kx < g.kw; kx++ {
					ix := x0 + kx*g.dw
					if iy < 0 || iy >= g.h || ix < 0 || ix >= g.w {
						row[i+kx] = pad
					} else {
						row[i+kx] = img[(ci*g.h+iy)*g.w+ix]
					}
				}
			}
			i += g.kw
		}
	}
}
