package engine

import (
	"context"
	"testing"

	"github.com/clip-go/clip/pkg/onnx"
)

// TestUint32Uint64RunExactly runs uint64 and uint32 values through the
// engine (arithmetic, a Reshape sharing its input's buffer, graph inputs
// and outputs): uint64 sums beyond 2⁵³ stay exact (no float64 detour) and
// uint32 products wrap modulo 2³², as onnxruntime computes them.
func TestUint32Uint64RunExactly(t *testing.T) {
	g := &onnx.Graph{
		Inputs:  []*onnx.ValueInfo{vinfo("a", onnx.Uint64, 3), vinfo("b", onnx.Uint32, 3)},
		Outputs: []*onnx.ValueInfo{vinfo("y", onnx.Uint64, 3, 1), vinfo("z", onnx.Uint32, 3)},
		Initializers: []*onnx.Tensor{
			{Name: "one", DataType: onnx.Uint64, Dims: []int64{1}, Uint64: []uint64{1}},
			ints("shape", 3, 1),
		},
		Nodes: []*onnx.Node{
			{Name: "add", OpType: "Add", Inputs: []string{"a", "one"}, Outputs: []string{"s"}},
			{Name: "reshape", OpType: "Reshape", Inputs: []string{"s", "shape"}, Outputs: []string{"y"}},
			{Name: "mul", OpType: "Mul", Inputs: []string{"b", "b"}, Outputs: []string{"z"}},
		},
	}
	m := &onnx.Model{IRVersion: 8, OpsetImports: []onnx.OpsetImport{{Version: 14}}, Graph: g}
	s, err := NewSession(context.Background(), m, Options{Threads: 1})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	out, err := s.Run(context.Background(), map[string]*Tensor{
		"a": {DType: onnx.Uint64, Shape: []int{3}, Uint64: []uint64{1<<60 + 1, 1<<64 - 2, 0}},
		"b": {DType: onnx.Uint32, Shape: []int{3}, Uint32: []uint32{70000, 3, 1<<32 - 1}},
	})
	if err != nil {
		t.Fatal(err)
	}
	y, z := out["y"], out["z"]
	if y.DType != onnx.Uint64 || len(y.Shape) != 2 || y.Uint64[0] != 1<<60+2 || y.Uint64[1] != 1<<64-1 || y.Uint64[2] != 1 {
		t.Errorf("y = %v %v %v, want uint64 [3 1] [2^60+2 2^64-1 1]", y.DType, y.Shape, y.Uint64)
	}
	// 70000² = 4900000000 = 2³² + 605032704; (2³²−1)² ≡ 1 (mod 2³²).
	if z.DType != onnx.Uint32 || z.Uint32[0] != 605032704 || z.Uint32[1] != 9 || z.Uint32[2] != 1 {
		t.Errorf("z = %v %v, want uint32 [605032704 9 1]", z.DType, z.Uint32)
	}
}
