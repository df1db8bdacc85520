package graph

import "github.com/clip-go/clip/pkg/onnx"

// normLinear folds a LayerNormalization over the last axis whose output
// only an OpLinear reads, as its X, into that step: the Linear then reads
// the LayerNorm's input and normalises it first (into working memory the
// engine plans) with the same kernel and parameters, so the results are
// the same; the graph has one node fewer. In CLIP's pre-LN blocks the
// LayerNorm before the attention feeds only the fused Q, K, V projection
// and the one before the MLP only fc1. A float16 chain folds too, with
// Params.NormHalf: the prologue then rounds the normalised X to half
// precision, where the LayerNorm step stored its output, so the Linear
// reads the same values (as a separate step, its pass over memory and
// its rounding were ~6% of an _fp16 ViT).
func (f *fuser) normLinear(ln *Step) bool {
	if f.removed[ln] || f.replace[ln] != nil || ln.Node.Op != "LayerNormalization" || len(ln.Out) != 1 || len(ln.In) < 2 {
		return false
	}
	x, y := ln.In[0], ln.Out[0]
	if x == nil || x.DType != y.DType || x.DType != onnx.Float && x.DType != onnx.Float16 || len(x.Shape) < 1 || ln.P.Axis != len(x.Shape)-1 {
		return false
	}
	k := x.Shape[len(x.Shape)-1]
	scale := ln.In[1]
	var bias *Value
	if len(ln.In) > 2 {
		bias = ln.In[2]
	}
	if !vector(scale, k) || !isF32(scale) || (bias != nil && (!vector(bias, k) || !isF32(bias))) {
		return false
	}
	lin := f.only(y, OpLinear)
	if lin == nil || len(lin.In) < linearInputs || lin.In[0] != y || lin.In[linearNormScale] != nil {
		return false
	}
	fused := &Step{Node: lin.Node, In: append([]*Value{}, lin.In...), Out: lin.Out, P: lin.P}
	fused.In[0], fused.In[linearNormScale], fused.In[linearNormBias] = x, scale, bias
	fused.P.Eps = ln.P.Eps
	fused.P.NormHalf = y.DType == onnx.Float16
	f.removed[ln] = true
	f.replace[lin] = fused
	return true
}
