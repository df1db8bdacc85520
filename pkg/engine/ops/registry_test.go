package ops

import (
	"context"
	"strings"
	"testing"

	"github.com/clip-go/clip/pkg/graph"
	"github.com/clip-go/clip/pkg/onnx"
)

// TestEveryOpIsComplete checks the definitions against each other: every
// ONNX operator infers its shapes, every operator but the two always
// folded while binding has a kernel, and the fused ones are defined too.
func TestEveryOpIsComplete(t *testing.T) {
	fused := map[string]bool{graph.OpLinear: true, graph.OpQLinear: true, graph.OpAttention: true, graph.OpPatchEmbed: true, graph.OpQuickGELU: true, graph.OpGELU: true, graph.OpGELUTanh: true, graph.OpElementwise: true}
	for op := range fused {
		if !Supported(op) {
			t.Errorf("fused op %s is not defined", op)
		}
	}
	for _, op := range Registry().Ops() {
		d := defs[op]
		if d == nil || Registry().Lookup(op) != &d.OpDef {
			t.Errorf("%s: the registry and the kernels disagree", op)
			continue
		}
		if d.Infer == nil && !fused[op] {
			t.Errorf("%s has no shape inference", op)
		}
		if d.eval == nil && op != "Shape" && op != "Constant" {
			t.Errorf("%s has no kernel", op)
		}
	}
}

// TestElementwiseCodes checks that every operator a chain may hold
// (graph.ElementwiseOps) has its OpElementwise kernel.
func TestElementwiseCodes(t *testing.T) {
	for op := range graph.ElementwiseOps {
		if _, ok := elementwiseCodes[op]; !ok {
			t.Errorf("%s: no OpElementwise kernel", op)
		}
	}
	if len(elementwiseCodes) != len(graph.ElementwiseOps) {
		t.Errorf("%d kernels for %d operators", len(elementwiseCodes), len(graph.ElementwiseOps))
	}
}

func TestUnsupportedCastTargetFailsAtLoad(t *testing.T) {
	g := &onnx.Graph{
		Inputs:  []*onnx.ValueInfo{{Name: "x", ElemType: onnx.Float, Shape: []onnx.Dim{{Value: 2}}}},
		Outputs: []*onnx.ValueInfo{{Name: "y", ElemType: onnx.String, Shape: []onnx.Dim{{Value: 2}}}},
		Nodes:   []*onnx.Node{{Name: "tostr", OpType: "Cast", Inputs: []string{"x"}, Outputs: []string{"y"}, Attributes: []*onnx.Attribute{{Name: "to", Type: onnx.AttrInt, I: int64(onnx.String)}}}},
	}
	_, err := graph.FromModel(&onnx.Model{IRVersion: 8, OpsetImports: []onnx.OpsetImport{{Version: 13}}, Graph: g}, Registry())
	if err == nil || !strings.Contains(err.Error(), `"tostr"`) || !strings.Contains(err.Error(), "string") {
		t.Fatalf("got %v, want a load-time error naming node tostr and type string", err)
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
		Inputs:       []*onnx.ValueInfo{{Name: "x", ElemType: onnx.Float, Shape: []onnx.Dim{{Value: -1, Param: "batch"}, {Value: 4}, {Value: 6}}}},
		Outputs:      []*onnx.ValueInfo{{Name: "y", ElemType: onnx.Float, Shape: []onnx.Dim{{Value: -1, Param: "batch"}, {Value: 24}}}},
		Initializers: []*onnx.Tensor{scalar, i64("axes0", 0), i64("rest", 24)},
		Nodes: []*onnx.Node{
			{Name: "shape", OpType: "Shape", Inputs: []string{"x"}, Outputs: []string{"s"}},
			{Name: "gather", OpType: "Gather", Inputs: []string{"s", "zero"}, Outputs: []string{"b"}},
			{Name: "unsq", OpType: "Unsqueeze", Inputs: []string{"b", "axes0"}, Outputs: []string{"b1"}},
			{Name: "concat", OpType: "Concat", Inputs: []string{"b1", "rest"}, Outputs: []string{"target"}, Attributes: []*onnx.Attribute{{Name: "axis", Type: onnx.AttrInt, I: 0}}},
			{Name: "reshape", OpType: "Reshape", Inputs: []string{"x", "target"}, Outputs: []string{"y"}},
		},
	}
	gr, err := graph.FromModel(&onnx.Model{IRVersion: 8, OpsetImports: []onnx.OpsetImport{{Version: 13}}, Graph: g}, Registry())
	if err != nil {
		t.Fatal(err)
	}
	p, err := gr.Bind(context.Background(), map[string][]int{"x": {5, 4, 6}}, nil, Eval)
	if err != nil {
		t.Fatal(err)
	}
	if len(p.Steps) != 1 || p.Steps[0].Node.Op != "Reshape" {
		t.Fatalf("steps left: %d (first %v), want only the Reshape", len(p.Steps), p.Steps[0].Node)
	}
	if got := p.Outputs[0].Shape; len(got) != 2 || got[0] != 5 || got[1] != 24 {
		t.Fatalf("y bound to %v, want [5 24]", got)
	}
	if _, err := gr.Bind(context.Background(), map[string][]int{"x": {5, 4, 7}}, nil, Eval); err == nil {
		t.Fatal("binding x to [5 4 7] against declared dim 6 should fail")
	}
}

// TestFLOPsHandCount binds a small graph (batched MatMul by a
// constant, grouped strided Conv, Gemm with transA) and checks the count,
// before and after fusion, against the products worked out by hand.
func TestFLOPsHandCount(t *testing.T) {
	f32 := func(name string, dims ...int64) *onnx.Tensor {
		n := int64(1)
		for _, d := range dims {
			n *= d
		}
		return &onnx.Tensor{Name: name, DataType: onnx.Float, Dims: dims, Float32: make([]float32, n)}
	}
	vi := func(name string, dims ...int64) *onnx.ValueInfo {
		v := &onnx.ValueInfo{Name: name, Kind: "tensor", ElemType: onnx.Float}
		for _, d := range dims {
			v.Shape = append(v.Shape, onnx.Dim{Value: d})
		}
		return v
	}
	ints := func(name string, v ...int64) *onnx.Attribute {
		return &onnx.Attribute{Name: name, Type: onnx.AttrInts, Ints: v}
	}
	m := &onnx.Model{
		IRVersion:    8,
		OpsetImports: []onnx.OpsetImport{{Domain: "", Version: 14}},
		Graph: &onnx.Graph{
			Initializers: []*onnx.Tensor{f32("B", 4, 5), f32("W", 4, 1, 3, 3), f32("G", 6, 7)},
			Inputs:       []*onnx.ValueInfo{vi("A", 2, 3, 4), vi("X", 1, 2, 9, 9), vi("GA", 6, 3)},
			Outputs:      []*onnx.ValueInfo{vi("Y", 2, 3, 5), vi("Z", 1, 4, 5, 5), vi("GY", 3, 7)},
			Nodes: []*onnx.Node{
				{Name: "mm", OpType: "MatMul", Inputs: []string{"A", "B"}, Outputs: []string{"Y"}},
				{Name: "conv", OpType: "Conv", Inputs: []string{"X", "W"}, Outputs: []string{"Z"}, Attributes: []*onnx.Attribute{
					{Name: "group", Type: onnx.AttrInt, I: 2}, ints("strides", 2, 2), ints("pads", 1, 1, 1, 1), ints("kernel_shape", 3, 3)}},
				{Name: "gemm", OpType: "Gemm", Inputs: []string{"GA", "G"}, Outputs: []string{"GY"}, Attributes: []*onnx.Attribute{
					{Name: "transA", Type: onnx.AttrInt, I: 1}}},
			},
		},
	}
	// MatMul [2,3,4]·[4,5]: 2·3 rows × 5 columns × 4 multiply-adds.
	const matmul = 2 * (2 * 3) * 5 * 4 // 240
	// Conv: 2 input channels in 2 groups → 1 channel per group; 4 output
	// channels; 3×3 kernel; (9+1+1−3)/2+1 = 5 → 5×5 outputs.
	const conv = 2 * 4 * 1 * 3 * 3 * 5 * 5 // 1800
	// Gemm: Aᵀ is [3,6], B [6,7] → [3,7] with K = 6.
	const gemm = 2 * 3 * 7 * 6 // 252
	g, err := graph.FromModel(m, Registry())
	if err != nil {
		t.Fatal(err)
	}
	plan, err := g.Bind(context.Background(), map[string][]int{"A": {2, 3, 4}, "X": {1, 2, 9, 9}, "GA": {6, 3}}, nil, Eval)
	if err != nil {
		t.Fatal(err)
	}
	check := func(stage string, c graph.FLOPCount) {
		t.Helper()
		if c.Total != matmul+conv+gemm {
			t.Errorf("%s: total %v, want %d", stage, c.Total, matmul+conv+gemm)
		}
		if c.ByOp["Conv"] != conv || c.ByOp["Gemm"] != gemm || c.ByOp["MatMul"]+c.ByOp[graph.OpLinear] != matmul {
			t.Errorf("%s: by op %v, want Conv %d, Gemm %d, MatMul/Linear %d", stage, c.ByOp, conv, gemm, matmul)
		}
	}
	check("unfused", plan.FLOPs())
	made := plan.Fuse()
	c := plan.FLOPs()
	check("fused", c)
	if made["Linear"] > 0 && c.ByOp[graph.OpLinear] != matmul {
		t.Errorf("fusion made a Linear step but it counts %v FLOPs, want %d", c.ByOp[graph.OpLinear], matmul)
	}
}
