package graph

import (
	"context"
	"math"
	"strings"
	"testing"

	"github.com/clip-go/clip/pkg/onnx"
)

func vi(name string, dt onnx.DataType, dims ...any) *onnx.ValueInfo {
	v := &onnx.ValueInfo{Name: name, ElemType: dt, Shape: []onnx.Dim{}}
	for _, d := range dims {
		switch x := d.(type) {
		case int:
			v.Shape = append(v.Shape, onnx.Dim{Value: int64(x)})
		case string:
			v.Shape = append(v.Shape, onnx.Dim{Value: -1, Param: x})
		}
	}
	return v
}

func node(name, op string, in, out []string, attrs ...*onnx.Attribute) *onnx.Node {
	return &onnx.Node{Name: name, OpType: op, Inputs: in, Outputs: out, Attributes: attrs}
}

func model(opset int64, g *onnx.Graph) *onnx.Model {
	return &onnx.Model{IRVersion: 8, OpsetImports: []onnx.OpsetImport{{Version: opset}}, Graph: g}
}

func TestCycleIsAnErrorNamingTheNode(t *testing.T) {
	g := &onnx.Graph{
		Inputs:  []*onnx.ValueInfo{vi("x", onnx.Float, 2)},
		Outputs: []*onnx.ValueInfo{vi("b", onnx.Float, 2)},
		Nodes: []*onnx.Node{
			node("first", "Add", []string{"x", "b"}, []string{"a"}),
			node("second", "Neg", []string{"a"}, []string{"b"}),
		},
	}
	_, err := FromModel(model(13, g), nil)
	if err == nil || !strings.Contains(err.Error(), "cycle") || !strings.Contains(err.Error(), `"first"`) {
		t.Fatalf("got %v, want a cycle error naming node \"first\"", err)
	}
}

func TestMissingInitializerNamesNodeAndValue(t *testing.T) {
	g := &onnx.Graph{
		Inputs:  []*onnx.ValueInfo{vi("x", onnx.Float, 2, 3)},
		Outputs: []*onnx.ValueInfo{vi("y", onnx.Float, 2, 4)},
		Nodes:   []*onnx.Node{node("proj", "MatMul", []string{"x", "proj.weight"}, []string{"y"})},
	}
	_, err := FromModel(model(13, g), nil)
	if err == nil || !strings.Contains(err.Error(), `"proj"`) || !strings.Contains(err.Error(), "proj.weight") {
		t.Fatalf("got %v, want an error naming node proj and value proj.weight", err)
	}
}

func TestUnsupportedOpAndDomainAreErrors(t *testing.T) {
	g := &onnx.Graph{
		Inputs:  []*onnx.ValueInfo{vi("x", onnx.Float, 2)},
		Outputs: []*onnx.ValueInfo{vi("y", onnx.Float, 2)},
		Nodes:   []*onnx.Node{node("odd", "Hardmax", []string{"x"}, []string{"y"})},
	}
	_, err := FromModel(model(13, g), func(op string) bool { return op != "Hardmax" })
	if err == nil || !strings.Contains(err.Error(), `"odd"`) || !strings.Contains(err.Error(), "Hardmax") {
		t.Fatalf("got %v, want an error naming node odd and op Hardmax", err)
	}
	g.Nodes[0] = &onnx.Node{Name: "ms", OpType: "Attention", Domain: "com.microsoft", Inputs: []string{"x"}, Outputs: []string{"y"}}
	if _, err := FromModel(model(13, g), nil); err == nil || !strings.Contains(err.Error(), "com.microsoft") {
		t.Fatalf("got %v, want an error naming the domain", err)
	}
}

func TestUnsupportedCastTargetFailsAtLoad(t *testing.T) {
	g := &onnx.Graph{
		Inputs:  []*onnx.ValueInfo{vi("x", onnx.Float, 2)},
		Outputs: []*onnx.ValueInfo{vi("y", onnx.String, 2)},
		Nodes:   []*onnx.Node{node("tostr", "Cast", []string{"x"}, []string{"y"}, &onnx.Attribute{Name: "to", Type: onnx.AttrInt, I: int64(onnx.String)})},
	}
	_, err := FromModel(model(13, g), nil)
	if err == nil || !strings.Contains(err.Error(), `"tostr"`) || !strings.Contains(err.Error(), "string") {
		t.Fatalf("got %v, want a load-time error naming node tostr and type string", err)
	}
}

func TestIdentityAndDeadNodesAreRemoved(t *testing.T) {
	g := &onnx.Graph{
		Inputs:  []*onnx.ValueInfo{vi("x", onnx.Float, 2)},
		Outputs: []*onnx.ValueInfo{vi("y", onnx.Float, 2)},
		Nodes: []*onnx.Node{
			node("id1", "Identity", []string{"x"}, []string{"a"}),
			node("unused", "Exp", []string{"a"}, []string{"dead"}),
			node("neg", "Neg", []string{"a"}, []string{"b"}),
			node("id2", "Identity", []string{"b"}, []string{"y"}), // a graph output: kept
		},
	}
	gr, err := FromModel(model(13, g), nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := gr.Optimize(); err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, n := range gr.Nodes {
		names = append(names, n.Name)
	}
	if strings.Join(names, ",") != "neg,id2" {
		t.Fatalf("nodes after Optimize: %v, want [neg id2]", names)
	}
	if gr.Nodes[0].Inputs[0] != "x" {
		t.Fatalf("neg reads %q, want x (Identity bypassed)", gr.Nodes[0].Inputs[0])
	}
}

// TestShapeSubgraphFoldsAfterBinding builds the Shape→Gather→Unsqueeze→
// Concat→Reshape chain exporters emit for a dynamic batch and checks that
// binding leaves only the Reshape to run, with the batch dim resolved.
func TestShapeSubgraphFoldsAfterBinding(t *testing.T) {
	i64 := func(name string, v ...int64) *onnx.Tensor {
		return &onnx.Tensor{Name: name, DataType: onnx.Int64, Dims: []int64{int64(len(v))}, Int64: v}
	}
	scalar := &onnx.Tensor{Name: "zero", DataType: onnx.Int64, Int64: []int64{0}}
	g := &onnx.Graph{
		Inputs:       []*onnx.ValueInfo{vi("x", onnx.Float, "batch", 4, 6)},
		Outputs:      []*onnx.ValueInfo{vi("y", onnx.Float, "batch", 24)},
		Initializers: []*onnx.Tensor{scalar, i64("axes0", 0), i64("rest", 24)},
		Nodes: []*onnx.Node{
			node("shape", "Shape", []string{"x"}, []string{"s"}),
			node("gather", "Gather", []string{"s", "zero"}, []string{"b"}),
			node("unsq", "Unsqueeze", []string{"b", "axes0"}, []string{"b1"}),
			node("concat", "Concat", []string{"b1", "rest"}, []string{"target"}, &onnx.Attribute{Name: "axis", Type: onnx.AttrInt, I: 0}),
			node("reshape", "Reshape", []string{"x", "target"}, []string{"y"}),
		},
	}
	gr, err := FromModel(model(13, g), nil)
	if err != nil {
		t.Fatal(err)
	}
	eval := func(s *Step, in, out []*Tensor) error {
		// A minimal evaluator for the folded ops of this graph.
		switch s.Node.Op {
		case "Gather":
			out[0].Int64[0] = in[0].Int64[in[1].Int64[0]]
		case "Unsqueeze":
			out[0].Int64[0] = in[0].Int64[0]
		case "Concat":
			out[0].Int64 = append(append([]int64{}, in[0].Int64...), in[1].Int64...)
		default:
			t.Fatalf("unexpected fold of %s", s.Node.Op)
		}
		return nil
	}
	p, err := gr.Bind(context.Background(), map[string][]int{"x": {5, 4, 6}}, nil, eval)
	if err != nil {
		t.Fatal(err)
	}
	if len(p.Steps) != 1 || p.Steps[0].Node.Op != "Reshape" {
		t.Fatalf("steps left: %d (first %v), want only the Reshape", len(p.Steps), p.Steps[0].Node)
	}
	if got := p.Outputs[0].Shape; len(got) != 2 || got[0] != 5 || got[1] != 24 {
		t.Fatalf("y bound to %v, want [5 24]", got)
	}
	if _, err := gr.Bind(context.Background(), map[string][]int{"x": {5, 4, 7}}, nil, eval); err == nil {
		t.Fatal("binding x to [5 4 7] against declared dim 6 should fail")
	}
}

func TestRoundFloat16(t *testing.T) {
	// 1+2^-11 lies halfway between the halves 1 and 1+2^-10: ties to even
	// give 1; 1/3 is nearest to 0x3555 = 0.333251953125; 70000 overflows.
	xs := []float32{1 + 1.0/2048, 1.0 / 3, 70000}
	RoundFloat16(xs)
	if xs[0] != 1 || xs[1] != 0.333251953125 || !math.IsInf(float64(xs[2]), 1) {
		t.Fatalf("got %v", xs)
	}
}
