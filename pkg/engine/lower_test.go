package engine

import (
	"context"
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
