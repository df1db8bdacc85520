package graph

import "github.com/clip-go/clip/pkg/onnx"

// Multi-head attention as other exporters write it (see attention for
// the 3-D bmm form of Hugging Face's older eager attention):
//
//   - attention4D: q, k, v viewed as [B, H, S, D] (Hugging Face's eager
//     attention since transformers 4.48, and torch ≥ 2.0's decomposition
//     of scaled_dot_product_attention, which scales q and kᵀ by √scale
//     each);
//   - attentionSeqFirst: nn.MultiheadAttention (OpenCLIP), sequence-first
//     [S, B, E] tokens viewed as [B·H, S, D], q divided by √D.
//
// Both fuse into OpAttention; the scalar factors met on q, on kᵀ and on
// the scores (Mul or Div by a constant) multiply into its Scale, and one
// additive mask applied after them becomes its mask.

// scaled strips Mul/Div by scalar constants off v (each step read only
// here) and returns the value under them, the product of the factors and
// the steps.
func (f *fuser) scaled(v *Value) (*Value, float64, []*Step) {
	scale := 1.0
	var steps []*Step
	for {
		if m := f.producer(v, "Mul", 1); m != nil {
			found := false
			for i := 0; i < 2; i++ {
				if c, ok := scalar(m.In[1-i]); ok && isF32(m.In[i]) && sameShape(m.In[i].Shape, v.Shape) {
					scale, v, steps, found = scale*c, m.In[i], append(steps, m), true
					break
				}
			}
			if found {
				continue
			}
		}
		if d := f.producer(v, "Div", 1); d != nil {
			if c, ok := scalar(d.In[1]); ok && c != 0 && isF32(d.In[0]) && sameShape(d.In[0].Shape, v.Shape) {
				scale, v, steps = scale/c, d.In[0], append(steps, d)
				continue
			}
		}
		return v, scale, steps
	}
}

// scores walks back from the softmax's input: an optional additive mask
// (applied last), under it scalar factors, down to the Q·Kᵀ MatMul. ss
// lists the mask shapes the kernel accepts for this attention.
func (f *fuser) scores(v *Value, ss ...[]int) (mm *Step, mask *Value, scale float64, steps []*Step) {
	if ad := f.producer(v, "Add", 1); ad != nil {
		for i := 0; i < 2 && mask == nil; i++ {
			m := ad.In[1-i]
			if !isF32(m) || m.DType != ad.Out[0].DType {
				continue
			}
			for _, sh := range ss {
				if sameShape(m.Shape, sh) {
					mask, v, steps = m, ad.In[i], append(steps, ad)
					break
				}
			}
		}
		if mask == nil {
			return nil, nil, 0, nil
		}
	}
	v, scale, sc := f.scaled(v)
	steps = append(steps, sc...)
	mm = f.producer(v, "MatMul", 1)
	if mm == nil {
		return nil, nil, 0, nil
	}
	return mm, mask, scale, append(steps, mm)
}

// attend4 matches o [B, H, S, D] = Softmax₃(scores)·V on 4-D head views,
// the scores as scores does (masks [S, S], [1, 1, S, S], [1, S, S] and
// the extra shapes given); it returns the P·V and Q·Kᵀ MatMuls, the mask,
// the scale and every step matched (the MatMuls included).
func (f *fuser) attend4(o *Value, b, h, s, d int, masks ...[]int) (mm2, mm1 *Step, mask *Value, scale float64, steps []*Step) {
	mm2 = f.producer(o, "MatMul", 1)
	if mm2 == nil || !sameShape(mm2.Out[0].Shape, []int{b, h, s, d}) {
		return nil, nil, nil, 0, nil
	}
	sm := f.producer(mm2.In[0], "Softmax", 1)
	if sm == nil || sm.P.Axis != 3 || sm.P.WholeAxis || !sameShape(sm.Out[0].Shape, []int{b, h, s, s}) {
		return nil, nil, nil, 0, nil
	}
	mm1, mask, scale, steps = f.scores(sm.In[0], append([][]int{{s, s}, {1, 1, s, s}, {1, s, s}}, masks...)...)
	if mm1 == nil || !sameShape(mm1.Out[0].Shape, []int{b, h, s, s}) {
		return nil, nil, nil, 0, nil
	}
	return mm2, mm1, mask, scale, append(steps, mm2, sm)
}

// split4 undoes Transpose_perm(Reshape(x [B, S, H·D] → [B, S, H, D])).
func (f *fuser) split4(v *Value, perm []int, b, s, h, d int) (*Value, []*Step) {
	tr := f.producer(v, "Transpose", 1)
	if tr == nil || !isPerm(tr.P.Perm, perm...) {
		return nil, nil
	}
	rs := f.producer(tr.In[0], "Reshape", 1)
	if rs == nil || !sameShape(rs.Out[0].Shape, []int{b, s, h, d}) || !isF32(rs.In[0]) || !sameShape(rs.In[0].Shape, []int{b, s, h * d}) {
		return nil, nil
	}
	return rs.In[0], []*Step{tr, rs}
}

func (f *fuser) attention4D(r9 *Step) bool {
	if f.removed[r9] || f.replace[r9] != nil || r9.Node.Op != "Reshape" || len(r9.Out[0].Shape) != 3 || !isF32(r9.Out[0]) {
		return false
	}
	b, s, e := r9.Out[0].Shape[0], r9.Out[0].Shape[1], r9.Out[0].Shape[2]
	t4 := f.producer(r9.In[0], "Transpose", 1)
	if t4 == nil || !isPerm(t4.P.Perm, 0, 2, 1, 3) || len(t4.Out[0].Shape) != 4 {
		return false
	}
	h, d := t4.Out[0].Shape[2], t4.Out[0].Shape[3]
	if h*d != e || !sameShape(t4.Out[0].Shape, []int{b, s, h, d}) {
		return false
	}
	// Besides the [S, S]-shaped masks, a padding mask of one row per
	// batch ([B, 1, 1, S]: BERT-family text towers, M-CLIP's XLM-R).
	mm2, mm1, mask, scale, steps := f.attend4(t4.In[0], b, h, s, d, []int{b, 1, s, s}, []int{b, 1, 1, s}, []int{1, 1, 1, s})
	if mm2 == nil {
		return false
	}
	qv, qs, qsteps := f.scaled(mm1.In[0])
	kv, ks, ksteps := f.scaled(mm1.In[1])
	q, qc := f.split4(qv, []int{0, 2, 1, 3}, b, s, h, d)
	k, kc := f.split4(kv, []int{0, 2, 3, 1}, b, s, h, d)
	v, vc := f.split4(mm2.In[1], []int{0, 2, 1, 3}, b, s, h, d)
	if q == nil || k == nil || v == nil {
		return false
	}
	// A factor on the projection before the head split (M2M100/NLLB's
	// q_proj(x)·scaling) multiplies into the scale too, so that the
	// attention reads the projections themselves (and Q, K, V pack).
	q, qs2, qsteps2 := f.scaled(q)
	k, ks2, ksteps2 := f.scaled(k)
	f.removeAll([]*Step{t4}, steps, qsteps, ksteps, qc, kc, vc, qsteps2, ksteps2)
	f.replace[r9] = &Step{
		Node: &Node{Name: r9.Node.Name + "/fused_Attention", Op: OpAttention},
		In:   []*Value{q, k, v, mask},
		Out:  []*Value{r9.Out[0]},
		P:    Params{Heads: h, Scale: float32(scale * qs * ks * qs2 * ks2)},
	}
	return true
}

// splitSeqFirst undoes Transpose_perm(Reshape(x [S, B, H·D] → [S, B·H, D])).
func (f *fuser) splitSeqFirst(v *Value, perm []int, s, bh, d int) (*Value, []*Step) {
	tr := f.producer(v, "Transpose", 1)
	if tr == nil || !isPerm(tr.P.Perm, perm...) {
		return nil, nil
	}
	rs := f.producer(tr.In[0], "Reshape", 1)
	if rs == nil || !sameShape(rs.Out[0].Shape, []int{s, bh, d}) || !isF32(rs.In[0]) || len(rs.In[0].Shape) != 3 {
		return nil, nil
	}
	x := rs.In[0].Shape
	if x[0] != s || x[1] < 1 || bh%x[1] != 0 || x[2] != bh/x[1]*d {
		return nil, nil
	}
	return rs.In[0], []*Step{tr, rs}
}

func (f *fuser) attentionSeqFirst(r9 *Step) bool {
	if f.removed[r9] || f.replace[r9] != nil || r9.Node.Op != "Reshape" || !isF32(r9.Out[0]) {
		return false
	}
	t4 := f.producer(r9.In[0], "Transpose", 1)
	if t4 == nil || !isPerm(t4.P.Perm, 1, 0, 2) || len(t4.Out[0].Shape) != 3 {
		return false
	}
	s, bh, d := t4.Out[0].Shape[0], t4.Out[0].Shape[1], t4.Out[0].Shape[2]
	mm2 := f.producer(t4.In[0], "MatMul", 1)
	if mm2 == nil || !sameShape(mm2.Out[0].Shape, []int{bh, s, d}) {
		return false
	}
	// t keys: t = s in a self attention; a cross attention (SigLIP's
	// pooling head: a learned query over the image's tokens) has others.
	sm := f.producer(mm2.In[0], "Softmax", 1)
	if sm == nil || sm.P.Axis != 2 || sm.P.WholeAxis || len(sm.Out[0].Shape) != 3 {
		return false
	}
	t := sm.Out[0].Shape[2]
	if !sameShape(sm.Out[0].Shape, []int{bh, s, t}) {
		return false
	}
	mm1, mask, scale, steps := f.scores(sm.In[0], []int{s, t}, []int{1, s, t})
	if mm1 == nil || !sameShape(mm1.Out[0].Shape, []int{bh, s, t}) {
		return false
	}
	qv, qs, qsteps := f.scaled(mm1.In[0])
	kv, ks, ksteps := f.scaled(mm1.In[1])
	k, kc := f.splitSeqFirst(kv, []int{1, 2, 0}, t, bh, d)
	v, vc := f.splitSeqFirst(mm2.In[1], []int{1, 0, 2}, t, bh, d)
	if k == nil || v == nil || !sameShape(k.Shape, v.Shape) {
		return false
	}
	q, qc := f.splitSeqFirst(qv, []int{1, 0, 2}, s, bh, d)
	if q == nil {
		q = seqFirstConst(qv, k.Shape[1])
	}
	if q == nil || !sameShape(q.Shape, []int{s, k.Shape[1], k.Shape[2]}) {
		return false
	}
	f.removeAll([]*Step{t4, mm2, sm}, steps, qsteps, ksteps, qc, kc, vc)
	f.placeSeqFirst(r9, []*Value{q, k, v, mask}, Params{Heads: bh / q.Shape[1], Scale: float32(scale * qs * ks), SeqFirst: true})
	return true
}

// seqFirstConst returns a constant query already split into heads
// [B·H, S, D] (a learned probe, repeated over the batch and projected
// when the plan was bound) as the sequence-first [S, B, H·D] tokens it
// was split from, or nil when v is no such constant.
func seqFirstConst(v *Value, b int) *Value {
	if v.Const == nil || v.DType != onnx.Float || len(v.Shape) != 3 || b < 1 || v.Shape[0]%b != 0 {
		return nil
	}
	bh, s, d := v.Shape[0], v.Shape[1], v.Shape[2]
	h := bh / b
	t := NewTensor(onnx.Float, []int{s, b, h * d})
	src := v.Const.Materialize()
	for i := 0; i < bh; i++ { // i = batch·H + head
		for j := 0; j < s; j++ {
			copy(t.Float32[(j*b+i/h)*h*d+i%h*d:][:d], src[(i*s+j)*d:][:d])
		}
	}
	return &Value{Name: v.Name + "/clip_seq_first", DType: onnx.Float, Shape: t.Shape, Const: t}
}

// removeAll drops the steps of every group.
func (f *fuser) removeAll(groups ...[]*Step) {
	for _, group := range groups {
		for _, st := range group {
			f.removed[st] = true
		}
	}
}

// placeSeqFirst runs a sequence-first OpAttention of the given inputs and
// parameters just before r9, the Reshape of its [S, B·H, D] or
// [S, B, H, D] output to [S·B, E], which then reads the attention's
// [S, B, E] output instead.
func (f *fuser) placeSeqFirst(r9 *Step, in []*Value, p Params) {
	q := in[0]
	out := &Value{Name: r9.Node.Name + "/fused_Attention_output", DType: r9.Out[0].DType, Shape: append([]int{}, q.Shape...)}
	f.before[r9] = []*Step{{
		Node: &Node{Name: r9.Node.Name + "/fused_Attention", Op: OpAttention},
		In:   in,
		Out:  []*Value{out},
		P:    p,
	}}
	f.replace[r9] = &Step{Node: r9.Node, In: append([]*Value{out}, r9.In[1:]...), Out: r9.Out, P: r9.P}
}

// packedQKV gives an OpAttention whose Q, K and V are the three column
// thirds of one value (nn.MultiheadAttention's packed in_proj: one
// Linear of width 3·E, then chunk's Slices along the last axis, or torch
// 2's Gathers, see packedThirds) that value directly, in its packed form,
// dropping the split; and one whose K and V alone are the two column
// halves of a value (the packed in_proj of a cross attention, whose
// query comes from elsewhere) that value as its K, V nil. It returns the
// fusion's kind for Fuse's statistics (QKV or KV, and QLinear when the
// packed projection is int8), or "".
func (f *fuser) packedQKV(at *Step) string {
	if f.removed[at] || f.replace[at] != nil || at.Node.Op != OpAttention || len(at.In) < attentionParts || at.In[1] == nil || at.In[2] == nil {
		return ""
	}
	in := append([]*Value{}, at.In...)
	kind := "QKV"
	x, steps := f.packedThirds(at.In[:attentionParts])
	if x != nil {
		in[0], in[1], in[2] = x, nil, nil
	} else if x, steps = f.columnParts(at.In[:attentionParts]); x != nil {
		in[0], in[1], in[2] = x, nil, nil
	} else if x, steps = f.columnParts(at.In[1:attentionParts]); x != nil {
		in[1], in[2], kind = x, nil, "KV"
	} else {
		return ""
	}
	f.removeAll(steps)
	f.replace[at] = &Step{Node: at.Node, In: in, Out: at.Out, P: at.P}
	if pr := f.prod[x]; pr != nil && pr.Node.Op == OpQLinear {
		return kind + "QLinear"
	}
	return kind + "Linear"
}

// columnParts returns x and the Slices when parts[i] is Slice i of
// len(parts) equal column blocks of x's last axis (the whole of it).
func (f *fuser) columnParts(parts []*Value) (*Value, []*Step) {
	var x *Value
	var slices []*Step
	for i, v := range parts {
		sl := f.producer(v, "Slice", 1)
		if sl == nil || (x != nil && sl.In[0] != x) {
			return nil, nil
		}
		x = sl.In[0]
		r := len(x.Shape)
		o := sl.Out[0].Shape
		if r == 0 || len(o) != r || !isF32(x) || x.Shape[r-1] != len(parts)*o[r-1] || !sameShape(x.Shape[:r-1], o[:r-1]) ||
			len(sl.P.Starts) != r || sl.P.Starts[r-1] != i*o[r-1] {
			return nil, nil
		}
		for _, st := range sl.P.Steps {
			if st != 1 {
				return nil, nil
			}
		}
		slices = append(slices, sl)
	}
	return x, slices
}

// attentionSeqFirst4D fuses nn.MultiheadAttention as torch ≥ 2.0 writes it
// when no weights are asked for: the sequence-first head views [B·H, S, D]
// are reshaped to [B, H, S, D] for scaled_dot_product_attention (whose
// decomposition scales q and kᵀ, see attention4D), and the output is
// permuted (2, 0, 1, 3) back to [S·B, E].
func (f *fuser) attentionSeqFirst4D(r9 *Step) bool {
	if f.removed[r9] || f.replace[r9] != nil || r9.Node.Op != "Reshape" || !isF32(r9.Out[0]) {
		return false
	}
	t4 := f.producer(r9.In[0], "Transpose", 1)
	if t4 == nil || !isPerm(t4.P.Perm, 2, 0, 1, 3) || len(t4.Out[0].Shape) != 4 {
		return false
	}
	s, b, h, d := t4.Out[0].Shape[0], t4.Out[0].Shape[1], t4.Out[0].Shape[2], t4.Out[0].Shape[3]
	mm2, mm1, mask, scale, steps := f.attend4(t4.In[0], b, h, s, d)
	if mm2 == nil {
		return false
	}
	// heads undoes Reshape([B·H, S, D] → [B, H, S, D]) of a sequence-first split.
	heads := func(v *Value, kt bool) (*Value, []*Step) {
		var chain []*Step
		if kt {
			tr := f.producer(v, "Transpose", 1)
			if tr == nil || !isPerm(tr.P.Perm, 0, 1, 3, 2) {
				return nil, nil
			}
			v, chain = tr.In[0], append(chain, tr)
		}
		rs := f.producer(v, "Reshape", 1)
		if rs == nil || !sameShape(rs.Out[0].Shape, []int{b, h, s, d}) || !sameShape(rs.In[0].Shape, []int{b * h, s, d}) {
			return nil, nil
		}
		x, split := f.splitSeqFirst(rs.In[0], []int{1, 0, 2}, s, b*h, d)
		if x == nil || !sameShape(x.Shape, []int{s, b, h * d}) {
			return nil, nil
		}
		return x, append(append(chain, rs), split...)
	}
	qv, qs, qsteps := f.scaled(mm1.In[0])
	kv, ks, ksteps := f.scaled(mm1.In[1])
	q, qc := heads(qv, false)
	k, kc := heads(kv, true)
	v, vc := heads(mm2.In[1], false)
	if q == nil || k == nil || v == nil {
		return false
	}
	f.removeAll([]*Step{t4}, steps, qsteps, ksteps, qc, kc, vc)
	f.placeSeqFirst(r9, []*Value{q, k, v, mask}, Params{Heads: h, Scale: float32(scale * qs * ks), SeqFirst: true})
	return true
}

// packedThirds returns x and the steps when q, k and v are torch ≥ 2.0's
// split of a packed in_proj output x [..., 3·E]: Gather(axis 0, index
// 0/1/2) of Squeeze(Transpose_(3,1,2,0,4)(Unsqueeze_0(Reshape(x →
// [S, B, 3, E])))), i.e. unflatten(-1, (3, E)).unsqueeze(0).transpose(0,
// -2).squeeze(-2).
func (f *fuser) packedThirds(in []*Value) (*Value, []*Step) {
	var p *Value
	var steps []*Step
	for i, v := range in {
		g := f.producer(v, "Gather", 1)
		if g == nil || (p != nil && g.In[0] != p) || g.P.Axis != 0 || len(g.In) != 2 {
			return nil, nil
		}
		if idx := g.In[1]; idx == nil || idx.Const == nil || idx.Const.Len() != 1 || len(idx.Const.Int64) != 1 || idx.Const.Int64[0] != int64(i) {
			return nil, nil
		}
		p, steps = g.In[0], append(steps, g)
	}
	sq := f.producer(p, "Squeeze", len(in))
	if sq == nil {
		return nil, nil
	}
	tr := f.producer(sq.In[0], "Transpose", 1)
	if tr == nil || !isPerm(tr.P.Perm, 3, 1, 2, 0, 4) {
		return nil, nil
	}
	un := f.producer(tr.In[0], "Unsqueeze", 1)
	if un == nil {
		return nil, nil
	}
	rs := f.producer(un.In[0], "Reshape", 1)
	if rs == nil || len(rs.Out[0].Shape) != 4 || rs.Out[0].Shape[2] != 3 {
		return nil, nil
	}
	x := rs.In[0]
	sh := rs.Out[0].Shape
	if !isF32(x) || !sameShape(x.Shape, []int{sh[0], sh[1], 3 * sh[3]}) || !sameShape(un.Out[0].Shape, append([]int{1}, sh...)) ||
		!sameShape(sq.Out[0].Shape, []int{3, sh[0], sh[1], sh[3]}) {
		return nil, nil
	}
	return x, append(steps, sq, tr, un, rs)
}
