package graph

import (
	"math"
	"testing"

	"github.com/clip-go/clip/pkg/onnx"
)

// TestCausalMask checks which masks equal the causal mode exactly: the
// values exporters write above the diagonal, per batch block.
func TestCausalMask(t *testing.T) {
	causal := func(seq int, hidden float32) []float32 {
		m := make([]float32, seq*seq)
		for i := 0; i < seq; i++ {
			for j := i + 1; j < seq; j++ {
				m[i*seq+j] = hidden
			}
		}
		return m
	}
	lowest := float32(-math.MaxFloat32)
	inf := float32(math.Inf(-1))
	padded := causal(4, lowest)
	padded[3*4+1] = lowest // a padding key hidden below the diagonal
	diag := causal(4, lowest)
	diag[2*4+2] = lowest
	nan := causal(4, lowest)
	nan[1] = float32(math.NaN())
	tests := []struct {
		name string
		mask []float32
		seq  int
		want bool
	}{
		{"float32 lowest (HF)", causal(5, lowest), 5, true},
		{"-inf (OpenAI, open_clip)", causal(5, inf), 5, true},
		{"two batches", append(causal(3, inf), causal(3, lowest)...), 3, true},
		{"-10000 (not surely hidden)", causal(5, -10000), 5, false},
		{"padding too", padded, 4, false},
		{"diagonal hidden", diag, 4, false},
		{"NaN above", nan, 4, false},
		{"second batch not causal", append(causal(3, inf), make([]float32, 9)...), 3, false},
		{"all zero", make([]float32, 16), 4, false},
		{"no mask", nil, 4, false},
		{"not whole blocks", causal(4, inf)[:12], 4, false},
		{"one token", []float32{0}, 1, true},
	}
	for _, tt := range tests {
		if got := CausalMask(tt.mask, tt.seq); got != tt.want {
			t.Errorf("%s: CausalMask = %v, want %v", tt.name, got, tt.want)
		}
	}
}

// TestCausalAttentionFusion binds an attention's constant mask to the
// kernel's causal mode when it is the causal one, and leaves every other
// mask as an input: one not surely hidden, a run-time one (its values may
// change between runs), a cross attention's and one whose blocks are not
// seq×seq for the attention's own sequence axis (sequence-first reads it
// from axis 0).
func TestCausalAttentionFusion(t *testing.T) {
	const b, seq, e = 2, 4, 8
	mask := func(hidden float32) *Value {
		m := make([]float32, seq*seq)
		for i := range seq {
			for j := i + 1; j < seq; j++ {
				m[i*seq+j] = hidden
			}
		}
		return &Value{Name: "mask", DType: onnx.Float, Shape: []int{seq, seq},
			Const: &Tensor{DType: onnx.Float, Shape: []int{seq, seq}, Float32: m}}
	}
	inf := float32(math.Inf(-1))
	runtime := mask(inf)
	runtime.Const = nil
	kv := &Value{Name: "kv", DType: onnx.Float, Shape: []int{b, seq, 2 * e}}
	tests := []struct {
		name     string
		kv       *Value // nil: packed Q, K, V
		mask     *Value
		seqFirst bool
		want     bool
	}{
		{"-inf", nil, mask(inf), false, true},
		{"float32 lowest", nil, mask(-math.MaxFloat32), false, true},
		{"-10000", nil, mask(-10000), false, false},
		{"run-time mask", nil, runtime, false, false},
		{"cross attention", kv, mask(inf), false, false},
		{"sequence-first [S, B, E] with an [S, S] mask", nil, mask(inf), true, true},
		{"no mask", nil, nil, false, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			outShape := []int{b, seq, e}
			qShape := []int{b, seq, 3 * e}
			if tt.seqFirst {
				outShape, qShape = []int{seq, b, e}, []int{seq, b, 3 * e}
			}
			if tt.kv != nil {
				qShape = outShape
			}
			q := &Value{Name: "q", DType: onnx.Float, Shape: qShape, Input: true}
			out := &Value{Name: "out", DType: onnx.Float, Shape: outShape}
			at := &Step{Node: &Node{Name: "attn", Op: OpAttention}, In: []*Value{q, tt.kv, nil, tt.mask},
				Out: []*Value{out}, P: Params{Heads: 2, Scale: 0.5, SeqFirst: tt.seqFirst}}
			p := &Plan{Steps: []*Step{at}, Inputs: []*Value{q}, Outputs: []*Value{out}}
			made := p.Fuse()
			s := p.Steps[0]
			if s.P.Causal != tt.want || (made["CausalAttention"] == 1) != tt.want {
				t.Fatalf("Causal = %v (fusions %v), want %v", s.P.Causal, made, tt.want)
			}
			if tt.want && s.In[3] != nil {
				t.Error("a causal attention keeps its mask input")
			}
			if !tt.want && s.In[3] != tt.mask {
				t.Error("the mask input changed")
			}
		})
	}
}
