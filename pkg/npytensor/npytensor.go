// Package npytensor converts between .npy arrays (pkg/npy) and the
// engine's tensors (pkg/graph), for `clip onnx run`/`bench` and the
// engine's tests against reference outputs. It sits beside pkg/npy so that
// npy stays a plain file format with no dependency on the engine.
package npytensor

import (
	"fmt"

	"github.com/clip-go/clip/pkg/graph"
	"github.com/clip-go/clip/pkg/npy"
	"github.com/clip-go/clip/pkg/onnx"
)

// ReadFile reads a .npy file as a tensor (see FromArray); errors name the file.
func ReadFile(path string) (*graph.Tensor, error) {
	a, err := npy.ReadFile(path)
	if err != nil {
		return nil, err
	}
	t, err := FromArray(a)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return t, nil
}

// FromArray converts a .npy array to a tensor of the matching element type;
// float16 values ("<f2") are widened to float32, as tensors hold them. The
// tensor shares a's data otherwise.
func FromArray(a *npy.Array) (*graph.Tensor, error) {
	shape := make([]int, len(a.Shape))
	for i, d := range a.Shape {
		shape[i] = int(d)
	}
	t := &graph.Tensor{Shape: shape}
	switch d := a.Data.(type) {
	case []float32:
		t.DType, t.Float32 = onnx.Float, d
	case []float64:
		t.DType, t.Float64 = onnx.Double, d
	case []uint16:
		t.DType, t.Float32 = onnx.Float16, make([]float32, len(d))
		for i, h := range d {
			t.Float32[i] = onnx.Float16ToFloat32(h)
		}
	case []int64:
		t.DType, t.Int64 = onnx.Int64, d
	case []int32:
		t.DType, t.Int32 = onnx.Int32, d
	case []uint8:
		t.DType, t.Uint8 = onnx.Uint8, d
	case []int8:
		t.DType, t.Int8 = onnx.Int8, d
	case []bool:
		t.DType, t.Bool = onnx.Bool, d
	default:
		return nil, fmt.Errorf("unsupported dtype %v", a.DType)
	}
	return t, nil
}

// ToArray converts a tensor to a .npy array with the same element type
// (float16 values, held widened, are narrowed back to half bits).
func ToArray(t *graph.Tensor) (*npy.Array, error) {
	shape := make([]int64, len(t.Shape))
	for i, d := range t.Shape {
		shape[i] = int64(d)
	}
	data := t.Data()
	switch t.DType {
	case onnx.Float16:
		h := make([]uint16, len(t.Float32))
		for i, f := range t.Float32 {
			h[i] = onnx.Float32ToFloat16(f)
		}
		data = h
	case onnx.BFloat16:
		data = nil // no .npy dtype
	}
	if data == nil {
		return nil, fmt.Errorf("cannot write %s as .npy", graph.DTypeName(t.DType))
	}
	return npy.New(shape, data)
}
