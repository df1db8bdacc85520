package engine

import (
	"context"
	"fmt"
	"testing"

	"gorgonia.org/gorgonia"

	"github.com/clip-go/clip/pkg/engine/kernels"
	"github.com/clip-go/clip/pkg/onnx"
)

// TestBuffersAreReused runs a chain of ten Neg steps: the compiled graph
// must hold two ping-pong buffers plus the output's, not ten, and still
// compute (−1)¹⁰·x = x.
func TestBuffersAreReused(t *testing.T) {
	g := &onnx.Graph{
		Inputs:  []*onnx.ValueInfo{vinfo("x", onnx.Float, 1000)},
		Outputs: []*onnx.ValueInfo{vinfo("v10", onnx.Float, 1000)},
	}
	prev := "x"
	for i := 1; i <= 10; i++ {
		out := fmt.Sprintf("v%d", i)
		g.Nodes = append(g.Nodes, &onnx.Node{Name: fmt.Sprintf("neg%d", i), OpType: "Neg", Inputs: []string{prev}, Outputs: []string{out}})
		prev = out
	}
	m := &onnx.Model{IRVersion: 8, OpsetImports: []onnx.OpsetImport{{Version: 13}}, Graph: g}
	s, err := NewSession(context.Background(), m, Options{Threads: 1})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
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
