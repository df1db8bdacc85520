package npytensor

import (
	"bytes"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/clip-go/clip/pkg/graph"
	"github.com/clip-go/clip/pkg/npy"
	"github.com/clip-go/clip/pkg/onnx"
)

// Files written by numpy (pkg/npy/testdata) read as tensors of the right
// type and shape, and write back to numpy's own bytes.
func TestNumpyFilesRoundTrip(t *testing.T) {
	for _, c := range []struct {
		file  string
		dtype onnx.DataType
		shape []int
		check func(*graph.Tensor) bool
	}{
		{"f32_2x3.npy", onnx.Float, []int{2, 3}, func(g *graph.Tensor) bool { return g.Float32[1] == float32(1.0/7) }},
		{"f64_4.npy", onnx.Double, []int{4}, func(g *graph.Tensor) bool { return g.Float64[3] == 1e300 }},
		{"f16_3x2.npy", onnx.Float16, []int{3, 2}, func(g *graph.Tensor) bool { return g.Float32[0] == 0.5 && g.Float32[2] == 65504 }},
		{"i64_scalar.npy", onnx.Int64, []int{}, func(g *graph.Tensor) bool { return len(g.Int64) == 1 }},
		{"i32_2x2x2.npy", onnx.Int32, []int{2, 2, 2}, func(g *graph.Tensor) bool { return len(g.Int32) == 8 }},
		{"i8_5.npy", onnx.Int8, []int{5}, func(g *graph.Tensor) bool { return len(g.Int8) == 5 }},
		{"u8_5.npy", onnx.Uint8, []int{5}, func(g *graph.Tensor) bool { return len(g.Uint8) == 5 }},
		{"bool_4.npy", onnx.Bool, []int{4}, func(g *graph.Tensor) bool { return len(g.Bool) == 4 }},
	} {
		path := filepath.Join("..", "npy", "testdata", c.file)
		g, err := ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		if g.DType != c.dtype || !slices.Equal(g.Shape, c.shape) || !c.check(g) {
			t.Errorf("%s: got %s %v %+v", c.file, graph.DTypeName(g.DType), g.Shape, g)
			continue
		}
		a, err := ToArray(g)
		if err != nil {
			t.Fatal(err)
		}
		var buf bytes.Buffer
		if err := npy.Write(&buf, a); err != nil {
			t.Fatal(err)
		}
		want, _ := os.ReadFile(path)
		if !bytes.Equal(buf.Bytes(), want) {
			t.Errorf("%s: written back, differs from numpy's bytes", c.file)
		}
	}
	if _, err := ReadFile(filepath.Join("..", "npy", "testdata", "complex.npy")); err == nil {
		t.Error("complex.npy: want an error")
	}
}
