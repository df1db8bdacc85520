package graph

import (
	"fmt"
	"math"
	"strings"

	"github.com/clip-go/clip/pkg/onnx"
)

// Ops created by fusion. They are not ONNX operators, so no model can
// name them; the "clip." prefix keeps them apart from ONNX's names.
const (
	// OpLinear is Y = Act(X̂·W + Bias) + Residual with X [..., K] and a
	// constant W [K, N], where X̂ is X, or LayerNorm(X) over its last axis
	// with NormScale, NormBias and Params.Eps when NormScale is set (see
	// normLinear). In: X, W, Bias (or nil), Residual (or nil), NormScale
	// (or nil), NormBias (or nil), then further weights (see LinearPart).
	OpLinear = "clip.Linear"
	// OpQuickGELU is x·sigmoid(1.702·x). In: X.
	OpQuickGELU = "clip.QuickGELU"
	// OpGELU is x/2·(1+erf(x/√2)), the exact GELU (torch's nn.GELU). In: X.
	OpGELU = "clip.GELU"
	// OpGELUTanh is x/2·(1+tanh(√(2/π)·(x+0.044715·x³))), the tanh GELU. In: X.
	OpGELUTanh = "clip.GELUTanh"
	// OpQLinear is OpLinear on dynamically quantized activations, the
	// MatMulInteger → Cast → Mul(scale) chain of int8 exports with the
	// same epilogue: Y = Act(float(Xq·Wq)·(XScale·WScale) + Bias) +
	// Residual, computed in that order in float32. In: Xq (uint8), Wq
	// (constant), Xq's zero point, Wq's zero point (constant or nil),
	// XScale (one value), WScale (one or N values), Bias, Residual.
	OpQLinear = "clip.QLinear"
	// OpAttention is multi-head attention over Q, K, V of shape [B, S, E]
	// (E = Params.Heads × head size): softmax(Q·Kᵀ·Params.Scale + mask)·V
	// per head, output [B, S, E]. In: Q, K, V, mask ([S, S] or [B, S, S]
	// values, or nil; with Params.Causal, nil and the keys after each
	// query hidden). In its packed form In is QKV, nil, nil, mask: QKV
	// [B, S, 3·E] holds Q, K and V side by side in each row (the output
	// of a fused QKV projection, see qkv). A cross attention has T keys
	// (K and V [B, T, E], mask [S, T] or [B, S, T]), and may have them
	// packed: In is Q, KV, nil, mask with KV [B, T, 2·E]. With
	// Params.SeqFirst every [B, ·, ·] above is [·, B, ·].
	OpAttention = "clip.Attention"
)

// Activations of OpLinear (Params.Act).
const (
	ActNone      = 0
	ActQuickGELU = 1
	ActGELU      = 2
	ActGELUTanh  = 3
	ActReLU      = 4
)

// Fuse rewrites the plan's float32 steps into larger ones, in this order,
// after canonicalising what exporters write differently (see canon.go:
// float→float Casts dropped, Transpose chains composed): the decomposed
// LayerNorm pattern (ReduceMean, Sub, Pow, ReduceMean, Add,
// Sqrt, Div, Mul, Add) into one LayerNormalization; x·sigmoid(1.702·x)
// into OpQuickGELU and the erf GELU into OpGELU; the multi-head attention
// block exporters write as Reshape/Transpose/MatMul/Softmax/MatMul/
// Transpose/Reshape (with optional additive masks; 3-D or 4-D head views,
// or nn.MultiheadAttention's sequence-first ones, see fuse_attn.go) into
// OpAttention; MatMul by a constant matrix, with the bias Add, a
// following QuickGELU and a residual Add when present, into OpLinear (and
// the int8 MatMulInteger chains into OpQLinear); then the three Q, K, V
// projections of each attention into one OpLinear/OpQLinear with their
// weights side by side (see qkv); and a ViT's patch-embedding Conv with
// its Reshape and Transpose into OpPatchEmbed; a LayerNorm whose only
// reader is an OpLinear into that step (see normLinear); last, the
// layout steps: Reshapes a Linear reads through, sequence-first regions
// run batch-first without their two Transposes (see foldLeadingSwap),
// Transposes of size-1 axes as Reshapes; and self-attentions whose
// constant mask is the causal one run in the kernel's causal mode
// without it (see causalAttention); last, chains of the elementwise
// operators left as one OpElementwise step each (see elementwiseChains).
// Interior values used elsewhere (or graph outputs) block a fusion.
// Float16 chains fuse too: the fused step then rounds to half precision
// once, at its output, where the op-by-op graph rounded after every op
// (which brings the _fp16 exports closer to onnxruntime, whose fused
// kernels also compute in float32 inside). It returns how many fusions of
// each kind it made.
func (p *Plan) Fuse() map[string]int { return p.fuse(true) }

// FuseGeneric runs only the passes that match no pattern: canonical Casts
// and Transposes, and chains of elementwise operators as one step (see
// elementwiseChains). It is how a graph runs when no pattern fusion
// matches any of it (clip onnx bench --fusion generic measures that).
func (p *Plan) FuseGeneric() map[string]int { return p.fuse(false) }

func (p *Plan) fuse(patterns bool) map[string]int {
	f := &fuser{p: p, prod: map[*Value]*Step{}, cons: map[*Value][]*Step{}, removed: map[*Step]bool{}, replace: map[*Step]*Step{}, before: map[*Step][]*Step{}}
	f.index()
	made := map[string]int{}
	// pass runs one rewrite over every step, then applies it: match
	// returns the kind of fusion it made of a step, or "".
	pass := func(match func(s *Step) string) {
		for _, s := range p.Steps {
			if kind := match(s); kind != "" {
				made[kind]++
			}
		}
		f.commit()
	}
	is := func(kind string, ok bool) string {
		if ok {
			return kind
		}
		return ""
	}
	pass(func(s *Step) string { return is("NoopCast", f.noopCast(s)) })
	pass(func(s *Step) string { return is("Transpose", f.composeTranspose(s)) })
	if !patterns {
		if n := f.elementwiseChains(); n > 0 {
			made["Elementwise"] = n
		}
		f.commit()
		return made
	}
	pass(func(s *Step) string { return is("LayerNorm", f.layerNorm(s)) })
	pass(func(s *Step) string {
		if f.quickGELU(s) {
			return "QuickGELU"
		}
		return strings.TrimPrefix(f.gelu(s), "clip.")
	})
	pass(func(s *Step) string { return is("Linear", f.linear(s)) })
	pass(func(s *Step) string { return is("QLinear", f.qlinear(s)) })
	pass(func(s *Step) string {
		return is("Attention", f.attention(s) || f.attention4D(s) || f.attentionSeqFirst(s) || f.attentionSeqFirst4D(s))
	})
	pass(func(s *Step) string {
		if kind := f.qkv(s); kind != "" {
			return kind
		}
		return f.packedQKV(s)
	})
	pass(func(s *Step) string { return is("PatchEmbed", f.patchEmbed(s)) })
	pass(func(s *Step) string { return is("NormLinear", f.normLinear(s)) })
	pass(func(s *Step) string { return is("ReshapeIntoLinear", f.reshapeIntoLinear(s)) })
	pass(func(s *Step) string { return is("LeadingSwap", f.foldLeadingSwap(s)) })
	pass(func(s *Step) string { return is("TransposeAsReshape", f.unitTranspose(s)) })
	pass(func(s *Step) string { return is("CausalAttention", f.causalAttention(s)) })
	// Last: what the patterns left of elementwise work.
	if n := f.elementwiseChains(); n > 0 {
		made["Elementwise"] += n
	}
	f.commit()
	for _, s := range p.Steps {
		if s.Node.Op == OpAttention && s.In[0] != nil && s.In[0].Const != nil {
			made["PoolingAttention"]++ // a learned query's (see Report)
		}
	}
	return made
}

type fuser struct {
	p       *Plan
	prod    map[*Value]*Step
	cons    map[*Value][]*Step
	outputs map[*Value]bool
	removed map[*Step]bool
	replace map[*Step]*Step   // step → fused step taking its place
	before  map[*Step][]*Step // new steps to run just before a replacement
}

func (f *fuser) index() {
	f.prod, f.cons, f.outputs = map[*Value]*Step{}, map[*Value][]*Step{}, map[*Value]bool{}
	for _, s := range f.p.Steps {
		for _, o := range s.Out {
			f.prod[o] = s
		}
		for _, in := range s.In {
			if in != nil {
				f.cons[in] = append(f.cons[in], s)
			}
		}
	}
	for _, o := range f.p.Outputs {
		f.outputs[o] = true
	}
}

// commit applies the pending replacements and removals, then re-indexes.
func (f *fuser) commit() {
	var steps []*Step
	for _, s := range f.p.Steps {
		if r, ok := f.replace[s]; ok {
			steps = append(append(steps, f.before[s]...), r)
			continue
		}
		if !f.removed[s] {
			steps = append(steps, s)
		}
	}
	f.p.Steps = steps
	f.removed, f.replace, f.before = map[*Step]bool{}, map[*Step]*Step{}, map[*Step][]*Step{}
	f.index()
}

// producer returns the live step of op producing v when v feeds exactly
// uses steps and is not a graph output.
func (f *fuser) producer(v *Value, op string, uses int) *Step {
	if v == nil || f.outputs[v] || len(f.cons[v]) != uses {
		return nil
	}
	s := f.prod[v]
	if s == nil || f.removed[s] || f.replace[s] != nil || s.Node.Op != op {
		return nil
	}
	return s
}

// only returns the single live consumer of v when it is of op.
func (f *fuser) only(v *Value, op string) *Step {
	if f.outputs[v] || len(f.cons[v]) != 1 {
		return nil
	}
	s := f.cons[v][0]
	if f.removed[s] || f.replace[s] != nil || s.Node.Op != op {
		return nil
	}
	return s
}

// isF32 reports whether v is held as float32: float, or float16 widened.
func isF32(v *Value) bool { return v != nil && (v.DType == onnx.Float || v.DType == onnx.Float16) }

// scalar returns a constant's single float value.
func scalar(v *Value) (float64, bool) {
	if v == nil || v.Const == nil || v.Const.Len() != 1 || !isF32(v) {
		return 0, false
	}
	return float64(v.Const.Materialize()[0]), true
}

// vector reports whether v is a constant float32 vector of n values.
func vector(v *Value, n int) bool {
	return v != nil && v.Const != nil && isF32(v) && len(v.Shape) == 1 && v.Shape[0] == n
}

// other returns the input of a binary step that is not v.
func other(s *Step, v *Value) *Value {
	if len(s.In) != 2 {
		return nil
	}
	if s.In[0] == v {
		return s.In[1]
	}
	if s.In[1] == v {
		return s.In[0]
	}
	return nil
}

func lastAxis(s *Step, v *Value) bool {
	r := len(v.Shape)
	return r > 0 && len(s.P.Axes) == 1 && s.P.Axes[0] == r-1 && s.P.Keep && !s.P.Noop
}

func (f *fuser) layerNorm(ad *Step) bool {
	if f.removed[ad] || f.replace[ad] != nil || ad.Node.Op != "Add" || len(ad.In) != 2 || !isF32(ad.Out[0]) {
		return false
	}
	for bi := 0; bi < 2; bi++ {
		beta, y := ad.In[bi], ad.In[1-bi]
		ml := f.producer(y, "Mul", 1)
		if ml == nil {
			continue
		}
		for gi := 0; gi < 2; gi++ {
			gamma, nrm := ml.In[gi], ml.In[1-gi]
			dv := f.producer(nrm, "Div", 1)
			if dv == nil {
				continue
			}
			d, sqv := dv.In[0], dv.In[1]
			sub := f.producer(d, "Sub", 2)
			sq := f.producer(sqv, "Sqrt", 1)
			if sub == nil || sq == nil {
				continue
			}
			ae := f.producer(sq.In[0], "Add", 1)
			if ae == nil {
				continue
			}
			var m2 *Step
			var eps float64
			for ei := 0; ei < 2; ei++ {
				if e, ok := scalar(ae.In[ei]); ok {
					m2, eps = f.producer(ae.In[1-ei], "ReduceMean", 1), e
				}
			}
			if m2 == nil {
				continue
			}
			pw := f.producer(m2.In[0], "Pow", 1)
			if pw == nil || pw.In[0] != d {
				continue
			}
			if e, ok := scalar(pw.In[1]); !ok || e != 2 {
				continue
			}
			x := sub.In[0]
			m1 := f.producer(sub.In[1], "ReduceMean", 1)
			if m1 == nil || m1.In[0] != x || !isF32(x) || !lastAxis(m1, x) || !lastAxis(m2, d) {
				continue
			}
			// d must be used only by Pow and Div.
			if c := f.cons[d]; !(len(c) == 2 && (c[0] == pw && c[1] == dv || c[0] == dv && c[1] == pw)) {
				continue
			}
			n := x.Shape[len(x.Shape)-1]
			if !vector(gamma, n) || !vector(beta, n) {
				continue
			}
			fused := &Step{
				Node: &Node{Name: ad.Node.Name + "/fused_LayerNorm", Op: "LayerNormalization"},
				In:   []*Value{x, gamma, beta},
				Out:  []*Value{ad.Out[0]},
				P:    Params{Axis: len(x.Shape) - 1, Eps: float32(eps)},
			}
			for _, s := range []*Step{m1, sub, pw, m2, ae, sq, dv, ml} {
				f.removed[s] = true
			}
			f.replace[ad] = fused
			return true
		}
	}
	return false
}

func (f *fuser) quickGELU(m2 *Step) bool {
	if f.removed[m2] || f.replace[m2] != nil || m2.Node.Op != "Mul" || len(m2.In) != 2 || !isF32(m2.Out[0]) {
		return false
	}
	for si := 0; si < 2; si++ {
		x, sv := m2.In[1-si], m2.In[si]
		sg := f.producer(sv, "Sigmoid", 1)
		if sg == nil {
			continue
		}
		m1 := f.producer(sg.In[0], "Mul", 1)
		if m1 == nil || other(m1, x) == nil || m1.In[0] == m1.In[1] {
			continue
		}
		c, ok := scalar(other(m1, x))
		tol := 1e-6
		if x != nil && x.DType == onnx.Float16 {
			tol = 1e-3 // 1.702 stored as a half is 1.7021484375
		}
		if !ok || math.Abs(c-1.702) > tol || !isF32(x) || !sameShape(x.Shape, m2.Out[0].Shape) {
			continue
		}
		f.removed[m1], f.removed[sg] = true, true
		f.replace[m2] = &Step{
			Node: &Node{Name: m2.Node.Name + "/fused_QuickGELU", Op: OpQuickGELU},
			In:   []*Value{x},
			Out:  []*Value{m2.Out[0]},
		}
		return true
	}
	return false
}

func (f *fuser) linear(mm *Step) bool {
	if f.removed[mm] || f.replace[mm] != nil || mm.Node.Op != "MatMul" || len(mm.In) != 2 {
		return false
	}
	x, w := mm.In[0], mm.In[1]
	if !isF32(x) || !isF32(w) || w.Const == nil || len(w.Shape) != 2 || len(x.Shape) < 2 {
		return false
	}
	k, n := w.Shape[0], w.Shape[1]
	if x.Shape[len(x.Shape)-1] != k || k == 0 || n == 0 {
		return false
	}
	fused := &Step{
		Node: &Node{Name: mm.Node.Name + "/fused_Linear", Op: OpLinear},
		In:   make([]*Value, linearInputs), // X, W, then optional inputs
		P:    Params{Act: ActNone},
	}
	fused.In[0], fused.In[1] = x, w
	last, out, absorbed := f.epilogue(fused, mm, 2, n)
	f.place(fused, mm, last, out, absorbed)
	return true
}

// epilogue absorbs into fused what follows first's output: an Add of a
// constant bias of n values (stored at In[at]), a QuickGELU, and an Add
// of a residual of the output's shape (stored at In[at+1]). (The
// activation may also be a GELU or a ReLU.) It returns the
// last absorbed step, the fused step's output and the absorbed steps.
func (f *fuser) epilogue(fused, first *Step, at, n int) (*Step, *Value, []*Step) {
	last, out := first, first.Out[0]
	var absorbed []*Step
	if ad := f.only(out, "Add"); ad != nil {
		if b := other(ad, out); vector(b, n) && b.DType == out.DType && sameShape(ad.Out[0].Shape, out.Shape) {
			fused.In[at] = b
			absorbed = append(absorbed, ad)
			last, out = ad, ad.Out[0]
		}
	}
	if g := f.only(out, OpQuickGELU); g != nil {
		fused.P.Act = ActQuickGELU
		absorbed = append(absorbed, g)
		last, out = g, g.Out[0]
	} else if g := f.only(out, OpGELU); g != nil {
		fused.P.Act = ActGELU
		absorbed = append(absorbed, g)
		last, out = g, g.Out[0]
	} else if g := f.only(out, OpGELUTanh); g != nil {
		fused.P.Act = ActGELUTanh
		absorbed = append(absorbed, g)
		last, out = g, g.Out[0]
	} else if g := f.only(out, "Relu"); g != nil && g.Out[0].DType == out.DType {
		// M2M100/NLLB's MLP activation
		fused.P.Act = ActReLU
		absorbed = append(absorbed, g)
		last, out = g, g.Out[0]
	}
	// The residual may be added under another shape of the same rows
	// (nn.MultiheadAttention's output projection runs on [S·B, E] and is
	// viewed back as [S, B, E] before the residual): the Reshape only
	// renames the data, so the fused step writes the Add's output.
	res, view := out, (*Step)(nil)
	if rs := f.only(out, "Reshape"); rs != nil && len(rs.Out[0].Shape) > 0 && rs.Out[0].Shape[len(rs.Out[0].Shape)-1] == n {
		res, view = rs.Out[0], rs
	}
	if ad := f.only(res, "Add"); ad != nil {
		if r := other(ad, res); r != nil && r.Const == nil && r.DType == res.DType && sameShape(r.Shape, res.Shape) && sameShape(ad.Out[0].Shape, res.Shape) {
			fused.In[at+1] = r
			if view != nil {
				absorbed = append(absorbed, view)
			}
			absorbed = append(absorbed, ad)
			last, out = ad, ad.Out[0]
		}
	}
	return last, out, absorbed
}

// place puts fused where last was, removing first and the absorbed steps.
func (f *fuser) place(fused, first, last *Step, out *Value, absorbed []*Step) {
	fused.Out = []*Value{out}
	if last != first {
		f.removed[first] = true
	}
	for _, s := range absorbed {
		if s != last {
			f.removed[s] = true
		}
	}
	f.replace[last] = fused
}

// qlinear fuses MatMulInteger(Xq, Wq) → Cast(float) → Mul(·, Mul(XScale,
// WScale)) and the Linear epilogue into OpQLinear.
func (f *fuser) qlinear(mm *Step) bool {
	if f.removed[mm] || f.replace[mm] != nil || mm.Node.Op != "MatMulInteger" || len(mm.In) < 2 {
		return false
	}
	x, w := mm.In[0], mm.In[1]
	if x.DType != onnx.Uint8 || w.Const == nil || len(w.Shape) != 2 || len(x.Shape) < 2 || (w.DType != onnx.Uint8 && w.DType != onnx.Int8) {
		return false
	}
	var xz, wz *Value
	if len(mm.In) > 2 {
		xz = mm.In[2]
	}
	if len(mm.In) > 3 {
		wz = mm.In[3]
	}
	if (xz != nil && (xz.DType != onnx.Uint8 || NumElements(xz.Shape) != 1)) || (wz != nil && wz.Const == nil) {
		return false
	}
	n := w.Shape[1]
	cast := f.only(mm.Out[0], "Cast")
	if cast == nil || cast.P.To != onnx.Float {
		return false
	}
	mul := f.only(cast.Out[0], "Mul")
	if mul == nil || !sameShape(mul.Out[0].Shape, cast.Out[0].Shape) {
		return false
	}
	scales := other(mul, cast.Out[0])
	sm := f.producer(scales, "Mul", 1)
	if sm == nil || len(sm.In) != 2 {
		return false
	}
	xs, ws := sm.In[0], sm.In[1]
	if xs == nil || ws == nil || !isF32(xs) || !isF32(ws) || xs.DType != onnx.Float || ws.DType != onnx.Float {
		return false
	}
	if NumElements(xs.Shape) != 1 {
		xs, ws = ws, xs
	}
	if NumElements(xs.Shape) != 1 || ws.Const == nil || (NumElements(ws.Shape) != 1 && NumElements(ws.Shape) != n) || !sameShape(scales.Shape, []int{n}) && NumElements(scales.Shape) != 1 {
		return false
	}
	fused := &Step{
		Node: &Node{Name: mm.Node.Name + "/fused_QLinear", Op: OpQLinear},
		In:   []*Value{x, w, xz, wz, xs, ws, nil, nil},
	}
	last, out, absorbed := f.epilogue(fused, mul, 6, n)
	f.removed[cast], f.removed[sm] = true, true
	if last != mul {
		f.removed[mul] = true
	}
	f.place(fused, mm, last, out, absorbed)
	return true
}

func sameShape(a, b []int) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

func isPerm(p []int, want ...int) bool {
	if len(p) != len(want) {
		return false
	}
	for i := range p {
		if p[i] != want[i] {
			return false
		}
	}
	return true
}

// heads undoes the head split of one attention operand: v3 [B·H, S, D]
// must come from Reshape(Transpose₀₂₁₃(Reshape(x [B, S, H·D] → [B, S, H, D])))
// and the chain's steps are returned with x.
func (f *fuser) heads(v3 *Value, b, s, h, d int) (*Value, []*Step) {
	r3 := f.producer(v3, "Reshape", 1)
	if r3 == nil || !sameShape(v3.Shape, []int{b * h, s, d}) {
		return nil, nil
	}
	tr := f.producer(r3.In[0], "Transpose", 1)
	if tr == nil || !isPerm(tr.P.Perm, 0, 2, 1, 3) {
		return nil, nil
	}
	r4 := f.producer(tr.In[0], "Reshape", 1)
	if r4 == nil || !sameShape(r4.Out[0].Shape, []int{b, s, h, d}) || !isF32(r4.In[0]) || !sameShape(r4.In[0].Shape, []int{b, s, h * d}) {
		return nil, nil
	}
	return r4.In[0], []*Step{r3, tr, r4}
}

func (f *fuser) attention(r9 *Step) bool {
	if f.removed[r9] || f.replace[r9] != nil || r9.Node.Op != "Reshape" || len(r9.Out[0].Shape) != 3 || !isF32(r9.Out[0]) {
		return false
	}
	b, s, e := r9.Out[0].Shape[0], r9.Out[0].Shape[1], r9.Out[0].Shape[2]
	t4 := f.producer(r9.In[0], "Transpose", 1)
	if t4 == nil || !isPerm(t4.P.Perm, 0, 2, 1, 3) {
		return false
	}
	r8 := f.producer(t4.In[0], "Reshape", 1)
	if r8 == nil || len(r8.Out[0].Shape) != 4 {
		return false
	}
	h, d := r8.Out[0].Shape[1], r8.Out[0].Shape[3]
	if !sameShape(r8.Out[0].Shape, []int{b, h, s, d}) || h*d != e {
		return false
	}
	mm2 := f.producer(r8.In[0], "MatMul", 1)
	if mm2 == nil || !sameShape(mm2.Out[0].Shape, []int{b * h, s, d}) {
		return false
	}
	sm := f.producer(mm2.In[0], "Softmax", 1)
	if sm == nil || sm.P.Axis != 2 || !sameShape(sm.Out[0].Shape, []int{b * h, s, s}) {
		return false
	}
	chain := []*Step{t4, r8, mm2, sm}
	scores := sm.In[0]
	// Optional additive masks, each applied as
	// Reshape(Add(Reshape(scores → [B, H, S, S]), mask) → [B·H, S, S]).
	var masks []*Value
	for {
		r7 := f.producer(scores, "Reshape", 1)
		if r7 == nil {
			break
		}
		add := f.producer(r7.In[0], "Add", 1)
		if add == nil || !sameShape(add.Out[0].Shape, []int{b, h, s, s}) {
			return false
		}
		var r6 *Step
		var mask *Value
		for i := 0; i < 2; i++ {
			if r := f.producer(add.In[i], "Reshape", 1); r != nil && sameShape(r.Out[0].Shape, []int{b, h, s, s}) {
				r6, mask = r, add.In[1-i]
			}
		}
		if r6 == nil || !isF32(mask) {
			return false
		}
		ms := mask.Shape
		switch {
		case sameShape(ms, []int{s, s}), sameShape(ms, []int{1, 1, s, s}), sameShape(ms, []int{1, s, s}):
		case sameShape(ms, []int{b, 1, s, s}):
		case sameShape(ms, []int{b, 1, 1, s}), sameShape(ms, []int{1, 1, 1, s}): // a padding (key) mask
		default:
			return false
		}
		masks = append(masks, mask)
		chain = append(chain, r7, add, r6)
		scores = r6.In[0]
	}
	var mask *Value
	var maskSteps []*Step
	switch len(masks) {
	case 0:
	case 1:
		mask = masks[0]
	default:
		// Several masks (causal and padding) are summed once into one;
		// they hold 0 or a huge negative, so the sum masks exactly what
		// the separate additions did.
		mask = masks[0]
		for i, m := range masks[1:] {
			shape, err := Broadcast(mask.Shape, m.Shape)
			if err != nil {
				return false
			}
			sum := &Value{Name: fmt.Sprintf("%s/fused_mask_%d", r9.Node.Name, i), DType: mask.DType, Shape: shape}
			maskSteps = append(maskSteps, &Step{
				Node: &Node{Name: sum.Name, Op: "Add"},
				In:   []*Value{mask, m},
				Out:  []*Value{sum},
			})
			mask = sum
		}
		if !sameShape(mask.Shape, []int{b, 1, s, s}) && !sameShape(mask.Shape, []int{1, 1, s, s}) {
			return false
		}
	}
	mm1 := f.producer(scores, "MatMul", 1)
	if mm1 == nil || !sameShape(mm1.Out[0].Shape, []int{b * h, s, s}) {
		return false
	}
	kt := f.producer(mm1.In[1], "Transpose", 1)
	if kt == nil || !isPerm(kt.P.Perm, 0, 2, 1) {
		return false
	}
	chain = append(chain, mm1, kt)
	q, qs := f.heads(mm1.In[0], b, s, h, d)
	k, ks := f.heads(kt.In[0], b, s, h, d)
	v, vs := f.heads(mm2.In[1], b, s, h, d)
	if q == nil || k == nil || v == nil {
		return false
	}
	chain = append(append(append(chain, qs...), ks...), vs...)
	// The exporters scale Q before the product (Mul or Div by constants).
	q, scale, scaling := f.scaled(q)
	chain = append(chain, scaling...)
	for _, st := range chain {
		f.removed[st] = true
	}
	f.before[r9] = maskSteps
	f.replace[r9] = &Step{
		Node: &Node{Name: r9.Node.Name + "/fused_Attention", Op: OpAttention},
		In:   []*Value{q, k, v, mask},
		Out:  []*Value{r9.Out[0]},
		P:    Params{Heads: h, Scale: float32(scale)},
	}
	return true
}
