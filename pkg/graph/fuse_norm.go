package graph

import "github.com/clip-go/clip/pkg/onnx"

// normLinear folds a LayerNormalization over the last axis whose output
// only an OpLinear reads, as its X, into that step: the Linear then reads
// the LayerNorm's input and normalises it first (into working memory the
// engine plans) with the same kernel and parameters, so the results are
// the same; the graph has one node fewer. In CLIP's pre-LN blocks the
// LayerNorm before the attention feeds only the fused Q, K, V projection
// and the one before the MLP only fc1. Only float32 chains fold: a
// float16 graph rounds the LayerNorm's output to half precision, which
// the Linear's input would not be.
func (f *fuser) normLinear(ln *Step) bool {
	if f.removed[ln] || f.replace[ln] != nil || ln.Node.Op != "LayerNormalization" || len(ln.Out) != 1 || len(ln.In) < 2 {
		return false
	}
	x, y := ln.In[0], ln.Out[0]
	if x == nil || x.DType != onnx.Float || y.DType != onnx.Float || len(x.Shape) < 1 || ln.P.Axis != len(x.Shape)-1 {
		return false
	}
	k := x.Shape[len(x.Shape)-1]
	scale := ln.In[1]
	var bias *Value
	if len(ln.In) > 2 {
		bias = ln.In[2]
	}
	if !vector(scale, k) || scale.DType != onnx.Float || (bias != nil && (!vector(bias, k) || bias.DType != onnx.Float)) {
		return false
	}
	lin := f.only(y, OpLinear)
	if lin == nil || len(lin.In) < linearInputs || lin.In[0] != y || lin.In[linearNormScale] != nil {
		return false
	}
	fused := &Step{Node: lin.Node, In: append([]*Value{}, lin.In...), Out: lin.Out, P: lin.P}
	fused.In[0], fused.In[linearNormScale], fused.In[linearNormBias] = x, scale, bias
	fused.P.Eps = ln.P.Eps
	f.removed[ln] = true
	f.replace[lin] = fused
	return true
}
