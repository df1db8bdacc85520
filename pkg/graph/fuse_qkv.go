package graph

// A fused OpLinear or OpQLinear step may carry several weight matrices
// that read the same input, their products side by side in each output
// row: Y = X·[W₁|W₂|…] + [b₁|b₂|…]. The engine packs the concatenated
// weight once and runs one GEMM with the summed width, which packs X once
// instead of once per matrix and gives the GEMM a wider N. The Q, K and V
// projections of an attention block fuse this way (see qkv).
//
// Layout of the further parts in Step.In, after the step's usual inputs:
//
//	OpLinear:  X, W, Bias, Residual, NormScale, NormBias, then (W, Bias)
//	           per further part;
//	OpQLinear: Xq, Wq, XZero, WZero, XScale, WScale, Bias, Residual, then
//	           (Wq, WZero, WScale, Bias) per further part.
//
// A step with several parts has no residual and no activation.
const (
	linearInputs   = 6
	linearPartIn   = 2
	qlinearInputs  = 8
	qlinearPartIn  = 4
	attentionParts = 3 // Q, K, V

	linearResidual  = 3 // positions in OpLinear's In
	linearNormScale = 4
	linearNormBias  = 5
	qlinearResidual = 7 // position in OpQLinear's In
)

// LinearPart is one weight of an OpLinear step with its bias (or nil).
type LinearPart struct{ W, Bias *Value }

// NumLinearParts returns how many weight matrices an OpLinear step holds.
func NumLinearParts(s *Step) int {
	return 1 + max(len(s.In)-linearInputs, 0)/linearPartIn
}

// LinearPartAt returns part i (0-based, in output column order) of an
// OpLinear step.
func LinearPartAt(s *Step, i int) LinearPart {
	if i == 0 {
		return LinearPart{W: s.In[1], Bias: s.In[2]}
	}
	at := linearInputs + (i-1)*linearPartIn
	return LinearPart{W: s.In[at], Bias: s.In[at+1]}
}

// QLinearPart is one quantized weight of an OpQLinear step with its zero
// point (or nil), scale and bias (or nil).
type QLinearPart struct{ W, WZero, WScale, Bias *Value }

// NumQLinearParts returns how many weight matrices an OpQLinear step holds.
func NumQLinearParts(s *Step) int {
	return 1 + max(len(s.In)-qlinearInputs, 0)/qlinearPartIn
}

// QLinearPartAt returns part i (0-based, in output column order) of an
// OpQLinear step.
func QLinearPartAt(s *Step, i int) QLinearPart {
	if i == 0 {
		return QLinearPart{W: s.In[1], WZero: s.In[3], WScale: s.In[5], Bias: s.In[6]}
	}
	at := qlinearInputs + (i-1)*qlinearPartIn
	return QLinearPart{W: s.In[at], WZero: s.In[at+1], WScale: s.In[at+2], Bias: s.In[at+3]}
}

// qkv merges the three projections feeding one OpAttention as Q, K and V
// into one OpLinear (or OpQLinear) with the three weights side by side,
// placed just before the attention, which then reads Q, K and V as column
// ranges of its single [..., 3·E] output (OpAttention's packed form). The
// projections must read the same input (for OpQLinear: the same quantized
// input, zero point and scale, i.e. one DynamicQuantizeLinear), have no
// activation or residual, the same K, and feed nothing but the attention.
// Each output element is computed by the same dot product as before and
// goes through the same bias addition and rounding, so the results are
// those of the three separate steps; a scale the exporter applies to Q
// stays in the attention (or in Q's weights), untouched. It returns the
// fusion's kind for Fuse's statistics, or "" when at does not fit.
func (f *fuser) qkv(at *Step) string {
	if f.removed[at] || f.replace[at] != nil || at.Node.Op != OpAttention || len(at.In) < attentionParts || len(at.Out) != 1 {
		return ""
	}
	var proj [attentionParts]*Step
	for i := range proj {
		v := at.In[i]
		if v == nil {
			return "" // already packed
		}
		for j := 0; j < i; j++ {
			if at.In[j] == v {
				return ""
			}
		}
		p := f.producer(v, OpLinear, 1)
		if p == nil {
			p = f.producer(v, OpQLinear, 1)
		}
		if p == nil || len(p.Out) != 1 {
			return ""
		}
		proj[i] = p
	}
	first := proj[0]
	op, x := first.Node.Op, first.In[0]
	base, residual := linearInputs, linearResidual
	if op == OpQLinear {
		base, residual = qlinearInputs, qlinearResidual
	}
	q := first.Out[0]
	if x == nil || len(q.Shape) < 1 || len(x.Shape) < 1 {
		return ""
	}
	k := x.Shape[len(x.Shape)-1]
	width := 0
	for _, p := range proj {
		o := p.Out[0]
		w := p.In[1]
		if p.Node.Op != op || len(p.In) != base || p.In[0] != x || p.In[residual] != nil || p.P.Act != ActNone ||
			op == OpLinear && p.In[linearNormScale] != nil ||
			o.DType != q.DType || w == nil || w.Const == nil || len(w.Shape) != 2 || w.Shape[0] != k ||
			w.DType != first.In[1].DType || len(o.Shape) != len(q.Shape) || !sameShape(o.Shape[:len(o.Shape)-1], q.Shape[:len(q.Shape)-1]) ||
			o.Shape[len(o.Shape)-1] != w.Shape[1] {
			return ""
		}
		if op == OpQLinear && (p.In[2] != first.In[2] || p.In[4] != first.In[4]) {
			return ""
		}
		width += w.Shape[1]
	}
	shape := append(append([]int{}, q.Shape[:len(q.Shape)-1]...), width)
	out := &Value{Name: at.Node.Name + "/fused_QKV_output", DType: q.DType, Shape: shape}
	fused := &Step{
		Node: &Node{Name: at.Node.Name + "/fused_QKV", Op: op},
		In:   append([]*Value{}, first.In...),
		Out:  []*Value{out},
		P:    first.P,
	}
	for _, p := range proj[1:] {
		if op == OpLinear {
			fused.In = append(fused.In, p.In[1], p.In[2])
		} else {
			fused.In = append(fused.In, p.In[1], p.In[3], p.In[5], p.In[6])
		}
	}
	attn := &Step{
		Node: &Node{Name: at.Node.Name, Op: OpAttention},
		In:   append([]*Value{out, nil, nil}, at.In[attentionParts:]...),
		Out:  at.Out,
		P:    at.P,
	}
	for _, p := range proj {
		f.removed[p] = true
	}
	f.before[at] = append(f.before[at], fused)
	f.replace[at] = attn
	if op == OpQLinear {
		return "QKVQLinear"
	}
	return "QKVLinear"
}
