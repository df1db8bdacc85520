package graph

// OpPatchEmbed is a vision transformer's patch embedding: a 2-D Conv
// whose kernel tiles the image (stride = kernel, no padding, dilation 1,
// one group), flattened to tokens. With X [B, C, H, W], W [M, C, KH, KW]
// and OH = ⌊H/KH⌋, OW = ⌊W/KW⌋:
//
//	Y[b, oy·OW+ox, m] = Σ_{c,ky,kx} X[b, c, oy·KH+ky, ox·KW+kx]·W[m, c, ky, kx] + Bias[m]
//
// i.e. Transpose₀₂₁(Reshape(Conv(X, W, Bias) → [B, M, OH·OW])), output
// [B, OH·OW, M]. In: X, W (constant), Bias (or nil).
const OpPatchEmbed = "clip.PatchEmbed"

// patchEmbed fuses Conv → Reshape [B, M, OH·OW] → Transpose (0, 2, 1)
// into OpPatchEmbed: the engine then multiplies the image's patches, one
// row each, by the weights in a single GEMM over the whole batch and
// writes the tokens in place, where the Conv ran one small GEMM per image
// and the Transpose copied its result.
func (f *fuser) patchEmbed(tr *Step) bool {
	if f.removed[tr] || f.replace[tr] != nil || tr.Node.Op != "Transpose" || !isPerm(tr.P.Perm, 0, 2, 1) || !isF32(tr.Out[0]) {
		return false
	}
	rs := f.producer(tr.In[0], "Reshape", 1)
	if rs == nil {
		return false
	}
	cv := f.producer(rs.In[0], "Conv", 1)
	if cv == nil || len(cv.In) < 2 || len(cv.Out) != 1 {
		return false
	}
	x, w, y := cv.In[0], cv.In[1], cv.Out[0]
	var bias *Value
	if len(cv.In) > 2 {
		bias = cv.In[2]
	}
	if !isF32(x) || !isF32(w) || w.Const == nil || len(x.Shape) != 4 || len(w.Shape) != 4 || len(y.Shape) != 4 ||
		y.DType != tr.Out[0].DType || rs.Out[0].DType != y.DType {
		return false
	}
	p := &cv.P
	kh, kw := w.Shape[2], w.Shape[3]
	if p.Group != 1 || !sameShape(p.Kernel, []int{kh, kw}) || !sameShape(p.Strides, []int{kh, kw}) ||
		!sameShape(p.Dilations, []int{1, 1}) || !sameShape(p.Pads, []int{0, 0, 0, 0}) {
		return false
	}
	b, c, m := x.Shape[0], x.Shape[1], w.Shape[0]
	oh, ow := y.Shape[2], y.Shape[3]
	if w.Shape[1] != c || kh < 1 || kw < 1 || !sameShape(y.Shape, []int{b, m, x.Shape[2] / kh, x.Shape[3] / kw}) ||
		!sameShape(rs.Out[0].Shape, []int{b, m, oh * ow}) || !sameShape(tr.Out[0].Shape, []int{b, oh * ow, m}) {
		return false
	}
	if bias != nil && (!vector(bias, m) || bias.DType != y.DType) {
		return false
	}
	f.removed[cv], f.removed[rs] = true, true
	f.replace[tr] = &Step{
		Node: &Node{Name: cv.Node.Name + "/fused_PatchEmbed", Op: OpPatchEmbed},
		In:   []*Value{x, w, bias},
		Out:  []*Value{tr.Out[0]},
	}
	return true
}
