package graph

import (
	"context"
	"fmt"

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
	Act        int     // OpLinear/OpQLinear activation (ActNone, ActQuickGELU, ActGELU, ActGELUTanh, ActReLU)
	Heads      int     // OpAttention
	Scale      float32 // OpAttention
	// SeqFirst: OpAttention's Q, K, V and output are [S, B, E], token
	// (b, s) in row s·B+b (nn.MultiheadAttention's layout).
	SeqFirst bool
	// Causal: OpAttention hides the keys after each query (the kernel's
	// causal mode) and has no mask input: its constant mask was the
	// causal one (see causalAttention).
	Causal bool
	// NormHalf: OpLinear's LayerNorm prologue rounds the normalised X to
	// float16, as the float16 LayerNormalization step it replaces stored
	// its output (see normLinear).
	NormHalf bool
	// Program: OpElementwise's operators, in order.
	Program []ElementwiseInstr
}

// Plan is a graph bound to concrete input shapes.
type Plan struct {
	Opset int64
	// Ops defines the operators of the steps (the graph's registry).
	Ops     *Registry
	Values  map[string]*Value
	Steps   []*Step
	Inputs  []*Value // runtime inputs, in graph order
	Outputs []*Value
}

// Evaluator computes a step's outputs (already allocated) from its inputs;
// Bind uses it to fold steps whose inputs are all constant.
type Evaluator func(s *Step, in, out []*Tensor) error

// MaxElements bounds every bound tensor, so absurd shapes fail cleanly:
// 1<<31, or the largest int (1<<31 - 1) where int has 32 bits (386, arm),
// so that the package compiles there.
const MaxElements = 1<<31 - 1 + int(^uint(0)>>63)

// Bind resolves every value's shape for the given input shapes (each
// operator's OpDef.Infer in g.Ops), folds constant sub-graphs with eval,
// and returns the steps left to run.
// known optionally gives the contents of inputs that should be treated
// as constants (their shapes are then taken from the tensors).
// A lazy initializer (see Tensor.Materialize) is made when a step
// folded here reads it.
func (g *Graph) Bind(ctx context.Context, shapes map[string][]int, known map[string]*Tensor, eval Evaluator) (*Plan, error) {
	p := &Plan{Opset: g.Opset, Ops: g.Ops, Values: map[string]*Value{}}
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
		d := g.Ops.Lookup(n.Op)
		if d == nil || d.Infer == nil {
			return nil, fmt.Errorf("%s: operator %s has no shape inference", n, n.Op)
		}
		if err := d.Infer(s, g.Opset); err != nil {
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
		case allKnown(s.Out):
			// Infer gave the contents (Shape needs only its input's
			// shape, Constant its attribute).
		case allConst && eval != nil:
			in := make([]*Tensor, len(s.In))
			for i, v := range s.In {
				if v != nil {
					in[i] = v.Const
					v.Const.Materialize()
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

// allKnown reports whether every output's contents are known.
func allKnown(out []*Value) bool {
	for _, o := range out {
		if o.Const == nil {
			return false
		}
	}
	return len(out) > 0
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
