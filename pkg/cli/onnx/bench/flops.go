package bench

import (
	"sort"

	"github.com/clip-go/clip/pkg/graph"
)

// FLOPCount is the arithmetic of one run of a bound plan, counted the
// usual way for matrix work: one multiply-add is 2 FLOPs, and only the
// matrix products and convolutions are counted (elementwise ops,
// normalisations and softmax are a few percent of a transformer's work
// and have no agreed count).
type FLOPCount struct {
	Total float64
	// ByOp splits Total by operator type (MatMul, Gemm, clip.Linear,
	// clip.QLinear, clip.Attention, Conv, MatMulInteger, ConvInteger).
	ByOp map[string]float64
}

// Ops returns the operator types of ByOp, sorted.
func (c FLOPCount) Ops() []string {
	var ks []string
	for k := range c.ByOp {
		ks = append(ks, k)
	}
	sort.Strings(ks)
	return ks
}

// CountFLOPs counts the FLOPs of every step of a bound plan (fused or
// not, so fusion never changes the count):
//
//	MatMul, MatMulInteger, clip.Linear, clip.QLinear: 2·M·N·K per product, i.e.
//	  2 · (elements of the output) · K, K the contracted dimension;
//	Gemm: 2·M·N·K with K from A's shape and transA;
//	Conv, ConvInteger: 2 · (Cin/group · kh · kw) per output element,
//	  i.e. 2·Cout·(Cin/g)·kh·kw·Hout·Wout per image (any spatial rank);
//	clip.Attention (Q [B,S,E], K [B,T,E]): its two products Q·Kᵀ and
//	  P·V, 2·B·S·T·E each, summed over heads.
//
// Steps whose shapes are missing are skipped rather than guessed.
func CountFLOPs(p *graph.Plan) FLOPCount {
	c := FLOPCount{ByOp: map[string]float64{}}
	for _, s := range p.Steps {
		if f := stepFLOPs(s); f > 0 {
			c.Total += f
			c.ByOp[s.Node.Op] += f
		}
	}
	return c
}

func stepFLOPs(s *graph.Step) float64 {
	if len(s.Out) == 0 || s.Out[0] == nil || len(s.In) < 2 || s.In[0] == nil {
		return 0
	}
	out := float64(graph.NumElements(s.Out[0].Shape))
	a := s.In[0].Shape
	if s.Node.Op == graph.OpAttention && s.In[1] == nil {
		// Packed form: In[0] is QKV [B, S, 3E], the output [B, S, E].
		o := s.Out[0].Shape
		if len(o) != 3 {
			return 0
		}
		return 2 * 2 * float64(o[0]) * float64(o[1]) * float64(o[1]) * float64(o[2])
	}
	if s.In[1] == nil {
		return 0
	}
	w := s.In[1].Shape
	switch s.Node.Op {
	case "MatMul", "MatMulInteger", graph.OpLinear, graph.OpQLinear:
		// A is [..., M, K] or [K]: K is its last dimension either way.
		if len(a) == 0 {
			return 0
		}
		return 2 * out * float64(a[len(a)-1])
	case graph.OpAttention:
		k := w // In: Q, K, V, mask
		if len(a) != 3 || len(k) != 3 {
			return 0
		}
		return 2 * 2 * float64(a[0]) * float64(a[1]) * float64(k[1]) * float64(a[2])
	case "Gemm":
		if len(a) != 2 {
			return 0
		}
		k := a[1]
		if s.P.TransA {
			k = a[0]
		}
		return 2 * out * float64(k)
	case "Conv", "ConvInteger", graph.OpPatchEmbed:
		// W is [Cout, Cin/group, k1, k2, ...]: each output element is a
		// dot product over everything but W's first dimension.
		if len(w) < 2 {
			return 0
		}
		return 2 * out * float64(graph.NumElements(w[1:]))
	}
	return 0
}
