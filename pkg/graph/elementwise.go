package graph

import (
	"slices"

	"github.com/clip-go/clip/pkg/onnx"
)

// Elementwise chains: what is left of a graph after the pattern fusions
// (or all of it, when an exporter wrote a block no pattern matches) runs
// op by op, and its elementwise operators each read and write a whole
// tensor: a LayerNorm written out as ReduceMean/Sub/Pow/Sqrt/Div/Mul/Add,
// an activation as Mul/Sigmoid/Mul, bias and residual Adds. A chain of
// them producing one tensor becomes one OpElementwise step that runs the
// chain over cache-sized blocks with no intermediate tensors: every value
// is read from memory once and the result written once.

// OpElementwise runs Params.Program, a chain of elementwise float32
// operators, over the output's elements in one pass. Each instruction's
// operands are step inputs or earlier instructions' results; the last
// instruction's result is the output. A step input has the output's shape,
// one value, one value per position of the last axis, or one value per row
// (the output's shape with a last axis of 1): see OperandKind.
const OpElementwise = "clip.Elementwise"

// ElementwiseInstr is one operator of an OpElementwise program.
type ElementwiseInstr struct {
	// Op is the operator: an ONNX one (see ElementwiseOps) or OpQuickGELU,
	// OpGELU, OpGELUTanh.
	Op string
	// Args are its operands in order: i ≥ 0 is the step's input i, i < 0
	// the result of instruction −i−1.
	Args []int
}

// ElementwiseOps are the operators an OpElementwise program runs, with
// their number of operands: the float32 arithmetic and functions whose
// op-by-op kernels compute each element on its own.
var ElementwiseOps = map[string]int{
	"Add": 2, "Sub": 2, "Mul": 2, "Div": 2, "Pow": 2,
	"Sqrt": 1, "Exp": 1, "Erf": 1, "Sigmoid": 1, "Tanh": 1, "Neg": 1, "Abs": 1, "Reciprocal": 1,
	OpQuickGELU: 1, OpGELU: 1, OpGELUTanh: 1,
}

// Operand kinds of an OpElementwise input relative to the output's shape.
const (
	OperandFull     = iota // the output's shape
	OperandScalar          // one value
	OperandLastAxis        // one value per position of the last axis, the same in every row
	OperandRow             // one value per row: the output's shape with a last axis of 1
)

// OperandKind says how an input of shape in is read for an output of
// shape out in an OpElementwise step, and false when it is read neither
// way (another broadcast).
func OperandKind(in, out []int) (int, bool) {
	if len(in) > len(out) {
		return 0, false
	}
	n, total := NumElements(in), NumElements(out)
	// dim is in's axis d right-aligned to out (1 where in has none); it is
	// computed, not built, because the kernel asks on every run.
	off := len(out) - len(in)
	dim := func(d int) int {
		if d < off {
			return 1
		}
		return in[d-off]
	}
	same := func(axes int) bool { // in equals out on the first axes axes
		for d := range axes {
			if dim(d) != out[d] {
				return false
			}
		}
		return true
	}
	switch {
	case n == total && same(len(out)):
		return OperandFull, true
	case n == 1:
		return OperandScalar, true
	case len(out) == 0:
		return 0, false
	}
	last := len(out) - 1
	if dim(last) == out[last] && n == out[last] {
		return OperandLastAxis, true
	}
	if dim(last) == 1 && same(last) {
		return OperandRow, true
	}
	return 0, false
}

// elementwiseStep reports whether s may join an elementwise chain whose
// output has shape out: a float32 operator of ElementwiseOps, its output
// of that shape, every input read as OperandKind allows.
func (f *fuser) elementwiseStep(s *Step, out []int) bool {
	n, ok := ElementwiseOps[s.Node.Op]
	if !ok || f.removed[s] || f.replace[s] != nil || len(s.In) != n || len(s.Out) != 1 ||
		s.Out[0].DType != onnx.Float || !slices.Equal(s.Out[0].Shape, out) || NumElements(out) == 0 {
		return false
	}
	for _, in := range s.In {
		if in == nil || in.DType != onnx.Float {
			return false
		}
		if _, ok := OperandKind(in.Shape, out); !ok {
			return false
		}
	}
	return true
}

// An OpElementwise step holds at most MaxElementwiseSteps instructions
// and MaxElementwiseInputs inputs (its kernel keeps them on the stack); a
// longer chain ends where it would exceed them, and the rest runs as
// chains of their own.
const (
	MaxElementwiseSteps  = 16
	MaxElementwiseInputs = 8
)

// chainInputs counts the distinct values the steps of chain read that no
// step of chain produces.
func chainInputs(chain []*Step) int {
	made := map[*Value]bool{}
	for _, s := range chain {
		made[s.Out[0]] = true
	}
	var in []*Value
	for _, s := range chain {
		for _, v := range s.In {
			if !made[v] && !slices.Contains(in, v) {
				in = append(in, v)
			}
		}
	}
	return len(in)
}

// broadcastArithmetic reports whether s is Add, Sub, Mul or Div with an
// operand broadcast to out (a bias, a per-row mean): alone, it still runs
// faster as a chain of one, whose kernel reads such operands in vector
// blocks, than op by op through the general broadcast loop.
func broadcastArithmetic(s *Step, out []int) bool {
	switch s.Node.Op {
	case "Add", "Sub", "Mul", "Div":
	default:
		return false
	}
	for _, in := range s.In {
		if k, _ := OperandKind(in.Shape, out); k != OperandFull {
			return true
		}
	}
	return false
}

// elementwiseChains replaces each chain of two or more elementwise steps
// (or one broadcast Add, Sub, Mul or Div) computing one tensor with an
// OpElementwise step. A chain grows from its
// last step (its output) up through producers whose output only the
// chain reads and that is not a graph output; it returns how many chains
// it made.
func (f *fuser) elementwiseChains() int {
	made := 0
	order := map[*Step]int{}
	for i, s := range f.p.Steps {
		order[s] = i
	}
	taken := map[*Step]bool{}
	for i := len(f.p.Steps) - 1; i >= 0; i-- {
		root := f.p.Steps[i]
		if taken[root] || !f.elementwiseStep(root, root.Out[0].Shape) {
			continue
		}
		out := root.Out[0].Shape
		group := map[*Step]bool{root: true}
		chain := []*Step{root}
		for grown := true; grown; {
			grown = false
			for _, s := range chain {
				for _, v := range s.In {
					p := f.prod[v]
					if p == nil || group[p] || taken[p] || f.outputs[v] || !f.elementwiseStep(p, out) {
						continue
					}
					inside := true
					for _, c := range f.cons[v] {
						inside = inside && group[c]
					}
					if inside && len(chain) < MaxElementwiseSteps && chainInputs(append(chain[:len(chain):len(chain)], p)) <= MaxElementwiseInputs {
						group[p], grown = true, true
						chain = append(chain, p)
					}
				}
			}
		}
		if len(chain) < 2 && !broadcastArithmetic(root, out) || chainInputs(chain) > MaxElementwiseInputs {
			continue
		}
		slices.SortFunc(chain, func(a, b *Step) int { return order[a] - order[b] })
		result := map[*Value]int{}
		var in []*Value
		prog := make([]ElementwiseInstr, len(chain))
		for j, s := range chain {
			args := make([]int, len(s.In))
			for k, v := range s.In {
				if r, ok := result[v]; ok {
					args[k] = -r - 1
					continue
				}
				at := slices.Index(in, v)
				if at < 0 {
					at = len(in)
					in = append(in, v)
				}
				args[k] = at
			}
			prog[j] = ElementwiseInstr{Op: s.Node.Op, Args: args}
			result[s.Out[0]] = j
			taken[s] = true
			if s != root {
				f.removed[s] = true
			}
		}
		f.replace[root] = &Step{Node: &Node{Name: root.Node.Name + "/fused_Elementwise", Op: OpElementwise},
			In: in, Out: []*Value{root.Out[0]}, P: Params{Program: prog}}
		made++
	}
	return made
}
