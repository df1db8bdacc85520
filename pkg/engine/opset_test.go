package engine

import (
	"context"
	"math"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/clip-go/clip/pkg/graph"
	"github.com/clip-go/clip/pkg/onnx"
)

// The expectations below are closed-form (softmax of equal logits is
// uniform, sums of ones count elements, ...), so they check the opset
// rules without a numeric reference.

func vinfo(name string, dt onnx.DataType, dims ...int) *onnx.ValueInfo {
	v := &onnx.ValueInfo{Name: name, ElemType: dt, Shape: []onnx.Dim{}}
	for _, d := range dims {
		v.Shape = append(v.Shape, onnx.Dim{Value: int64(d)})
	}
	return v
}

func ints(name string, v ...int64) *onnx.Tensor {
	return &onnx.Tensor{Name: name, DataType: onnx.Int64, Dims: []int64{int64(len(v))}, Int64: v}
}

func attrInts(name string, v ...int64) *onnx.Attribute {
	return &onnx.Attribute{Name: name, Type: onnx.AttrInts, Ints: v}
}

func attrInt(name string, v int64) *onnx.Attribute {
	return &onnx.Attribute{Name: name, Type: onnx.AttrInt, I: v}
}

// runOne builds a one-node model at opset and runs it on x (shape 2×3×4,
// filled with fill).
func runOne(t *testing.T, opset int64, n *onnx.Node, inits []*onnx.Tensor, fill float32, outs ...string) map[string]*Tensor {
	t.Helper()
	var outInfo []*onnx.ValueInfo
	for _, o := range outs {
		outInfo = append(outInfo, &onnx.ValueInfo{Name: o, ElemType: onnx.Float})
	}
	n.Inputs = append([]string{"x"}, n.Inputs...)
	m := &onnx.Model{IRVersion: 8, OpsetImports: []onnx.OpsetImport{{Version: opset}}, Graph: &onnx.Graph{
		Inputs: []*onnx.ValueInfo{vinfo("x", onnx.Float, 2, 3, 4)}, Outputs: outInfo,
		Initializers: inits, Nodes: []*onnx.Node{n},
	}}
	s, err := NewSession(context.Background(), m, Options{Threads: 1})
	if err != nil {
		t.Fatalf("opset %d %s: %v", opset, n.OpType, err)
	}
	defer s.Close()
	x := &Tensor{DType: onnx.Float, Shape: []int{2, 3, 4}, Float32: make([]float32, 24)}
	for i := range x.Float32 {
		x.Float32[i] = fill
	}
	out, err := s.Run(context.Background(), map[string]*Tensor{"x": x})
	if err != nil {
		t.Fatalf("opset %d %s: %v", opset, n.OpType, err)
	}
	return out
}

func allNear(t *testing.T, what string, got *Tensor, shape []int, want float64) {
	t.Helper()
	if !sameShape(got.Shape, shape) {
		t.Fatalf("%s: shape %v, want %v", what, got.Shape, shape)
	}
	for i, v := range got.Float32 {
		if math.Abs(float64(v)-want) > 1e-6 {
			t.Fatalf("%s: element %d = %v, want %v", what, i, v, want)
		}
	}
}

func TestSoftmaxAxisSemanticsFollowOpset(t *testing.T) {
	// Opset 11 normalises over all dims from axis on (3×4 = 12 values);
	// opset 13 over the single axis (3 values).
	out := runOne(t, 11, &onnx.Node{OpType: "Softmax", Outputs: []string{"y"}, Attributes: []*onnx.Attribute{attrInt("axis", 1)}}, nil, 0, "y")
	allNear(t, "opset 11", out["y"], []int{2, 3, 4}, 1.0/12)
	out = runOne(t, 13, &onnx.Node{OpType: "Softmax", Outputs: []string{"y"}, Attributes: []*onnx.Attribute{attrInt("axis", 1)}}, nil, 0, "y")
	allNear(t, "opset 13", out["y"], []int{2, 3, 4}, 1.0/3)
	// Defaults: axis 1 before 13, -1 from 13.
	out = runOne(t, 11, &onnx.Node{OpType: "Softmax", Outputs: []string{"y"}}, nil, 0, "y")
	allNear(t, "opset 11 default", out["y"], []int{2, 3, 4}, 1.0/12)
	out = runOne(t, 13, &onnx.Node{OpType: "Softmax", Outputs: []string{"y"}}, nil, 0, "y")
	allNear(t, "opset 13 default", out["y"], []int{2, 3, 4}, 1.0/4)
}

func TestReduceAxesFromAttributeOrInput(t *testing.T) {
	out := runOne(t, 11, &onnx.Node{OpType: "ReduceSum", Outputs: []string{"y"}, Attributes: []*onnx.Attribute{attrInts("axes", 1)}}, nil, 1, "y")
	allNear(t, "ReduceSum opset 11", out["y"], []int{2, 1, 4}, 3)
	out = runOne(t, 13, &onnx.Node{OpType: "ReduceSum", Inputs: []string{"axes"}, Outputs: []string{"y"}, Attributes: []*onnx.Attribute{attrInt("keepdims", 0)}}, []*onnx.Tensor{ints("axes", -1)}, 1, "y")
	allNear(t, "ReduceSum opset 13", out["y"], []int{2, 3}, 4)
	out = runOne(t, 17, &onnx.Node{OpType: "ReduceMean", Outputs: []string{"y"}, Attributes: []*onnx.Attribute{attrInts("axes", 0, 2)}}, nil, 2, "y")
	allNear(t, "ReduceMean opset 17", out["y"], []int{1, 3, 1}, 2)
	out = runOne(t, 18, &onnx.Node{OpType: "ReduceMean", Inputs: []string{"axes"}, Outputs: []string{"y"}}, []*onnx.Tensor{ints("axes", 0, 2)}, 2, "y")
	allNear(t, "ReduceMean opset 18", out["y"], []int{1, 3, 1}, 2)
	out = runOne(t, 18, &onnx.Node{OpType: "ReduceL2", Outputs: []string{"y"}, Attributes: []*onnx.Attribute{attrInt("keepdims", 0)}}, nil, 1, "y")
	allNear(t, "ReduceL2 opset 18 all axes", out["y"], []int{}, math.Sqrt(24))
}

func TestSqueezeUnsqueezeSplitInputsFromOpset13(t *testing.T) {
	out := runOne(t, 11, &onnx.Node{OpType: "Unsqueeze", Outputs: []string{"y"}, Attributes: []*onnx.Attribute{attrInts("axes", 0, 4)}}, nil, 1, "y")
	allNear(t, "Unsqueeze opset 11", out["y"], []int{1, 2, 3, 4, 1}, 1)
	out = runOne(t, 13, &onnx.Node{OpType: "Unsqueeze", Inputs: []string{"axes"}, Outputs: []string{"y"}}, []*onnx.Tensor{ints("axes", -1, 1)}, 1, "y")
	allNear(t, "Unsqueeze opset 13", out["y"], []int{2, 1, 3, 4, 1}, 1)
	out = runOne(t, 11, &onnx.Node{OpType: "Split", Outputs: []string{"a", "b"}, Attributes: []*onnx.Attribute{attrInt("axis", 2), attrInts("split", 1, 3)}}, nil, 1, "a", "b")
	allNear(t, "Split opset 11 a", out["a"], []int{2, 3, 1}, 1)
	allNear(t, "Split opset 11 b", out["b"], []int{2, 3, 3}, 1)
	out = runOne(t, 13, &onnx.Node{OpType: "Split", Inputs: []string{"split"}, Outputs: []string{"a", "b"}, Attributes: []*onnx.Attribute{attrInt("axis", 1)}}, []*onnx.Tensor{ints("split", 2, 1)}, 1, "a", "b")
	allNear(t, "Split opset 13 a", out["a"], []int{2, 2, 4}, 1)
	allNear(t, "Split opset 13 b", out["b"], []int{2, 1, 4}, 1)
	out = runOne(t, 18, &onnx.Node{OpType: "Split", Outputs: []string{"a", "b"}, Attributes: []*onnx.Attribute{attrInt("axis", 1), attrInt("num_outputs", 2)}}, nil, 1, "a", "b")
	allNear(t, "Split opset 18 num_outputs a", out["a"], []int{2, 2, 4}, 1)
	allNear(t, "Split opset 18 num_outputs b", out["b"], []int{2, 1, 4}, 1)
}

func TestUnsupportedOpFailsAtLoadNamingNode(t *testing.T) {
	m := &onnx.Model{IRVersion: 8, OpsetImports: []onnx.OpsetImport{{Version: 13}}, Graph: &onnx.Graph{
		Inputs:  []*onnx.ValueInfo{vinfo("x", onnx.Float, 2)},
		Outputs: []*onnx.ValueInfo{vinfo("y", onnx.Float, 2)},
		Nodes:   []*onnx.Node{{Name: "blk.0/hm", OpType: "Hardmax", Inputs: []string{"x"}, Outputs: []string{"y"}}},
	}}
	_, err := NewSession(context.Background(), m, Options{})
	if err == nil || !strings.Contains(err.Error(), "blk.0/hm") || !strings.Contains(err.Error(), "Hardmax") {
		t.Fatalf("got %v, want an error naming node blk.0/hm and op Hardmax", err)
	}
}

func TestBadRunInputsAreErrors(t *testing.T) {
	m := &onnx.Model{IRVersion: 8, OpsetImports: []onnx.OpsetImport{{Version: 13}}, Graph: &onnx.Graph{
		Inputs:  []*onnx.ValueInfo{vinfo("x", onnx.Float, 2, 3)},
		Outputs: []*onnx.ValueInfo{vinfo("y", onnx.Float, 2, 3)},
		Nodes:   []*onnx.Node{{Name: "n", OpType: "Neg", Inputs: []string{"x"}, Outputs: []string{"y"}}},
	}}
	s, err := NewSession(context.Background(), m, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	bad := []map[string]*Tensor{
		{},
		{"x": {DType: onnx.Float, Shape: []int{2, 3}, Float32: make([]float32, 5)}},
		{"x": {DType: onnx.Float, Shape: []int{3, 2}, Float32: make([]float32, 6)}},
		{"x": {DType: onnx.Int64, Shape: []int{2, 3}, Int64: make([]int64, 6)}},
		{"x": {DType: onnx.Float, Shape: []int{2, 3}, Float32: make([]float32, 6)}, "z": {DType: onnx.Float, Shape: []int{}, Float32: []float32{1}}},
	}
	for i, in := range bad {
		if _, err := s.Run(context.Background(), in); err == nil {
			t.Errorf("case %d: no error", i)
		}
	}
	good := map[string]*Tensor{"x": {DType: onnx.Float, Shape: []int{2, 3}, Float32: make([]float32, 6)}}
	if _, err := s.Run(context.Background(), good, "y", "z"); err == nil || !strings.Contains(err.Error(), `"z"`) {
		t.Errorf("asking for an output the model lacks: err = %v, want one naming \"z\"", err)
	}
}

// TestConcurrentRunsMatchONNX runs one session from many goroutines and
// checks every result against ONNX's expected output.
func TestConcurrentRunsMatchONNX(t *testing.T) {
	dir := filepath.Join(nodeTestDir, "test_matmul_4d")
	m, err := onnx.Load(filepath.Join(dir, "model.onnx"))
	if err != nil {
		t.Skipf("ONNX node tests not available: %v", err)
	}
	defer m.Close()
	a, _ := readPB(filepath.Join(dir, "test_data_set_0", "input_0.pb"))
	b, _ := readPB(filepath.Join(dir, "test_data_set_0", "input_1.pb"))
	want, _ := readPB(filepath.Join(dir, "test_data_set_0", "output_0.pb"))
	s, err := NewSession(context.Background(), m, Options{Threads: 4})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	var wg sync.WaitGroup
	errs := make(chan error, 64)
	for g := 0; g < 8; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for r := 0; r < 10; r++ {
				out, err := s.Run(context.Background(), map[string]*Tensor{m.Graph.Inputs[0].Name: a, m.Graph.Inputs[1].Name: b})
				if err == nil {
					err = compare(out[m.Graph.Outputs[0].Name], want)
				}
				if err != nil {
					errs <- err
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
}

// TestHalfPrecisionInputsAndIDs checks the input coercions: float32 data
// for a float16 input is rounded to half precision (1/3 → 0x3555 =
// 0.333251953125), int32 ids feed an int64 input, and a float16 output
// keeps its dtype.
func TestHalfPrecisionInputsAndIDs(t *testing.T) {
	m := &onnx.Model{IRVersion: 8, OpsetImports: []onnx.OpsetImport{{Version: 13}}, Graph: &onnx.Graph{
		Inputs: []*onnx.ValueInfo{vinfo("h", onnx.Float16, 2), vinfo("ids", onnx.Int64, 2)},
		Outputs: []*onnx.ValueInfo{
			{Name: "f", ElemType: onnx.Float}, {Name: "h2", ElemType: onnx.Float16}, {Name: "ids2", ElemType: onnx.Int64},
		},
		Nodes: []*onnx.Node{
			{Name: "widen", OpType: "Cast", Inputs: []string{"h"}, Outputs: []string{"f"}, Attributes: []*onnx.Attribute{attrInt("to", int64(onnx.Float))}},
			{Name: "twice", OpType: "Add", Inputs: []string{"h", "h"}, Outputs: []string{"h2"}},
			{Name: "neg", OpType: "Neg", Inputs: []string{"ids"}, Outputs: []string{"ids2"}},
		},
	}}
	s, err := NewSession(context.Background(), m, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	feeds := map[string]*Tensor{
		"h":   {DType: onnx.Float, Shape: []int{2}, Float32: []float32{1.0 / 3, 70000}},
		"ids": {DType: onnx.Int32, Shape: []int{2}, Int32: []int32{7, -3}},
	}
	out, err := s.Run(context.Background(), feeds)
	if err != nil {
		t.Fatal(err)
	}
	if f := out["f"]; f.DType != onnx.Float || f.Float32[0] != 0.333251953125 || !math.IsInf(float64(f.Float32[1]), 1) {
		t.Errorf("f = %v %v, want float [0.333251953125 +Inf]", graph.DTypeName(f.DType), f.Float32)
	}
	// 2 × 0.333251953125 = 0.66650390625 is exact in half precision.
	if h := out["h2"]; h.DType != onnx.Float16 || h.Float32[0] != 0.66650390625 {
		t.Errorf("h2 = %v %v, want float16 0.66650390625", graph.DTypeName(h.DType), h.Float32)
	}
	if ids := out["ids2"]; ids.DType != onnx.Int64 || ids.Int64[0] != -7 || ids.Int64[1] != 3 {
		t.Errorf("ids2 = %v %v, want int64 [-7 3]", graph.DTypeName(ids.DType), ids.Int64)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Run(context.Background(), feeds); err == nil || !strings.Contains(err.Error(), "closed") {
		t.Errorf("Run after Close: %v, want a closed-session error", err)
	}
}

// TestAbsurdShapesAndBadIndicesAreErrors: an Expand to 2⁴⁰ elements fails
// when binding, and an out-of-range Gather index fails the run with an
// error naming the node, never a panic.
func TestAbsurdShapesAndBadIndicesAreErrors(t *testing.T) {
	m := &onnx.Model{IRVersion: 8, OpsetImports: []onnx.OpsetImport{{Version: 13}}, Graph: &onnx.Graph{
		Inputs:       []*onnx.ValueInfo{vinfo("x", onnx.Float, 1)},
		Outputs:      []*onnx.ValueInfo{{Name: "y", ElemType: onnx.Float}},
		Initializers: []*onnx.Tensor{ints("big", 1<<20, 1<<20)},
		Nodes:        []*onnx.Node{{Name: "huge", OpType: "Expand", Inputs: []string{"x", "big"}, Outputs: []string{"y"}}},
	}}
	s, err := NewSession(context.Background(), m, Options{})
	if err != nil {
		t.Fatal(err)
	}
	_, err = s.Run(context.Background(), map[string]*Tensor{"x": {DType: onnx.Float, Shape: []int{1}, Float32: []float32{1}}})
	if err == nil || !strings.Contains(err.Error(), `"huge"`) || !strings.Contains(err.Error(), "too large") {
		t.Errorf("Expand to 2^40 elements: %v, want a too-large error naming node huge", err)
	}
	s.Close()

	m = &onnx.Model{IRVersion: 8, OpsetImports: []onnx.OpsetImport{{Version: 13}}, Graph: &onnx.Graph{
		Inputs:       []*onnx.ValueInfo{vinfo("ids", onnx.Int64, 2)},
		Outputs:      []*onnx.ValueInfo{{Name: "y", ElemType: onnx.Float}},
		Initializers: []*onnx.Tensor{{Name: "table", DataType: onnx.Float, Dims: []int64{3, 2}, Float32: []float32{1, 2, 3, 4, 5, 6}}},
		Nodes:        []*onnx.Node{{Name: "embed", OpType: "Gather", Inputs: []string{"table", "ids"}, Outputs: []string{"y"}}},
	}}
	s, err = NewSession(context.Background(), m, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	out, err := s.Run(context.Background(), map[string]*Tensor{"ids": {DType: onnx.Int64, Shape: []int{2}, Int64: []int64{-1, 0}}})
	if err != nil || out["y"].Float32[0] != 5 || out["y"].Float32[3] != 2 {
		t.Fatalf("Gather with a negative index: %v %v, want rows [5 6] [1 2]", out, err)
	}
	_, err = s.Run(context.Background(), map[string]*Tensor{"ids": {DType: onnx.Int64, Shape: []int{2}, Int64: []int64{3, 0}}})
	if err == nil || !strings.Contains(err.Error(), `"embed"`) || !strings.Contains(err.Error(), "out of range") {
		t.Errorf("Gather index 3 of 3 rows: %v, want an out-of-range error naming node embed", err)
	}
	// The session stays usable after a failed run.
	if _, err := s.Run(context.Background(), map[string]*Tensor{"ids": {DType: onnx.Int64, Shape: []int{2}, Int64: []int64{1, 2}}}); err != nil {
		t.Errorf("run after a failed run: %v", err)
	}
}
