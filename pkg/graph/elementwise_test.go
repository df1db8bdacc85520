package graph

import (
	"slices"
	"testing"

	"github.com/clip-go/clip/pkg/onnx"
)

// TestOperandKind checks how each input shape is read for an output.
func TestOperandKind(t *testing.T) {
	out := []int{2, 3, 4}
	for _, c := range []struct {
		in   []int
		kind int
		ok   bool
	}{
		{[]int{2, 3, 4}, OperandFull, true},
		{[]int{1, 2, 3, 4}, 0, false}, // a higher rank
		{[]int{}, OperandScalar, true},
		{[]int{1, 1, 1}, OperandScalar, true},
		{[]int{4}, OperandLastAxis, true},
		{[]int{1, 1, 4}, OperandLastAxis, true},
		{[]int{2, 3, 1}, OperandRow, true},
		{[]int{3, 4}, 0, false},    // the same for every batch: another broadcast
		{[]int{2, 1, 4}, 0, false}, // per batch and column
		{[]int{3, 1}, 0, false},
	} {
		kind, ok := OperandKind(c.in, out)
		if ok != c.ok || ok && kind != c.kind {
			t.Errorf("OperandKind(%v, %v) = %d, %v; want %d, %v", c.in, out, kind, ok, c.kind, c.ok)
		}
	}
}

// TestElementwiseChains fuses the elementwise steps computing one tensor
// into one OpElementwise step (a broadcast Add alone too), and stops a
// chain where a value is also read outside it, is a graph output, or is
// broadcast another way.
func TestElementwiseChains(t *testing.T) {
	sh := []int{2, 3, 4}
	val := func(name string, shape []int) *Value { return &Value{Name: name, DType: onnx.Float, Shape: shape} }
	cnst := func(name string, shape []int) *Value {
		v := val(name, shape)
		v.Const = NewTensor(onnx.Float, shape)
		return v
	}
	step := func(op string, out *Value, in ...*Value) *Step {
		return &Step{Node: &Node{Name: out.Name, Op: op}, In: in, Out: []*Value{out}}
	}
	x := val("x", sh)
	x.Input = true
	t.Run("QuickGELU written out, LayerNorm's tail", func(t *testing.T) {
		// y = (x·σ(1.702·x) − mean) · gamma, mean per row, gamma per column.
		a, s, g, d, y := val("a", sh), val("s", sh), val("g", sh), val("d", sh), val("y", sh)
		mean := val("mean", []int{2, 3, 1})
		mean.Input = true
		p := &Plan{Inputs: []*Value{x, mean}, Outputs: []*Value{y}, Steps: []*Step{
			step("Mul", a, x, cnst("k", nil)), step("Sigmoid", s, a), step("Mul", g, x, s),
			step("Sub", d, g, mean), step("Mul", y, d, cnst("gamma", []int{4})),
		}}
		made := p.FuseGeneric()
		if made["Elementwise"] != 1 || len(p.Steps) != 1 || p.Steps[0].Node.Op != OpElementwise {
			t.Fatalf("fusions %v, steps %d", made, len(p.Steps))
		}
		e := p.Steps[0]
		var ops []string
		for _, ins := range e.P.Program {
			ops = append(ops, ins.Op)
		}
		if !slices.Equal(ops, []string{"Mul", "Sigmoid", "Mul", "Sub", "Mul"}) || len(e.In) != 4 || e.In[0] != x || e.Out[0] != y {
			t.Fatalf("program %v, inputs %d (x first: %v)", ops, len(e.In), e.In[0] == x)
		}
		// x is read twice as input 0; the second Mul reads the Sigmoid's result.
		if !slices.Equal(e.P.Program[0].Args, []int{0, 1}) || !slices.Equal(e.P.Program[2].Args, []int{0, -2}) {
			t.Errorf("operands %v, %v", e.P.Program[0].Args, e.P.Program[2].Args)
		}
	})
	t.Run("one step", func(t *testing.T) {
		// A bias Add alone becomes a chain of one; an Add of two tensors
		// of the output's shape stays as it is.
		z, y, w := val("z", sh), val("y", sh), val("w", sh)
		w.Input = true
		p := &Plan{Inputs: []*Value{x, w}, Outputs: []*Value{y, z}, Steps: []*Step{
			step("Add", y, x, cnst("bias", []int{4})), step("Add", z, x, w),
		}}
		made := p.FuseGeneric()
		if made["Elementwise"] != 1 || p.Steps[0].Node.Op != OpElementwise || p.Steps[1].Node.Op != "Add" {
			t.Fatalf("fusions %v, steps %s %s", made, p.Steps[0].Node.Op, p.Steps[1].Node.Op)
		}
	})
	t.Run("long", func(t *testing.T) {
		// 20 Negs in a row: a chain of MaxElementwiseSteps, then one of
		// the 4 before it.
		p := &Plan{Inputs: []*Value{x}}
		prev := x
		for i := range 20 {
			v := val("n"+string(rune('a'+i)), sh)
			p.Steps = append(p.Steps, step("Neg", v, prev))
			prev = v
		}
		p.Outputs = []*Value{prev}
		made := p.FuseGeneric()
		if made["Elementwise"] != 2 || len(p.Steps) != 2 || len(p.Steps[0].P.Program) != 4 || len(p.Steps[1].P.Program) != MaxElementwiseSteps {
			t.Fatalf("fusions %v, %d steps", made, len(p.Steps))
		}
	})
	t.Run("boundaries", func(t *testing.T) {
		// a = −x is also a graph output; b = |a| also feeds a ReduceMean;
		// c = b + w broadcasts w [3, 4] another way; y = √(c) · 2.
		a, b, c, r, q, y := val("a", sh), val("b", sh), val("c", sh), val("r", []int{2, 3, 1}), val("q", sh), val("y", sh)
		p := &Plan{Inputs: []*Value{x}, Outputs: []*Value{a, y, r}, Steps: []*Step{
			step("Neg", a, x), step("Abs", b, a), step("ReduceMean", r, b),
			step("Add", c, b, cnst("w", []int{3, 4})), step("Sqrt", q, c), step("Mul", y, q, cnst("two", nil)),
		}}
		made := p.FuseGeneric()
		var ops []string
		for _, s := range p.Steps {
			ops = append(ops, s.Node.Op)
		}
		if made["Elementwise"] != 1 || !slices.Equal(ops, []string{"Neg", "Abs", "ReduceMean", "Add", OpElementwise}) {
			t.Fatalf("fusions %v, steps %v", made, ops)
		}
		if e := p.Steps[4]; len(e.P.Program) != 2 || e.In[0] != c {
			t.Errorf("chain %+v", e.P.Program)
		}
	})
}
