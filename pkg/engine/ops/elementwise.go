package ops

import (
	"fmt"
	"math"
	"sync"

	"github.com/clip-go/clip/pkg/engine/kernels"
	"github.com/clip-go/clip/pkg/graph"
)

func init() {
	define(def{OpDef: graph.OpDef{Op: graph.OpElementwise},
		eval: func(c call) error { return elementwise(c.e, &c.s.P, c.in, c.out[0]) }})
}

// elementwiseBlock is how many values an OpElementwise program runs at a
// time: one block per instruction and per broadcast input stays in L1
// (and it is a multiple of every vector kernel's step, so each value
// takes the same vector or scalar route as in a whole-tensor call).
const elementwiseBlock = 256

// elementwise runs an OpElementwise step: its program over the output in
// blocks, each instruction computing exactly what its op-by-op kernel
// computes (the same float32 rounding, the same vector kernels), so the
// fused step's output equals the op-by-op chain's bit for bit.
func elementwise(e *Env, p *graph.Params, in []*graph.Tensor, o *graph.Tensor) error {
	prog := p.Program
	if len(prog) == 0 {
		return fmt.Errorf("Elementwise: empty program")
	}
	if len(in) > graph.MaxElementwiseInputs || len(prog) > graph.MaxElementwiseSteps {
		return fmt.Errorf("Elementwise: %d inputs and %d instructions, at most %d and %d", len(in), len(prog), graph.MaxElementwiseInputs, graph.MaxElementwiseSteps)
	}
	run := elementwiseRuns.Get().(*elementwiseRun)
	defer elementwiseRuns.Put(run)
	fn := run.fn
	*run = elementwiseRun{prog: prog, in: in, out: o.Float32, last: 1, fn: fn}
	if run.fn == nil {
		run.fn = run.blocks // bound once per descriptor: the pool reuses it
	}
	defer func() { *run = elementwiseRun{fn: run.fn} }()
	for i, t := range in {
		k, ok := graph.OperandKind(t.Shape, o.Shape)
		if !ok || len(t.Float32) != t.Len() {
			return fmt.Errorf("Elementwise: input %d %v (%s) does not broadcast to %v as a chain reads it", i, t.Shape, graph.DTypeName(t.DType), o.Shape)
		}
		run.kinds[i] = k
	}
	for j, ins := range prog {
		if n, ok := graph.ElementwiseOps[ins.Op]; !ok || n != len(ins.Args) {
			return fmt.Errorf("Elementwise: instruction %d: %s with %d operands", j, ins.Op, len(ins.Args))
		}
		for _, a := range ins.Args {
			if a >= len(in) || a < 0 && -a-1 >= j {
				return fmt.Errorf("Elementwise: instruction %d reads operand %d", j, a)
			}
		}
		c, ok := elementwiseCodes[ins.Op]
		if !ok {
			return fmt.Errorf("Elementwise: instruction %d: no kernel for %s", j, ins.Op)
		}
		run.codes[j] = c
	}
	if len(o.Shape) > 0 {
		run.last = o.Shape[len(o.Shape)-1]
	}
	blocks := (len(o.Float32) + elementwiseBlock - 1) / elementwiseBlock
	e.pool().Parallel(blocks, 16, run.fn)
	return nil
}

// elementwiseRuns recycles the calls' descriptors, with their bound
// blocks method, so that a run allocates nothing for them.
var elementwiseRuns = sync.Pool{New: func() any { return new(elementwiseRun) }}

// elementwiseRun is one OpElementwise call.
type elementwiseRun struct {
	prog  []graph.ElementwiseInstr
	codes [graph.MaxElementwiseSteps]elementwiseCode // prog's operators
	in    []*graph.Tensor
	kinds [graph.MaxElementwiseInputs]int // how each input is read (graph.OperandKind)
	out   []float32
	last  int // the output's last-axis length
	fn    func(lo, hi int)
}

// blocks runs the program over blocks [lo, hi) of the output.
func (r *elementwiseRun) blocks(lo, hi int) {
	const B = elementwiseBlock
	buf := float32Scratch.Get().(*[]float32)
	defer float32Scratch.Put(buf)
	need := (len(r.prog) + len(r.in)) * B
	if cap(*buf) < need {
		*buf = make([]float32, need)
	}
	regs, gather := (*buf)[:len(r.prog)*B], (*buf)[len(r.prog)*B:need]
	for i, t := range r.in {
		if r.kinds[i] == graph.OperandScalar { // the same in every block
			g := gather[i*B : (i+1)*B]
			for j := range g {
				g[j] = t.Float32[0]
			}
		}
	}
	var ops [graph.MaxElementwiseInputs][]float32 // the inputs' values of this block
	for blk := lo; blk < hi; blk++ {
		i0 := blk * B
		m := min(B, len(r.out)-i0)
		for i, t := range r.in {
			x, g := t.Float32, gather[i*B:i*B+m]
			switch r.kinds[i] {
			case graph.OperandFull:
				ops[i] = x[i0 : i0+m]
			case graph.OperandScalar:
				ops[i] = g
			case graph.OperandLastAxis:
				for j := 0; j < m; {
					c := (i0 + j) % r.last
					j += copy(g[j:], x[c:])
				}
				ops[i] = g
			case graph.OperandRow:
				for j := 0; j < m; {
					row, c := (i0+j)/r.last, (i0+j)%r.last
					run := g[j:min(m, j+r.last-c)]
					for k := range run {
						run[k] = x[row]
					}
					j += len(run)
				}
				ops[i] = g
			}
		}
		for j, ins := range r.prog {
			dst := regs[j*B : j*B+m]
			if j == len(r.prog)-1 {
				dst = r.out[i0 : i0+m]
			}
			arg := func(a int) []float32 {
				if a >= 0 {
					return ops[a]
				}
				return regs[(-a-1)*B : (-a-1)*B+m]
			}
			var x, y []float32
			x = arg(ins.Args[0])
			if len(ins.Args) > 1 {
				y = arg(ins.Args[1])
			}
			elementwiseOp(r.codes[j], dst, x, y)
		}
	}
}

// elementwiseCode names an OpElementwise operator without a string
// comparison per block.
type elementwiseCode uint8

const (
	ewAdd elementwiseCode = iota
	ewSub
	ewMul
	ewDiv
	ewPow
	ewSqrt
	ewExp
	ewErf
	ewSigmoid
	ewTanh
	ewNeg
	ewAbs
	ewReciprocal
	ewQuickGELU
	ewGELU
	ewGELUTanh
)

var elementwiseCodes = map[string]elementwiseCode{
	"Add": ewAdd, "Sub": ewSub, "Mul": ewMul, "Div": ewDiv, "Pow": ewPow, "Sqrt": ewSqrt, "Exp": ewExp,
	"Erf": ewErf, "Sigmoid": ewSigmoid, "Tanh": ewTanh, "Neg": ewNeg, "Abs": ewAbs, "Reciprocal": ewReciprocal,
	graph.OpQuickGELU: ewQuickGELU, graph.OpGELU: ewGELU, graph.OpGELUTanh: ewGELUTanh,
}

// elementwiseOp computes dst = op(x[, y]) in float32: the definition both
// the op-by-op unary operators and the chains run (arith and pow share
// kernels.Binary and powF32 with it), so a chain equals its operators.
func elementwiseOp(op elementwiseCode, dst, x, y []float32) {
	x = x[:len(dst)]
	if y != nil {
		y = y[:len(dst)]
	}
	switch op {
	case ewAdd:
		kernels.Binary(kernels.BinaryAdd, dst, x, y)
	case ewSub:
		kernels.Binary(kernels.BinarySub, dst, x, y)
	case ewMul:
		kernels.Binary(kernels.BinaryMul, dst, x, y)
	case ewDiv:
		kernels.Binary(kernels.BinaryDiv, dst, x, y)
	case ewPow:
		for i := range dst {
			dst[i] = powF32(x[i], y[i])
		}
	case ewSqrt:
		for i, v := range x {
			dst[i] = float32(math.Sqrt(float64(v)))
		}
	case ewExp:
		kernels.Exp(dst, x)
	case ewErf:
		kernels.Erf(dst, x)
	case ewSigmoid:
		kernels.Sigmoid(dst, x)
	case ewTanh:
		for i, v := range x {
			dst[i] = float32(math.Tanh(float64(v)))
		}
	case ewNeg:
		for i, v := range x {
			dst[i] = -v
		}
	case ewAbs:
		for i, v := range x {
			dst[i] = float32(math.Abs(float64(v)))
		}
	case ewReciprocal:
		for i, v := range x {
			dst[i] = 1 / v
		}
	case ewQuickGELU:
		kernels.QuickGELU(dst, x)
	case ewGELU:
		kernels.GELU(dst, x)
	case ewGELUTanh:
		kernels.GELUTanh(dst, x)
	}
}
