package engine

import (
	"context"
	"strings"
	"testing"

	"gorgonia.org/gorgonia"

	"github.com/clip-go/clip/pkg/engine/kernels"
	"github.com/clip-go/clip/pkg/onnx"
)

// TestBuffersAreReused runs a chain of ten Neg steps: the compiled graph
// must hold two ping-pong buffers plus the output's, not ten, and still
// compute (−1)¹⁰·x = x.
func TestBuffersAreReused(t *testing.T) {
	s := negChain(t, 10, 1000)
	x := &Tensor{DType: onnx.Float, Shape: []int{1000}, Float32: make([]float32, 1000)}
	for i := range x.Float32 {
		x.Float32[i] = float32(i)
	}
	for run := 0; run < 2; run++ {
		out, err := s.Run(context.Background(), map[string]*Tensor{"x": x})
		if err != nil {
			t.Fatal(err)
		}
		for i, v := range out["v10"].Float32 {
			if v != float32(i) {
				t.Fatalf("run %d: v10[%d] = %v, want %v", run, i, v, float32(i))
			}
		}
	}
	var mach *machine
	for _, e := range s.plans {
		mach = e.idle[0]
	}
	distinct := map[*float32]bool{}
	for _, op := range mach.ops {
		distinct[&op.outs[0].Float32[0]] = true
	}
	if len(distinct) > 3 {
		t.Errorf("10 chained steps use %d buffers, want at most 3", len(distinct))
	}
}

// TestGorgoniaBLASIsOurs: importing the engine installs the kernels' BLAS
// as Gorgonia's (the kernels package tests that Gorgonia's products then
// reach its Sgemm).
func TestGorgoniaBLASIsOurs(t *testing.T) {
	if _, ok := gorgonia.WhichBLAS().(*kernels.BLAS); !ok {
		t.Fatalf("gorgonia.WhichBLAS() = %T, want *kernels.BLAS", gorgonia.WhichBLAS())
	}
}

// TestStepsRunInPlanOrder runs a graph whose plan has several valid
// topological orders (four independent branches off x, then their sum):
// the memory plan reuses buffers by plan index, so the TapeMachine must
// run the steps in plan order, and every step checks it. Runs succeed
// with the right values; a machine whose steps' plan indices are swapped
// (as if the TapeMachine ran them in another order) fails naming the
// order instead of computing with reused buffers.
func TestStepsRunInPlanOrder(t *testing.T) {
	g := &onnx.Graph{
		Inputs:  []*onnx.ValueInfo{vinfo("x", onnx.Float, 4)},
		Outputs: []*onnx.ValueInfo{vinfo("y", onnx.Float, 4)},
		Nodes: []*onnx.Node{
			{Name: "neg", OpType: "Neg", Inputs: []string{"x"}, Outputs: []string{"a"}},
			{Name: "abs", OpType: "Abs", Inputs: []string{"x"}, Outputs: []string{"b"}},
			{Name: "sqrt", OpType: "Sqrt", Inputs: []string{"x"}, Outputs: []string{"c"}},
			{Name: "recip", OpType: "Reciprocal", Inputs: []string{"x"}, Outputs: []string{"d"}},
			{Name: "ab", OpType: "Add", Inputs: []string{"a", "b"}, Outputs: []string{"ab"}},
			{Name: "cd", OpType: "Mul", Inputs: []string{"c", "d"}, Outputs: []string{"cd"}},
			{Name: "y", OpType: "Add", Inputs: []string{"ab", "cd"}, Outputs: []string{"y"}},
		},
	}
	m := &onnx.Model{IRVersion: 8, OpsetImports: []onnx.OpsetImport{{Version: 13}}, Graph: g}
	// Op by op: fused, the seven would be one elementwise chain.
	s, err := NewSession(context.Background(), m, Options{Threads: 1, NoFusion: true})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	x := &Tensor{DType: onnx.Float, Shape: []int{4}, Float32: []float32{1, 4, 16, 64}}
	run := func() ([]float32, error) {
		out, err := s.Run(context.Background(), map[string]*Tensor{"x": x})
		if err != nil {
			return nil, err
		}
		return out["y"].Float32, nil
	}
	for i := 0; i < 2; i++ {
		y, err := run()
		if err != nil {
			t.Fatal(err)
		}
		// −x + |x| + √x · (1/x) = 1/√x for x > 0.
		for j, want := range []float32{1, 0.5, 0.25, 0.125} {
			if y[j] != want {
				t.Fatalf("run %d: y = %v, want [1 0.5 0.25 0.125]", i, y)
			}
		}
	}
	var mach *machine
	for _, e := range s.plans {
		mach = e.idle[0]
	}
	if len(mach.ops) != 7 {
		t.Fatalf("%d steps, want 7", len(mach.ops))
	}
	mach.ops[0].id, mach.ops[1].id = mach.ops[1].id, mach.ops[0].id
	if _, err := run(); err == nil || !strings.Contains(err.Error(), "plan order") {
		t.Fatalf("steps out of plan order: got %v, want an error naming the plan order", err)
	}
}
