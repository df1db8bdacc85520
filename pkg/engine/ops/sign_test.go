package ops

import (
	"math"
	"slices"
	"testing"

	"github.com/clip-go/clip/pkg/graph"
	"github.com/clip-go/clip/pkg/onnx"
)

// TestSignBeyondTheNodeTests covers what ONNX's float32 test_sign does
// not: integer types (unsigned ones never give −1) and NaN, which stays
// NaN as numpy.sign keeps it.
func TestSignBeyondTheNodeTests(t *testing.T) {
	step := &graph.Step{Node: &graph.Node{Op: "Sign"}}
	i8 := &graph.Tensor{DType: onnx.Int8, Shape: []int{4}, Int8: []int8{-128, -3, 0, 127}}
	o8 := graph.NewTensor(onnx.Int8, []int{4})
	if err := Eval(step, []*graph.Tensor{i8}, []*graph.Tensor{o8}); err != nil {
		t.Fatal(err)
	}
	if want := []int8{-1, -1, 0, 1}; !slices.Equal(o8.Int8, want) {
		t.Errorf("int8: %v, want %v", o8.Int8, want)
	}
	u8 := &graph.Tensor{DType: onnx.Uint8, Shape: []int{3}, Uint8: []uint8{0, 1, 255}}
	ou := graph.NewTensor(onnx.Uint8, []int{3})
	if err := Eval(step, []*graph.Tensor{u8}, []*graph.Tensor{ou}); err != nil {
		t.Fatal(err)
	}
	if want := []uint8{0, 1, 1}; !slices.Equal(ou.Uint8, want) {
		t.Errorf("uint8: %v, want %v", ou.Uint8, want)
	}
	f := &graph.Tensor{DType: onnx.Float, Shape: []int{3}, Float32: []float32{float32(math.NaN()), -0.5, float32(math.Inf(1))}}
	of := graph.NewTensor(onnx.Float, []int{3})
	if err := Eval(step, []*graph.Tensor{f}, []*graph.Tensor{of}); err != nil {
		t.Fatal(err)
	}
	if !math.IsNaN(float64(of.Float32[0])) || of.Float32[1] != -1 || of.Float32[2] != 1 {
		t.Errorf("float: %v, want [NaN -1 1]", of.Float32)
	}
}
