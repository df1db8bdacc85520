package onnx

import (
	"os"
	"path/filepath"
	"testing"
)

// FuzzDecode feeds arbitrary bytes to Decode: it must return a model or an
// error, never panic or hang, and a decoded model's tensors must convert.
// Seeds are the fixture models (good and bad) and a few of libonnx-testdata;
// the corpus the fuzzer grew is kept in testdata/fuzz/FuzzDecode.
func FuzzDecode(f *testing.F) {
	var seeds []string
	for _, pat := range []string{"testdata/*.onnx", "testdata/bad/*.onnx", "testdata/ext/*.onnx", "testdata/*.pb",
		"/usr/share/libonnx-testdata/data/node/test_if/model.onnx",
		"/usr/share/libonnx-testdata/data/node/test_loop11/model.onnx",
		"/usr/share/libonnx-testdata/data/node/test_layer_normalization_2d_axis0/model.onnx",
		"/usr/share/libonnx-testdata/data/node/test_cast_FLOAT_to_FLOAT16/model.onnx"} {
		m, _ := filepath.Glob(pat)
		seeds = append(seeds, m...)
	}
	for _, p := range seeds {
		b, err := os.ReadFile(p)
		if err == nil {
			f.Add(b)
		}
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		m, err := Decode(b)
		if err != nil {
			if m != nil {
				t.Fatal("Decode returned both a model and an error")
			}
			return
		}
		if m.Graph == nil {
			t.Fatal("Decode returned a model without a graph")
		}
		exercise(t, m.Graph)
		_, _ = DecodeTensor("fuzz", b)
	})
}

// exercise converts every tensor of g and its subgraphs.
func exercise(t *testing.T, g *Graph) {
	for _, init := range g.Initializers {
		if n := init.NumElements(); n < 0 {
			t.Fatalf("tensor %q has %d elements", init.Name, n)
		}
		_, _ = init.Float32s()
		_, _ = init.Int64s()
		_, _ = init.AsLEBytes()
	}
	for _, n := range g.Nodes {
		for _, a := range n.Attributes {
			if a.G != nil {
				exercise(t, a.G)
			}
			for _, sg := range a.Graphs {
				exercise(t, sg)
			}
			if a.T != nil {
				_, _ = a.T.Float32s()
			}
		}
	}
}
