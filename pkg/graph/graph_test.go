package graph

import (
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
	neg := NewRegistry()
	neg.Register(&OpDef{Op: "Neg"})
	_, err := FromModel(model(13, g), neg)
	if err == nil || !strings.Contains(err.Error(), `"odd"`) || !strings.Contains(err.Error(), "Hardmax") {
		t.Fatalf("got %v, want an error naming node odd and op Hardmax", err)
	}
	g.Nodes[0] = &onnx.Node{Name: "ms", OpType: "Attention", Domain: "com.microsoft", Inputs: []string{"x"}, Outputs: []string{"y"}}
	if _, err := FromModel(model(13, g), nil); err == nil || !strings.Contains(err.Error(), "com.microsoft") {
		t.Fatalf("got %v, want an error naming the domain", err)
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
