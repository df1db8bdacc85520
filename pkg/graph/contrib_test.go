package graph

import (
	"fmt"
	"strings"
	"testing"

	"github.com/clip-go/clip/pkg/onnx"
)

// TestContribLoweringErrors: a malformed or unsupported weight-quantized
// contrib node is one error naming the node and what is wrong with it.
// (The layouts themselves are checked against onnxruntime's outputs by
// the engine's TestDifferentialONNXRuntime on testdata/models/contrib and
// the tiny models' _q4, _q4f16 and _bnb4 files.)
func TestContribLoweringErrors(t *testing.T) {
	ints := func(name string, v int64) *onnx.Attribute {
		return &onnx.Attribute{Name: name, Type: onnx.AttrInt, I: v}
	}
	u8 := func(name string, n int) *onnx.Tensor {
		return &onnx.Tensor{Name: name, DataType: onnx.Uint8, Dims: []int64{int64(n)}, Uint8: make([]uint8, n)}
	}
	f32 := func(name string, n int) *onnx.Tensor {
		return &onnx.Tensor{Name: name, DataType: onnx.Float, Dims: []int64{int64(n)}, Float32: make([]float32, n)}
	}
	// K=32, N=2, 4 bits, block 16: B [2, 2, 8] = 32 bytes, 4 scales.
	nbits := func(inputs []string, attrs ...*onnx.Attribute) *onnx.Node {
		if attrs == nil {
			attrs = []*onnx.Attribute{ints("K", 32), ints("N", 2), ints("bits", 4), ints("block_size", 16)}
		}
		return &onnx.Node{Name: "q", OpType: "MatMulNBits", Domain: "com.microsoft", Inputs: inputs, Outputs: []string{"y"}, Attributes: attrs}
	}
	for _, tc := range []struct {
		name  string
		node  *onnx.Node
		inits []*onnx.Tensor
		want  string
	}{
		{"unknown contrib op", &onnx.Node{Name: "q", OpType: "Attention", Domain: "com.microsoft", Inputs: []string{"x"}, Outputs: []string{"y"}},
			nil, "Attention"},
		{"B too short", nbits([]string{"x", "B", "s"}), []*onnx.Tensor{u8("B", 31), f32("s", 4)}, "holds 31 bytes"},
		{"scales count", nbits([]string{"x", "B", "s"}), []*onnx.Tensor{u8("B", 32), f32("s", 3)}, "holds 3 values"},
		{"computed weight", nbits([]string{"x", "x", "s"}), []*onnx.Tensor{f32("s", 4)}, "computed by the graph"},
		{"g_idx", nbits([]string{"x", "B", "s", "", "g"}), []*onnx.Tensor{u8("B", 32), f32("s", 4)}, "g_idx"},
		{"zero points count", nbits([]string{"x", "B", "s", "z"}), []*onnx.Tensor{u8("B", 32), f32("s", 4), u8("z", 3)}, "zero_points"},
		{"bits 3", nbits([]string{"x", "B", "s"}, ints("K", 32), ints("N", 2), ints("bits", 3), ints("block_size", 16)),
			[]*onnx.Tensor{u8("B", 32), f32("s", 4)}, "bits=3"},
		{"block size", nbits([]string{"x", "B", "s"}, ints("K", 32), ints("N", 2), ints("block_size", 24)),
			[]*onnx.Tensor{u8("B", 32), f32("s", 4)}, "block_size=24"},
		{"no K", nbits([]string{"x", "B", "s"}, ints("N", 2), ints("block_size", 16)),
			[]*onnx.Tensor{u8("B", 32), f32("s", 4)}, "K=0"},
		{"bnb4 quant type", &onnx.Node{Name: "q", OpType: "MatMulBnb4", Domain: "com.microsoft", Inputs: []string{"x", "B", "s"}, Outputs: []string{"y"},
			Attributes: []*onnx.Attribute{ints("K", 32), ints("N", 2), ints("block_size", 16), ints("quant_type", 2)}},
			[]*onnx.Tensor{u8("B", 32), f32("s", 4)}, "quant_type=2"},
		{"bnb4 absmax count", &onnx.Node{Name: "q", OpType: "MatMulBnb4", Domain: "com.microsoft", Inputs: []string{"x", "B", "s"}, Outputs: []string{"y"},
			Attributes: []*onnx.Attribute{ints("K", 32), ints("N", 2), ints("block_size", 16), ints("quant_type", 1)}},
			[]*onnx.Tensor{u8("B", 32), f32("s", 5)}, "absmax"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			g := &onnx.Graph{
				Inputs:       []*onnx.ValueInfo{vi("x", onnx.Float, 1, 32)},
				Outputs:      []*onnx.ValueInfo{vi("y", onnx.Float, 1, 2)},
				Nodes:        []*onnx.Node{tc.node},
				Initializers: tc.inits,
			}
			_, err := FromModel(model(17, g), nil)
			if err == nil || !strings.Contains(err.Error(), `"q"`) || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("got %v, want an error naming node q and %q", err, tc.want)
			}
		})
	}
}

// TestMatMulNBitsLowersToMatMul: a well-formed node becomes MatMul by a
// float32 [K, N] constant plus the bias Add, which the Linear fusion takes.
func TestMatMulNBitsLowersToMatMul(t *testing.T) {
	b := &onnx.Tensor{Name: "B", DataType: onnx.Uint8, Dims: []int64{2, 2, 8}, Uint8: make([]uint8, 32)}
	for i := range b.Uint8 {
		b.Uint8[i] = 0x98 // codes 8 (low) and 9 (high): 0 and +1 × scale
	}
	s := &onnx.Tensor{Name: "s", DataType: onnx.Float, Dims: []int64{2, 2}, Float32: []float32{1, 2, 3, 4}}
	bias := &onnx.Tensor{Name: "bias", DataType: onnx.Float, Dims: []int64{2}, Float32: []float32{5, 6}}
	g := &onnx.Graph{
		Inputs:  []*onnx.ValueInfo{vi("x", onnx.Float, 1, 32)},
		Outputs: []*onnx.ValueInfo{vi("y", onnx.Float, 1, 2)},
		Nodes: []*onnx.Node{{Name: "q", OpType: "MatMulNBits", Domain: "com.microsoft", Inputs: []string{"x", "B", "s", "", "", "bias"}, Outputs: []string{"y"},
			Attributes: []*onnx.Attribute{{Name: "K", Type: onnx.AttrInt, I: 32}, {Name: "N", Type: onnx.AttrInt, I: 2}, {Name: "block_size", Type: onnx.AttrInt, I: 16}}}},
		Initializers: []*onnx.Tensor{b, s, bias},
	}
	gr, err := FromModel(model(17, g), nil)
	if err != nil {
		t.Fatal(err)
	}
	var ops []string
	for _, n := range gr.Nodes {
		ops = append(ops, n.Op)
	}
	if strings.Join(ops, ",") != "MatMul,Add" {
		t.Fatalf("nodes %v, want MatMul,Add", ops)
	}
	w := gr.Consts[gr.Nodes[0].Inputs[1]]
	if w == nil || w.DType != onnx.Float || len(w.Shape) != 2 || w.Shape[0] != 32 || w.Shape[1] != 2 {
		t.Fatalf("weight %+v, want float [32 2]", w)
	}
	// Column 0: blocks scaled 1 and 2; column 1: 3 and 4. Even k read the
	// low nibble (code 8: 0), odd k the high one (code 9: +1).
	for k := 0; k < 32; k++ {
		for j := 0; j < 2; j++ {
			want := float32(0)
			if k%2 == 1 {
				want = s.Float32[j*2+k/16]
			}
			if got := w.Materialize()[k*2+j]; got != want {
				t.Fatalf("W[%d][%d] = %v, want %v", k, j, got, want)
			}
		}
	}
}

// BenchmarkFromColumns times dequantizing and laying out ViT-B's fc1 and
// fc2 weights (768 × 3072, 3072 × 768) from MatMulNBits' column-major
// 4-bit blocks, what a _q4 file's weight costs before it is packed.
func BenchmarkFromColumns(b *testing.B) {
	for _, s := range []struct{ k, n int }{{768, 3072}, {3072, 768}} {
		codes := make([]uint8, s.n*s.k/2)
		for i := range codes {
			codes[i] = uint8(i * 7)
		}
		b.Run(fmt.Sprintf("%dx%d", s.k, s.n), func(b *testing.B) {
			b.SetBytes(int64(4 * s.k * s.n))
			for b.Loop() {
				decodeColumns(s.k, s.n, func(j int, col []float32) {
					c := codes[j*s.k/2:]
					for i := 0; i < len(col); i += 2 {
						col[i] = float32(c[i/2]&0xF) - 8
						col[i+1] = float32(c[i/2]>>4) - 8
					}
				})
			}
		})
	}
}
