package graph

import (
	"context"
	"strings"
	"testing"

	"github.com/clip-go/clip/pkg/onnx"
)

// toyOps defines two operators the way pkg/engine/ops defines the real
// ones: "Double" (same shape, two FLOPs per element) and "Dims" (its
// output, the input's rank, is known whatever the input holds).
func toyOps() *Registry {
	r := NewRegistry()
	r.Register(&OpDef{Op: "Double",
		Infer: func(s *Step, _ int64) error {
			s.Out[0].DType, s.Out[0].Shape = s.In[0].DType, append([]int{}, s.In[0].Shape...)
			return nil
		},
		FLOPs: func(s *Step) float64 { return 2 * float64(NumElements(s.Out[0].Shape)) },
	})
	r.Register(&OpDef{Op: "Dims",
		Infer: func(s *Step, _ int64) error {
			s.Out[0].DType, s.Out[0].Shape = onnx.Int64, []int{}
			s.Out[0].Const = &Tensor{DType: onnx.Int64, Shape: []int{}, Int64: []int64{int64(len(s.In[0].Shape))}}
			return nil
		},
	})
	return r
}

// TestBindReadsTheRegistry checks that binding takes shapes from each
// op's Infer, folds a step whose Infer gave its contents (without asking
// the evaluator), and that Plan.FLOPs sums each op's FLOPs.
func TestBindReadsTheRegistry(t *testing.T) {
	g := &onnx.Graph{
		Inputs:  []*onnx.ValueInfo{vi("x", onnx.Float, "n", 3)},
		Outputs: []*onnx.ValueInfo{vi("y", onnx.Float, "n", 3), vi("r", onnx.Int64)},
		Nodes: []*onnx.Node{
			node("double", "Double", []string{"x"}, []string{"y"}),
			node("dims", "Dims", []string{"x"}, []string{"r"}),
		},
	}
	gr, err := FromModel(model(13, g), toyOps())
	if err != nil {
		t.Fatal(err)
	}
	eval := func(s *Step, in, out []*Tensor) error {
		t.Fatalf("evaluator called for %s", s.Node)
		return nil
	}
	p, err := gr.Bind(context.Background(), map[string][]int{"x": {4, 3}}, nil, eval)
	if err != nil {
		t.Fatal(err)
	}
	if len(p.Steps) != 1 || p.Steps[0].Node.Op != "Double" || !sameShape(p.Outputs[0].Shape, []int{4, 3}) {
		t.Fatalf("steps %d, y %v: want only Double, y [4 3]", len(p.Steps), p.Outputs[0].Shape)
	}
	if r := p.Outputs[1].Const; r == nil || r.Int64[0] != 2 {
		t.Fatalf("r = %v, want the constant 2", r)
	}
	if c := p.FLOPs(); c.Total != 24 || c.ByOp["Double"] != 24 || len(c.Ops()) != 1 {
		t.Fatalf("FLOPs %+v, want 24, all Double", c)
	}
	// An operator the registry does not define is refused at load time.
	g.Nodes[0].OpType = "Triple"
	if _, err := FromModel(model(13, g), toyOps()); err == nil || !strings.Contains(err.Error(), "Triple") {
		t.Fatalf("got %v, want an error naming Triple", err)
	}
}

func TestRegisterTwicePanics(t *testing.T) {
	defer func() {
		if recover() == nil {
			t.Fatal("no panic")
		}
	}()
	r := toyOps()
	r.Register(&OpDef{Op: "Double"})
}
