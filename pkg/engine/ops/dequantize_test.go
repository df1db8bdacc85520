package ops

import (
	"math"
	"testing"

	"github.com/clip-go/clip/pkg/graph"
	"github.com/clip-go/clip/pkg/onnx"
)

// TestDequantizeBeyondTheNodeTests covers what ONNX's two
// DequantizeLinear node tests (uint8, per tensor and per axis 1 of a 4-D
// tensor) do not: int8 and int32 inputs, no zero point, a per-axis scale
// on axis 0 and on the last axis, and int32 differences that float32
// cannot hold exactly. The expected values follow the operator's
// definition, (x − zero_point)·scale, the difference computed exactly in
// float64 and rounded to float32 as onnxruntime does.
func TestDequantizeBeyondTheNodeTests(t *testing.T) {
	type tc struct {
		name  string
		x     *graph.Tensor
		scale []float32
		zp    *graph.Tensor
		axis  int64
	}
	shape := []int{3, 2, 4}
	i8 := make([]int8, 24)
	u8 := make([]uint8, 24)
	i32 := make([]int32, 24)
	for i := range i8 {
		i8[i] = int8(i*37 - 128)
		u8[i] = uint8(i * 11)
		i32[i] = int32(i*i*977_777 - 123_456_789)
	}
	cases := []tc{
		{"int8 per tensor", &graph.Tensor{DType: onnx.Int8, Shape: shape, Int8: i8}, []float32{0.05},
			&graph.Tensor{DType: onnx.Int8, Shape: []int{}, Int8: []int8{-7}}, 1},
		{"uint8 no zero point", &graph.Tensor{DType: onnx.Uint8, Shape: shape, Uint8: u8}, []float32{0.013}, nil, 1},
		{"int8 axis 0", &graph.Tensor{DType: onnx.Int8, Shape: shape, Int8: i8}, []float32{0.5, 0.25, 3},
			&graph.Tensor{DType: onnx.Int8, Shape: []int{3}, Int8: []int8{1, -2, 3}}, 0},
		{"uint8 last axis", &graph.Tensor{DType: onnx.Uint8, Shape: shape, Uint8: u8}, []float32{1, 0.1, 0.01, 7},
			&graph.Tensor{DType: onnx.Uint8, Shape: []int{4}, Uint8: []uint8{0, 128, 255, 3}}, -1},
		{"int32 inexact in float32", &graph.Tensor{DType: onnx.Int32, Shape: shape, Int32: i32}, []float32{1e-3},
			&graph.Tensor{DType: onnx.Int32, Shape: []int{}, Int32: []int32{-2_000_000_001}}, 1},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			scale := &graph.Tensor{DType: onnx.Float, Shape: []int{len(c.scale)}, Float32: c.scale}
			axis := int(c.axis)
			if axis < 0 {
				axis += len(shape)
			}
			step := &graph.Step{Node: &graph.Node{Op: "DequantizeLinear"}, P: graph.Params{Axis: axis}}
			if len(c.scale) == 1 {
				scale.Shape, step.P.Axis = []int{}, -1 // per tensor, as inferQuant resolves it
			}
			in := []*graph.Tensor{c.x, scale}
			if c.zp != nil {
				in = append(in, c.zp)
			}
			out := graph.NewTensor(onnx.Float, c.x.Shape)
			if err := Eval(step, in, []*graph.Tensor{out}); err != nil {
				t.Fatal(err)
			}
			inner := graph.NumElements(shape[axis+1:])
			for i := range out.Float32 {
				a := 0
				if len(c.scale) > 1 {
					a = i / inner % shape[axis]
				}
				z := 0.0
				if c.zp != nil {
					z = c.zp.Float64At(a)
				}
				want := float32(c.x.Float64At(i)-z) * c.scale[a]
				if math.Float32bits(out.Float32[i]) != math.Float32bits(want) {
					t.Fatalf("element %d (x %v, zero point %v, scale %v): got %v, want %v", i, c.x.Float64At(i), z, c.scale[a], out.Float32[i], want)
				}
			}
		})
	}
}
