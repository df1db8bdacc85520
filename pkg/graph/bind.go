package graph

import (
	"context"
	"fmt"
	"sort"

	"github.com/clip-go/clip/pkg/onnx"
)

// Value is one named tensor of a bound Plan: its concrete dtype and shape,
// and its contents when they are known before the run (initializers and
// everything folded from them and from input shapes).
type Value struct {
	Name  string
	DType onnx.DataType
	Shape []int
	Const *Tensor
	// Input is true for a runtime graph input.
	Input bool
}

// Step is one node that must run at inference time, with its resolved
// parameters. In holds nil for omitted optional inputs.
type Step struct {
	Node *Node
	In   []*Value
	Out  []*Value
	P    Params
}

// Params are a node's attributes and constant inputs resolved for the
// bound shapes and the model's opset, so kernels need no opset logic.
type Params struct {
	Axis       int   // normalised (non-negative) axis
	Axes       []int // normalised, sorted axes (reductions, Squeeze, Unsqueeze)
	Keep       bool  // keepdims
	Noop       bool  // reduction with no axes that is an identity
	WholeAxis  bool  // Softmax before opset 13: normalise over dims [Axis:]
	Perm       []int
	Starts     []int // Slice: per dimension, full rank
	Steps      []int
	Split      []int
	Shape      []int // target shape (Reshape, Expand, ConstantOfShape)
	Strides    []int // Conv
	Pads       []int // Conv: begins then ends
	Dilations  []int
	Kernel     []int
	Group      int
	Alpha      float32
	Beta       float32
	TransA     bool
	TransB     bool
	Eps        float32
	To         onnx.DataType
	Upper      bool
	SelectLast bool
	Min, Max   float32 // Clip before opset 11
	HasMinMax  bool
	Value      *Tensor // ConstantOfShape fill value
	Act        int     // OpLinear activation (ActNone, ActQuickGELU)
	Heads      int     // OpAttention
	Scale      float32 // OpAttention
}

// Plan is a graph bound to concrete input shapes.
type Plan struct {
	Opset   int64
	Values  map[string]*Value
	Steps   []*Step
	Inputs  []*Value // runtime inputs, in graph order
	Outputs []*Value
}

// Evaluator computes a step's outputs (already allocated) from its inputs;
// Bind uses it to fold steps whose inputs are all constant.
type Evaluator func(s *Step, in, out []*Tensor) error

// MaxElements bounds every bound tensor, so absurd shapes fail cleanly.
const MaxElements = 1 << 31

// Bind resolves every value's shape for the given input shapes, folds
// constant sub-graphs with eval, and returns the steps left to run.
// known optionally gives the contents of inputs that should be treated
// as constants (their shapes are then taken from the tensors).
func (g *Graph) Bind(ctx context.Context, shapes map[string][]int, known map[string]*Tensor, eval Evaluator) (*Plan, error) {
	p := &Plan{Opset: g.Opset, Values: map[string]*Value{}}
	for name, t := range g.Consts {
		p.Values[name] = &Value{Name: name, DType: t.DType, Shape: t.Shape, Const: t}
	}
	for _, in := range g.Inputs {
		v := &Value{Name: in.Name, DType: in.ElemType, Input: true}
		if t, ok := known[in.Name]; ok {
			v.Const, v.Input, v.Shape = t, false, t.Shape
		} else {
			s, ok := shapes[in.Name]
			if !ok {
				return nil, fmt.Errorf("input %q: no shape given", in.Name)
			}
			v.Shape = append([]int{}, s...)
		}
		if err := checkDeclared(in, v.Shape); err != nil {
			return nil, err
		}
		if NumElements(v.Shape) > MaxElements {
			return nil, fmt.Errorf("input %q: shape %v is too large", in.Name, v.Shape)
		}
		p.Values[in.Name] = v
		if v.Input {
			p.Inputs = append(p.Inputs, v)
		}
	}
	for _, n := range g.Nodes {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		s := &Step{Node: n}
		allConst := true
		for _, name := range n.Inputs {
			if name == "" {
				s.In = append(s.In, nil)
				continue
			}
			v := p.Values[name]
			if v == nil {
				return nil, fmt.Errorf("%s: input %q is undefined", n, name)
			}
			if v.Const == nil {
				allConst = false
			}
			s.In = append(s.In, v)
		}
		for _, name := range n.Outputs {
			s.Out = append(s.Out, &Value{Name: name})
		}
		if err := s.infer(g.Opset); err != nil {
			return nil, fmt.Errorf("%s: %w", n, err)
		}
		for _, o := range s.Out {
			if !Supported(o.DType) {
				return nil, fmt.Errorf("%s: output %q has unsupported element type %s", n, o.Name, DTypeName(o.DType))
			}
			for _, d := range o.Shape {
				if d < 0 {
					return nil, fmt.Errorf("%s: output %q would have negative dimension in %v", n, o.Name, o.Shape)
				}
			}
			if NumElements(o.Shape) > MaxElements {
				return nil, fmt.Errorf("%s: output %q shape %v is too large", n, o.Name, o.Shape)
			}
		}
		switch {
		case n.Op == "Shape":
			// Only the input's shape is needed: always a constant.
			s.Out[0].Const = shapeTensor(s)
		case n.Op == "Constant":
			t, err := constantAttr(n)
			if err != nil {
				return nil, fmt.Errorf("%s: %w", n, err)
			}
			s.Out[0].Const = t
		case allConst && eval != nil:
			in := make([]*Tensor, len(s.In))
			for i, v := range s.In {
				if v != nil {
					in[i] = v.Const
				}
			}
			out := make([]*Tensor, len(s.Out))
			for i, o := range s.Out {
				out[i] = NewTensor(o.DType, o.Shape)
			}
			if err := eval(s, in, out); err != nil {
				return nil, fmt.Errorf("%s: folding constants: %w", n, err)
			}
			for i, o := range s.Out {
				o.Const = out[i]
			}
		default:
			p.Steps = append(p.Steps, s)
		}
		for _, o := range s.Out {
			if o.Name != "" {
				p.Values[o.Name] = o
			}
		}
	}
	for _, out := range g.Outputs {
		v := p.Values[out.Name]
		if v == nil {
			return nil, fmt.Errorf("graph output %q is undefined", out.Name)
		}
		p.Outputs = append(p.Outputs, v)
	}
	return p, nil
}

func checkDeclared(in *onnx.ValueInfo, shape []int) error {
	if in.Shape == nil {
		return nil
	}
	if len(in.Shape) != len(shape) {
		return fmt.Errorf("input %q: got rank %d shape %v, the model declares rank %d", in.Name, len(shape), shape, len(in.Shape))
	}
	for i, d := range in.Shape {
		if shape[i] < 0 {
			return fmt.Errorf("input %q: negative dimension in %v", in.Name, shape)
		}
		if d.Value >= 0 && d.Param == "" && int(d.Value) != shape[i] {
			return fmt.Errorf("input %q: dimension %d is %d, the model requires %d", in.Name, i, shape[i], d.Value)
		}
	}
	return nil
}

func shapeTensor(s *Step) *Tensor {
	sh := s.In[0].Shape
	r := len(sh)
	start, end := int(s.Node.Int("start", 0)), int(s.Node.Int("end", int64(r)))
	start, end = clampAxis(start, r), clampAxis(end, r)
	t := &Tensor{DType: onnx.Int64, Shape: []int{0}}
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

func constantAttr(n *Node) (*Tensor, error) {
	if a, ok := n.Attrs["value"]; ok && a.T != nil {
		return FromONNX(a.T)
	}
	if a, ok := n.Attrs["value_float"]; ok {
		return &Tensor{DType: onnx.Float, Shape: []int{}, Float32: []float32{a.F}}, nil
	}
	if a, ok := n.Attrs["value_floats"]; ok {
		return &Tensor{DType: onnx.Float, Shape: []int{len(a.Floats)}, Float32: append([]float32{}, a.Floats...)}, nil
	}
	if a, ok := n.Attrs["value_int"]; ok {
		return &Tensor{DType: onnx.Int64, Shape: []int{}, Int64: []int64{a.I}}, nil
	}
	if a, ok := n.Attrs["value_ints"]; ok {
		return &Tensor{DType: onnx.Int64, Shape: []int{len(a.Ints)}, Int64: append([]int64{}, a.Ints...)}, nil
	}
	return nil, fmt.Errorf("no supported value attribute")
}

// Broadcast returns the numpy-style broadcast of shapes.
func Broadcast(shapes ...[]int) ([]int, error) {
	r := 0
	for _, s := range shapes {
		if len(s) > r {
			r = len(s)
		}
	}
	out := make([]int, r)
	for i := range out {
		out[i] = 1
	}
	for _, s := range shapes {
		off := r - len(s)
		for i, d := range s {
			o := out[off+i]
			switch {
			case d == o || d == 1:
			case o == 1:
				out[off+i] = d
			default:
				return nil, fmt.Errorf("shapes %v cannot be broadcast together", shapes)
			}
		}
	}
	return out, nil
}

func normAxis(a, r int) (int, error) {
	if a < -r || a >= r {
		if r == 0 && (a == 0 || a == -1) {
			return 0, nil
		}
		return 0, fmt.Errorf("axis %d out of range for rank %d", a, r)
	}
	if a < 0 {
		a += r
	}
	return a, nil
}

func normAxes(as []int, r int) ([]int, error) {
	out := make([]int, 0, len(as))
	seen := map[int]bool{}
	for _, a := range as {
		n, err := normAxis(a, r)
		if err != nil {
			return nil, err
		}
		if seen[n] {
			return nil, fmt.Errorf("axis %d repeated", a)
		}
		seen[n] = true
		out = append(out, n)
	}
	sort.Ints(out)
	return out, nil
}

func toInts(xs []int64) []int {
	r := make([]int, len(xs))
	for i, x := range xs {
		r[i] = int(x)
	}
	return r
}

// constInts reads input i as a constant integer list; absent gives nil, false.
func (s *Step) constInts(i int) ([]int, bool, error) {
	if i >= len(s.In) || s.In[i] == nil {
		return nil, false, nil
	}
	v := s.In[i]
	if v.Const == nil {
		return nil, false, fmt.Errorf("input %d (%q) must be known before the run (a constant or derived from input shapes)", i, v.Name)
	}
	xs, err := v.Const.Ints()
	if err != nil {
		return nil, false, fmt.Errorf("input %d (%q): %w", i, v.Name, err)
	}
	return xs, true, nil
}

// axesParam reads axes from the attribute (before fromOpset) or input 1.
func (s *Step) axesParam(opset, fromOpset int64) ([]int, bool, error) {
	if opset >= fromOpset {
		return s.constInts(1)
	}
	if s.Node.Has("axes") {
		return toInts(s.Node.Ints("axes")), true, nil
	}
	return nil, false, nil
}

func (s *Step) need(n int) error {
	if len(s.In) < n {
		return fmt.Errorf("needs at least %d inputs, has %d", n, len(s.In))
	}
	for i := 0; i < n; i++ {
		if s.In[i] == nil {
			return fmt.Errorf("required input %d is missing", i)
		}
	}
	if len(s.Out) == 0 {
		return fmt.Errorf("has no outputs")
	}
	return nil
}

func (s *Step) set(i int, dt onnx.DataType, shape []int) {
	if i < len(s.Out) {
		s.Out[i].DType, s.Out[i].Shape = dt, shape
	}
}

func cp(s []int) []int { return append([]int{}, s...) }

// infer fills the outputs' dtypes and shapes and s.P.
func (s *Step) infer(opset int64) error {
	n := s.Node
	switch n.Op {
	case "Constant":
		t, err := constantAttr(n)
		if err != nil {
			return err
		}
		s.set(0, t.DType, t.Shape)
		return nil
	case "Range":
		if err := s.need(3); err != nil {
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
		s.set(0, s.In[0].DType, []int{cnt})
		return nil
	case "ConstantOfShape":
		if err := s.need(1); err != nil {
			return err
		}
		sh, _, err := s.constInts(0)
		if err != nil {
			return err
		}
		val := &Tensor{DType: onnx.Float, Shape: []int{1}, Float32: []float32{0}}
		if a, ok := n.Attrs["value"]; ok && a.T != nil {
			if val, err = FromONNX(a.T); err != nil {
				return err
			}
			if val.Len() != 1 {
				return fmt.Errorf("value must hold one element")
			}
		}
		s.P.Value, s.P.Shape = val, sh
		s.set(0, val.DType, cp(sh))
		return nil
	}
	if err := s.need(1); err != nil {
		return err
	}
	x := s.In[0]
	r := len(x.Shape)
	switch n.Op {
	case "Identity", "Sqrt", "Exp", "Erf", "Sigmoid", "Tanh", "Neg", "Abs", "Reciprocal", "Not":
		s.set(0, x.DType, cp(x.Shape))
	case "Clip":
		if opset < 11 {
			s.P.HasMinMax = true
			s.P.Min, s.P.Max = n.Float("min", -3.4028234663852886e38), n.Float("max", 3.4028234663852886e38)
		}
		s.set(0, x.DType, cp(x.Shape))
	case "Add", "Sub", "Mul", "Div", "Pow", "Equal", "Less", "Greater":
		if err := s.need(2); err != nil {
			return err
		}
		sh, err := Broadcast(x.Shape, s.In[1].Shape)
		if err != nil {
			return err
		}
		dt := x.DType
		if n.Op == "Equal" || n.Op == "Less" || n.Op == "Greater" {
			dt = onnx.Bool
		}
		s.set(0, dt, sh)
	case "Where":
		if err := s.need(3); err != nil {
			return err
		}
		sh, err := Broadcast(x.Shape, s.In[1].Shape, s.In[2].Shape)
		if err != nil {
			return err
		}
		s.set(0, s.In[1].DType, sh)
	case "Cast":
		s.P.To = onnx.DataType(n.Int("to", 0))
		s.set(0, s.P.To, cp(x.Shape))
	case "MatMul", "MatMulInteger":
		if err := s.need(2); err != nil {
			return err
		}
		sh, err := matmulShape(x.Shape, s.In[1].Shape)
		if err != nil {
			return err
		}
		dt := x.DType
		if n.Op == "MatMulInteger" {
			dt = onnx.Int32
		}
		s.set(0, dt, sh)
	case "Gemm":
		if err := s.need(2); err != nil {
			return err
		}
		a, b := x.Shape, s.In[1].Shape
		if len(a) != 2 || len(b) != 2 {
			return fmt.Errorf("Gemm needs 2-D A and B, got %v and %v", a, b)
		}
		s.P.TransA, s.P.TransB = n.Int("transA", 0) != 0, n.Int("transB", 0) != 0
		s.P.Alpha, s.P.Beta = n.Float("alpha", 1), n.Float("beta", 1)
		m, k := a[0], a[1]
		if s.P.TransA {
			m, k = k, m
		}
		k2, nn := b[0], b[1]
		if s.P.TransB {
			k2, nn = nn, k2
		}
		if k != k2 {
			return fmt.Errorf("Gemm inner dimensions differ: %v and %v", a, b)
		}
		if len(s.In) > 2 && s.In[2] != nil {
			if _, err := Broadcast(s.In[2].Shape, []int{m, nn}); err != nil {
				return fmt.Errorf("C: %w", err)
			}
		}
		s.set(0, x.DType, []int{m, nn})
	case "Conv", "ConvInteger":
		if err := s.need(2); err != nil {
			return err
		}
		if err := s.convParams(); err != nil {
			return err
		}
		dt := x.DType
		if n.Op == "ConvInteger" {
			dt = onnx.Int32
		}
		sh := []int{x.Shape[0], s.In[1].Shape[0]}
		nd := len(s.P.Kernel)
		for i := 0; i < nd; i++ {
			in := x.Shape[2+i] + s.P.Pads[i] + s.P.Pads[nd+i]
			ek := s.P.Dilations[i]*(s.P.Kernel[i]-1) + 1
			o := (in-ek)/s.P.Strides[i] + 1
			if in < ek {
				o = 0
			}
			sh = append(sh, o)
		}
		s.set(0, dt, sh)
	case "ReduceMean", "ReduceSum", "ReduceL2", "ReduceMax":
		from := int64(18)
		if n.Op == "ReduceSum" {
			from = 13
		}
		axes, has, err := s.axesParam(opset, from)
		if err != nil {
			return err
		}
		s.P.Keep = n.Int("keepdims", 1) != 0
		if !has || len(axes) == 0 {
			if n.Int("noop_with_empty_axes", 0) != 0 {
				s.P.Noop = true
				s.set(0, x.DType, cp(x.Shape))
				return nil
			}
			axes = make([]int, r)
			for i := range axes {
				axes[i] = i
			}
		}
		if s.P.Axes, err = normAxes(axes, r); err != nil {
			return err
		}
		s.set(0, x.DType, reducedShape(x.Shape, s.P.Axes, s.P.Keep))
	case "ArgMax":
		a, err := normAxis(int(n.Int("axis", 0)), r)
		if err != nil {
			return err
		}
		s.P.Axis, s.P.Axes = a, []int{a}
		s.P.Keep = n.Int("keepdims", 1) != 0
		s.P.SelectLast = n.Int("select_last_index", 0) != 0
		s.set(0, onnx.Int64, reducedShape(x.Shape, s.P.Axes, s.P.Keep))
	case "Softmax":
		def := int64(-1)
		if opset < 13 {
			def = 1
			s.P.WholeAxis = true
		}
		a, err := normAxis(int(n.Int("axis", def)), r)
		if err != nil {
			return err
		}
		s.P.Axis = a
		s.set(0, x.DType, cp(x.Shape))
	case "LayerNormalization":
		if err := s.need(2); err != nil {
			return err
		}
		a, err := normAxis(int(n.Int("axis", -1)), r)
		if err != nil {
			return err
		}
		s.P.Axis, s.P.Eps = a, n.Float("epsilon", 1e-5)
		s.set(0, x.DType, cp(x.Shape))
		st := cp(x.Shape)
		for i := a; i < r; i++ {
			st[i] = 1
		}
		stash := onnx.DataType(n.Int("stash_type", 1))
		s.set(1, stash, st)
		s.set(2, stash, cp(st))
	case "Gather":
		if err := s.need(2); err != nil {
			return err
		}
		a, err := normAxis(int(n.Int("axis", 0)), r)
		if err != nil {
			return err
		}
		if r == 0 {
			return fmt.Errorf("cannot gather from a scalar")
		}
		s.P.Axis = a
		sh := append(append(cp(x.Shape[:a]), s.In[1].Shape...), x.Shape[a+1:]...)
		s.set(0, x.DType, sh)
	case "Slice":
		return s.sliceParams(opset)
	case "Concat":
		a, err := normAxis(int(n.Int("axis", 0)), r)
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
		s.set(0, x.DType, sh)
	case "Split":
		a, err := normAxis(int(n.Int("axis", 0)), r)
		if err != nil {
			return err
		}
		s.P.Axis = a
		var split []int
		if opset >= 13 {
			split, _, err = s.constInts(1)
			if err != nil {
				return err
			}
		} else if n.Has("split") {
			split = toInts(n.Ints("split"))
		}
		dim := x.Shape[a]
		if split == nil {
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
					split = append(split, c)
				}
			} else {
				if dim%k != 0 {
					return fmt.Errorf("dimension %d is not divisible into %d outputs", dim, k)
				}
				for i := 0; i < k; i++ {
					split = append(split, dim/k)
				}
			}
		}
		if len(split) != len(s.Out) {
			return fmt.Errorf("split has %d parts for %d outputs", len(split), len(s.Out))
		}
		sum := 0
		for _, c := range split {
			if c < 0 {
				return fmt.Errorf("negative split %v", split)
			}
			sum += c
		}
		if sum != dim {
			return fmt.Errorf("split %v does not add up to dimension %d", split, dim)
		}
		s.P.Split = split
		for i, c := range split {
			sh := cp(x.Shape)
			sh[a] = c
			s.set(i, x.DType, sh)
		}
	case "Reshape":
		target, _, err := s.constInts(1)
		if err != nil {
			return err
		}
		if target == nil {
			return fmt.Errorf("shape input is missing")
		}
		sh, err := reshapeShape(x.Shape, target, n.Int("allowzero", 0) != 0)
		if err != nil {
			return err
		}
		s.set(0, x.DType, sh)
	case "Transpose":
		perm := toInts(n.Ints("perm"))
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
		s.set(0, x.DType, sh)
	case "Squeeze":
		axes, has, err := s.axesParam(opset, 13)
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
		if s.P.Axes, err = normAxes(axes, r); err != nil {
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
		s.set(0, x.DType, sh)
	case "Unsqueeze":
		axes, has, err := s.axesParam(opset, 13)
		if err != nil {
			return err
		}
		if !has {
			return fmt.Errorf("axes are missing")
		}
		or := r + len(axes)
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
		s.set(0, x.DType, sh)
	case "Flatten":
		a := int(n.Int("axis", 1))
		if a < 0 {
			a += r
		}
		if a < 0 || a > r {
			return fmt.Errorf("axis %d out of range for rank %d", n.Int("axis", 1), r)
		}
		s.set(0, x.DType, []int{NumElements(x.Shape[:a]), NumElements(x.Shape[a:])})
	case "Expand":
		target, _, err := s.constInts(1)
		if err != nil {
			return err
		}
		sh, err := Broadcast(x.Shape, target)
		if err != nil {
			return err
		}
		s.set(0, x.DType, sh)
	case "Shape":
		t := shapeTensor(s)
		s.set(0, onnx.Int64, t.Shape)
	case "Trilu":
		if r < 2 {
			return fmt.Errorf("needs rank ≥ 2, got %v", x.Shape)
		}
		s.P.Upper = n.Int("upper", 1) != 0
		s.set(0, x.DType, cp(x.Shape))
	case "DynamicQuantizeLinear":
		s.set(0, onnx.Uint8, cp(x.Shape))
		s.set(1, onnx.Float, []int{})
		s.set(2, onnx.Uint8, []int{})
	case "QuantizeLinear", "DequantizeLinear":
		if err := s.need(2); err != nil {
			return err
		}
		a := int(n.Int("axis", 1))
		if len(s.In[1].Shape) == 1 && NumElements(s.In[1].Shape) > 1 {
			var err error
			if a, err = normAxis(a, r); err != nil {
				return err
			}
			if x.Shape[a] != s.In[1].Shape[0] {
				return fmt.Errorf("per-axis scale of length %d does not match axis %d of %v", s.In[1].Shape[0], a, x.Shape)
			}
		} else {
			a = -1 // per-tensor
		}
		s.P.Axis = a
		if n.Op == "QuantizeLinear" {
			dt := onnx.Uint8
			if len(s.In) > 2 && s.In[2] != nil {
				dt = s.In[2].DType
			}
			s.set(0, dt, cp(x.Shape))
		} else {
			s.set(0, s.In[1].DType, cp(x.Shape))
		}
	default:
		return fmt.Errorf("operator %s has no shape inference", n.Op)
	}
	return nil
}

func ceil(x float64) float64 {
	i := float64(int64(x))
	if i < x {
		return i + 1
	}
	return i
}

func reducedShape(sh []int, axes []int, keep bool) []int {
	out := []int{}
	j := 0
	for i, d := range sh {
		if j < len(axes) && axes[j] == i {
			j++
			if keep {
				out = append(out, 1)
			}
			continue
		}
		out = append(out, d)
	}
	return out
}

func matmulShape(a, b []int) ([]int, error) {
	if len(a) == 0 || len(b) == 0 {
		return nil, fmt.Errorf("MatMul of a scalar")
	}
	aa, bb := a, b
	if len(a) == 1 {
		aa = []int{1, a[0]}
	}
	if len(b) == 1 {
		bb = []int{b[0], 1}
	}
	if aa[len(aa)-1] != bb[len(bb)-2] {
		return nil, fmt.Errorf("MatMul inner dimensions differ: %v and %v", a, b)
	}
	batch, err := Broadcast(aa[:len(aa)-2], bb[:len(bb)-2])
	if err != nil {
		return nil, err
	}
	out := append(batch, aa[len(aa)-2], bb[len(bb)-1])
	if len(a) == 1 {
		out = append(out[:len(out)-2], out[len(out)-1])
	}
	if len(b) == 1 {
		out = out[:len(out)-1]
	}
	return out, nil
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
	total := NumElements(in)
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

func (s *Step) sliceParams(opset int64) error {
	n, x := s.Node, s.In[0]
	r := len(x.Shape)
	var starts, ends, axes, steps []int
	if opset < 10 {
		starts, ends, axes = toInts(n.Ints("starts")), toInts(n.Ints("ends")), toInts(n.Ints("axes"))
	} else {
		var err error
		if starts, _, err = s.constInts(1); err != nil {
			return err
		}
		if ends, _, err = s.constInts(2); err != nil {
			return err
		}
		if axes, _, err = s.constInts(3); err != nil {
			return err
		}
		if steps, _, err = s.constInts(4); err != nil {
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
	s.set(0, x.DType, sh)
	return nil
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

func (s *Step) convParams() error {
	n, x, w := s.Node, s.In[0], s.In[1]
	if len(x.Shape) < 3 || len(w.Shape) != len(x.Shape) {
		return fmt.Errorf("input %v and weights %v need matching rank ≥ 3", x.Shape, w.Shape)
	}
	nd := len(x.Shape) - 2
	s.P.Group = int(n.Int("group", 1))
	if s.P.Group <= 0 || x.Shape[1] != w.Shape[1]*s.P.Group || w.Shape[0]%s.P.Group != 0 {
		return fmt.Errorf("channels of input %v, weights %v and group %d do not agree", x.Shape, w.Shape, s.P.Group)
	}
	s.P.Kernel = cp(w.Shape[2:])
	if ks := n.Ints("kernel_shape"); ks != nil {
		if len(ks) != nd {
			return fmt.Errorf("kernel_shape %v does not match rank", ks)
		}
		for i, k := range ks {
			if int(k) != s.P.Kernel[i] {
				return fmt.Errorf("kernel_shape %v disagrees with weights %v", ks, w.Shape)
			}
		}
	}
	ones := func() []int {
		r := make([]int, nd)
		for i := range r {
			r[i] = 1
		}
		return r
	}
	s.P.Strides, s.P.Dilations = ones(), ones()
	if v := n.Ints("strides"); v != nil {
		s.P.Strides = toInts(v)
	}
	if v := n.Ints("dilations"); v != nil {
		s.P.Dilations = toInts(v)
	}
	s.P.Pads = make([]int, 2*nd)
	if v := n.Ints("pads"); v != nil {
		s.P.Pads = toInts(v)
	}
	if len(s.P.Strides) != nd || len(s.P.Dilations) != nd || len(s.P.Pads) != 2*nd {
		return fmt.Errorf("strides, dilations or pads do not match %d spatial dims", nd)
	}
	for i := 0; i < nd; i++ {
		if s.P.Strides[i] <= 0 || s.P.Dilations[i] <= 0 || s.P.Pads[i] < 0 || s.P.Pads[nd+i] < 0 {
			return fmt.Errorf("bad strides %v, dilations %v or pads %v", s.P.Strides, s.P.Dilations, s.P.Pads)
		}
	}
	switch ap := n.Str("auto_pad", "NOTSET"); ap {
	case "NOTSET", "":
	case "VALID":
		for i := range s.P.Pads {
			s.P.Pads[i] = 0
		}
	case "SAME_UPPER", "SAME_LOWER":
		for i := 0; i < nd; i++ {
			in := x.Shape[2+i]
			out := (in + s.P.Strides[i] - 1) / s.P.Strides[i]
			total := (out-1)*s.P.Strides[i] + s.P.Dilations[i]*(s.P.Kernel[i]-1) + 1 - in
			if total < 0 {
				total = 0
			}
			if ap == "SAME_UPPER" {
				s.P.Pads[i], s.P.Pads[nd+i] = total/2, total-total/2
			} else {
				s.P.Pads[i], s.P.Pads[nd+i] = total-total/2, total/2
			}
		}
	default:
		return fmt.Errorf("unknown auto_pad %q", ap)
	}
	return nil
}
