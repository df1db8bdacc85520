package ops

import (
	"fmt"
	"math"

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
	var kinds [8]int
	if len(in) > len(kinds) {
		return fmt.Errorf("Elementwise: %d inputs, at most %d", len(in), len(kinds))
	}
	for i, t := range in {
		k, ok := graph.OperandKind(t.Shape, o.Shape)
		if !ok || len(t.Float32) != t.Len() {
			return fmt.Errorf("Elementwise: input %d %v (%s) does not broadcast to %v as a chain reads it", i, t.Shape, graph.DTypeName(t.DType), o.Shape)
		}
		kinds[i] = k
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
	}
	last := 1
	if len(o.Shape) > 0 {
		last = o.Shape[len(o.Shape)-1]
	}
	run := elementwiseRun{prog: prog, in: in, kinds: kinds[:len(in)], out: o.Float32, last: last}
	blocks := (len(o.Float32) + elementwiseBlock - 1) / elementwiseBlock
	e.pool().Parallel(blocks, 16, run.blocks)
	return nil
}

// elementwiseRun is one OpElementwise call.
type elementwiseRun struct {
	prog  []graph.ElementwiseInstr
	in    []*graph.Tensor
	kinds []int
	out   []float32
	last  int // the output's last-axis length
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
	var ops [8][]float32 // the inputs' values of this block
	for blk := lo; blk < hi; blk++ {
		i0 := blk * B
		m := min(B, len(r.out)-i0)
		for i, t := range r.in {
			x, g := t.Float32, gather[i*B:i*B+m]
			switch r.kinds[i] {
			case graph.OperandFull:
				ops[i] = x[i0 : i0+m]
			case graph.OperandScalar:
				for j := range g {
					g[j] = x[0]
				}
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
			elementwiseOp(ins.Op, dst, x, y)
		}
	}
}

// elementwiseOp computes dst = op(x[, y]) as the op-by-op kernels do (see
// arith, pow and unary for float32).
func elementwiseOp(op string, dst, x, y []float32) {
	x = x[:len(dst)]
	if y != nil {
		y = y[:len(dst)]
	}
	if bop, ok := binaryOps[op]; ok {
		kernels.Binary(bop, dst, x, y)
		return
	}
	switch op {
	case "Pow":
		for i := range dst {
			switch y[i] {
			case 2:
				dst[i] = x[i] * x[i]
			case 0.5:
				dst[i] = float32(math.Sqrt(float64(x[i])))
			default:
				dst[i] = float32(math.Pow(float64(x[i]), float64(y[i])))
			}
		}
	case "Sqrt":
		for i, v := range x {
			dst[i] = float32(math.Sqrt(float64(v)))
		}
	case "Exp":
		kernels.Exp(dst, x)
	case "Erf":
		kernels.Erf(dst, x)
	case "Sigmoid":
		kernels.Sigmoid(dst, x)
	case "Tanh":
		for i, v := range x {
			dst[i] = float32(math.Tanh(float64(v)))
		}
	case "Neg":
		for i, v := range x {
			dst[i] = -v
		}
	case "Abs":
		for i, v := range x {
			dst[i] = float32(math.Abs(float64(v)))
		}
	case "Reciprocal":
		for i, v := range x {
			dst[i] = 1 / v
		}
	case graph.OpQuickGELU:
		kernels.QuickGELU(dst, x)
	case graph.OpGELU:
		kernels.GELU(dst, x)
	case graph.OpGELUTanh:
		kernels.GELUTanh(dst, x)
	}
}
