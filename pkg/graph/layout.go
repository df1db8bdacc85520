package graph

import "slices"

// Layout canonicalisation: nn.MultiheadAttention works sequence-first, so
// OpenCLIP's towers permute their [B, S, E] tokens to [S, B, E] before
// the transformer and back after it (SigLIP's pooling head does the same
// around its attention). Between the two Transposes every step treats its
// tensors as rows of the last axis (Linears, LayerNorms, activations,
// residual Adds, int8 quantisation) except the attention, which runs on
// either layout (Params.SeqFirst). foldLeadingSwap runs that region on the
// batch-first tensors instead: the two copies go, and the plan is the one
// a batch-first export of the same tower gives.

// rowWise lists the operators computing each output row (a vector along
// the last axis) from the same rows of their row inputs, whatever the
// order of the leading axes, given their non-row inputs do not depend on
// the position of a row along those axes. Input indexes are the row
// inputs; nil means all of them (elementwise ops, broadcasting the
// others along the leading axes).
var rowWise = map[string][]int{
	OpLinear: {0, 3}, OpQLinear: {0, 7}, OpAttention: {0, 1, 2},
	OpGELU: nil, OpGELUTanh: nil, OpQuickGELU: nil,
	"Add": nil, "Sub": nil, "Mul": nil, "Div": nil, "Pow": nil, "Clip": nil,
	"Erf": nil, "Tanh": nil, "Sigmoid": nil, "Relu": nil, "Softsign": nil, "Sign": nil, "Exp": nil, "Sqrt": nil, "Neg": nil,
	"Abs": nil, "Reciprocal": nil, "Cast": nil, "Identity": nil,
	// The three below also need their axis to be the last one (see
	// lastAxisOnly); DynamicQuantizeLinear's scale and zero point are
	// over the whole tensor, so independent of the order of its rows.
	"LayerNormalization": nil, "Softmax": nil, "DynamicQuantizeLinear": nil,
}

// leadingSwap reports whether perm swaps axes 0 and 1 of a tensor of rank
// ≥ 3 and keeps the others.
func leadingSwap(perm []int) bool {
	if len(perm) < 3 || perm[0] != 1 || perm[1] != 0 {
		return false
	}
	for i := 2; i < len(perm); i++ {
		if perm[i] != i {
			return false
		}
	}
	return true
}

// swapLeading returns shape with its first two axes swapped.
func swapLeading(shape []int) []int {
	s := append([]int{}, shape...)
	s[0], s[1] = s[1], s[0]
	return s
}

// foldLeadingSwap removes t1, a Transpose swapping the two leading axes,
// together with the Transposes undoing it at the far end of the region it
// feeds, when every step of that region is row-wise (see rowWise): the
// region's steps then read t1's input directly, their values take the
// swapped shapes, the attentions flip Params.SeqFirst, and the readers of
// each closing Transpose read its input (a graph output among them
// becomes a Reshape of it). Any other reader of a value of the region,
// or a graph output inside it, leaves everything as it was.
func (f *fuser) foldLeadingSwap(t1 *Step) bool {
	if f.removed[t1] || f.replace[t1] != nil || t1.Node.Op != "Transpose" || len(t1.In) != 1 || t1.In[0] == nil ||
		len(t1.Out) != 1 || !leadingSwap(t1.P.Perm) {
		return false
	}
	swapped := map[*Value]bool{t1.Out[0]: true} // values held swapped inside the region
	var region, ends []*Step
	seen := map[*Step]bool{}
	for queue := []*Value{t1.Out[0]}; len(queue) > 0; queue = queue[1:] {
		v := queue[0]
		if f.outputs[v] || len(v.Shape) < 2 {
			return false
		}
		for _, c := range f.cons[v] {
			if seen[c] {
				continue
			}
			seen[c] = true
			if f.removed[c] || f.replace[c] != nil {
				return false
			}
			if c.Node.Op == "Transpose" && isPerm(c.P.Perm, t1.P.Perm...) {
				ends = append(ends, c)
				continue
			}
			if _, ok := rowWise[c.Node.Op]; !ok || !lastAxisOnly(c) {
				return false
			}
			region = append(region, c)
			for _, o := range c.Out {
				// Scalars (DynamicQuantizeLinear's scale and zero point)
				// are the same in either layout.
				if o != nil && len(o.Shape) > 0 {
					swapped[o] = true
					queue = append(queue, o)
				}
			}
		}
	}
	if len(ends) == 0 {
		return false
	}
	for _, e := range ends {
		for _, c := range f.cons[e.Out[0]] {
			if f.removed[c] || f.replace[c] != nil {
				return false
			}
		}
	}
	// Every row input of the region is swapped, or the same for every
	// row (broadcast along both leading axes); nothing reads a swapped
	// value except as a row, and a swapped row input has the leading axes
	// of the step's output (an attention's keys may be more or fewer).
	consts := map[*Value]*Value{}
	for _, c := range region {
		rows := rowWise[c.Node.Op]
		out := c.Out[0].Shape
		for i, v := range c.In {
			if v == nil {
				continue
			}
			isRow := rows == nil || slices.Contains(rows, i)
			if swapped[v] {
				if !isRow || !sameRows(c, v.Shape, out) {
					return false
				}
				continue
			}
			if !isRow {
				continue
			}
			if c.Node.Op == OpAttention {
				// A learned query (SigLIP's probe) with a leading axis of 1
				// holds the same values in either layout.
				if v.Const == nil || len(v.Shape) != 3 || v.Shape[0] != 1 && v.Shape[1] != 1 {
					return false
				}
				if consts[v] == nil {
					sh := swapLeading(v.Shape)
					t := *v.Const
					t.Shape = sh
					consts[v] = &Value{Name: v.Name + "/clip_batch_first", DType: v.DType, Shape: sh, Const: &t}
				}
				continue
			}
			if !sameForEveryRow(v, c.Out[0]) {
				return false
			}
		}
	}
	// Rewrite: the region reads t1's input; its values take the swapped
	// shapes; the ends' readers read the ends' inputs.
	for v := range swapped {
		if v != t1.Out[0] {
			v.Shape = swapLeading(v.Shape)
		}
	}
	for _, c := range region {
		r := &Step{Node: c.Node, In: append([]*Value{}, c.In...), Out: c.Out, P: c.P}
		for i, v := range r.In {
			if v == t1.Out[0] {
				r.In[i] = t1.In[0]
			} else if cv := consts[v]; cv != nil {
				r.In[i] = cv
			}
		}
		if c.Node.Op == OpAttention {
			r.P.SeqFirst = !r.P.SeqFirst
		}
		f.replace[c] = r
	}
	for _, e := range ends {
		if f.outputs[e.Out[0]] {
			// A graph output (OpenCLIP's last hidden state) stays a value
			// of its own, now a free view of the region's last one.
			f.replace[e] = asReshape(e, e.In[0])
			continue
		}
		for _, c := range f.cons[e.Out[0]] {
			for i, v := range c.In {
				if v == e.Out[0] {
					c.In[i] = e.In[0]
				}
			}
		}
		f.removed[e] = true
	}
	f.removed[t1] = true
	return true
}

// sameRows reports whether in, a row input of s, has the leading axes
// of s's output out: all of them, or for an attention (whose keys may be
// more or fewer than its queries) the batch axis.
func sameRows(s *Step, in, out []int) bool {
	if len(in) != len(out) {
		return false
	}
	if s.Node.Op == OpAttention {
		b := 0
		if s.P.SeqFirst {
			b = 1
		}
		return len(in) == 3 && in[b] == out[b]
	}
	return sameShape(in[:len(in)-1], out[:len(out)-1])
}

// lastAxisOnly reports whether a LayerNormalization or Softmax step
// normalises over the last axis alone (any other step: true).
func lastAxisOnly(s *Step) bool {
	switch s.Node.Op {
	case "LayerNormalization", "Softmax":
		return len(s.In) > 0 && s.In[0] != nil && s.P.Axis == len(s.In[0].Shape)-1
	}
	return true
}

// sameForEveryRow reports whether v, an operand broadcast to out's shape,
// is the same along out's two leading axes (its dims there, aligned from
// the right, are 1 or absent).
func sameForEveryRow(v, out *Value) bool {
	r, k := len(out.Shape), len(v.Shape)
	if k > r {
		return false
	}
	for axis := 0; axis < 2; axis++ {
		if i := k - r + axis; i >= 0 && v.Shape[i] != 1 {
			return false
		}
	}
	return true
}
