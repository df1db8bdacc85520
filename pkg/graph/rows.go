package graph

import (
	"fmt"
	"slices"

	"github.com/clip-go/clip/pkg/onnx"
)

// attentionRows is the position in an OpAttention step's In of its
// optional query rows: a 1-D integer tensor of rows of the full output
// (laid out as [B·S, E], or [S·B, E] sequence-first; negative counting
// from the end). With it the step computes only those queries, each
// over all its keys, and its output is [len(rows), E].
const attentionRows = 4

// KeepOutputs drops the plan's outputs not named in names (all of them
// are kept when names is empty), removes the steps nothing left reads,
// then lets the steps that fed a selection of rows compute only those
// rows (see pushRows). It returns how many steps now run on selected
// rows.
//
// Why: a zero-shot run reads only the pooled embedding, and an encoder
// pools one token per item (CLIP's text tower its end token, picked by
// an ArgMax over the ids; the vision tower its class token). Once the
// per-token output (last_hidden_state) is not asked for, the last
// block's output projection, MLP and the final LayerNorm are needed for
// those tokens alone, and its attention for those queries alone: 1 row
// in 77 (text) or in 50 (ViT-B/32 vision) — about a twelfth of the
// tower's matrix work. The result is the same: every step moved is
// computed row by row, so its kept rows do not depend on the dropped
// ones.
func (p *Plan) KeepOutputs(names []string) (int, error) {
	if len(names) > 0 {
		for _, n := range names {
			if !slices.ContainsFunc(p.Outputs, func(o *Value) bool { return o.Name == n }) {
				return 0, fmt.Errorf("KeepOutputs: %q is not an output of the plan", n)
			}
		}
		p.Outputs = slices.DeleteFunc(p.Outputs, func(o *Value) bool { return !slices.Contains(names, o.Name) })
	}
	p.removeDead()
	r := &rowPusher{fuser: fuser{p: p}}
	n := r.run()
	p.removeDead()
	return n, nil
}

// removeDead drops the steps none of whose outputs is read by a later
// step or is a plan output.
func (p *Plan) removeDead() {
	live := map[*Value]bool{}
	for _, o := range p.Outputs {
		live[o] = true
	}
	keep := make([]bool, len(p.Steps))
	for i := len(p.Steps) - 1; i >= 0; i-- {
		s := p.Steps[i]
		for _, o := range s.Out {
			if live[o] {
				keep[i] = true
			}
		}
		if keep[i] {
			for _, in := range s.In {
				if in != nil {
					live[in] = true
				}
			}
		}
	}
	steps := p.Steps[:0]
	for i, s := range p.Steps {
		if keep[i] {
			steps = append(steps, s)
		}
	}
	clear(p.Steps[len(steps):])
	p.Steps = steps
}

// rowPusher moves row selections towards the start of the plan. A row
// selection is a Gather along axis 0 of a Reshape of X to [N, E] (N·E
// the size of X, E its last axis): rows of X. While X comes from a step
// that computes row by row (LayerNorm, Linear, QLinear, the GELUs), and
// nothing else reads X, the step is rewritten to run on the selected
// rows of its row inputs (its X and residual), each a new selection
// with the same indices. An attention step ends the chain: it computes
// the selected queries only (its keys and values stay whole).
type rowPusher struct {
	fuser     // its producer, consumer and output index of the plan
	n     int // steps rewritten to selected rows
	seq   int // names of the values made
}

func (r *rowPusher) run() int {
	// Bring the pooling gathers to the canonical form first.
	var steps []*Step
	for _, s := range r.p.Steps {
		if g := r.canonicalGather(s); g != nil {
			steps = append(steps, g...)
			continue
		}
		steps = append(steps, s)
	}
	r.p.Steps = steps
	r.index()
	// A view of a view reads the first one's input (an exporter's
	// Transpose of a size-1 axis, run as a Reshape, may sit between a
	// block and its pooling).
	for _, s := range r.p.Steps {
		for isView(s) {
			p := r.prod[s.In[0]]
			if p == nil || !isView(p) || r.outputs[s.In[0]] || len(r.cons[s.In[0]]) != 1 {
				break
			}
			s.In[0] = p.In[0]
		}
	}
	r.p.removeDead()
	r.index()
	for r.pushOne() {
		r.index()
	}
	return r.n
}

// canonicalGather rewrites a Gather along axis 1 of a [B, T, E] value by
// one constant index (the class token's x[:, 0], SigLIP's last token
// x[:, -1]) as the row selection Gather(Reshape(X, [B·T, E]), rows) with
// the B rows b·T+i. It returns the steps replacing s (the last one
// producing s's output), or nil.
func (r *rowPusher) canonicalGather(s *Step) []*Step {
	if s.Node.Op != "Gather" || s.P.Axis != 1 || len(s.In) != 2 || len(s.Out) != 1 {
		return nil
	}
	x, idx := s.In[0], s.In[1]
	if x == nil || idx == nil || idx.Const == nil || len(idx.Shape) != 0 || len(x.Shape) != 3 {
		return nil
	}
	ids, err := idx.Const.Ints()
	if err != nil || len(ids) != 1 {
		return nil
	}
	b, t, e := x.Shape[0], x.Shape[1], x.Shape[2]
	i := ids[0]
	if i < 0 {
		i += t
	}
	if i < 0 || i >= t || b < 1 {
		return nil
	}
	rows := NewTensor(onnx.Int64, []int{b})
	for k := range b {
		rows.Int64[k] = int64(k*t + i)
	}
	rv := &Value{Name: s.Node.Name + "/clip_rows", DType: onnx.Int64, Shape: rows.Shape, Const: rows}
	view := r.reshape(x, []int{b * t, e})
	g := &Step{Node: &Node{Name: s.Node.Name + "/clip_row_gather", Op: "Gather"}, In: []*Value{view.Out[0], rv}, Out: s.Out, P: Params{Axis: 0}}
	return []*Step{view, g}
}

// reshape returns a Reshape step of x to shape (a view).
func (r *rowPusher) reshape(x *Value, shape []int) *Step {
	r.seq++
	name := fmt.Sprintf("%s/clip_rows_view%d", x.Name, r.seq)
	sh := NewTensor(onnx.Int64, []int{len(shape)})
	for i, d := range shape {
		sh.Int64[i] = int64(d)
	}
	return &Step{
		Node: &Node{Name: name, Op: "Reshape"},
		In:   []*Value{x, {Name: name + "_shape", DType: onnx.Int64, Shape: sh.Shape, Const: sh}},
		Out:  []*Value{{Name: name + "_output", DType: x.DType, Shape: append([]int(nil), shape...)}},
		P:    Params{Shape: append([]int(nil), shape...)},
	}
}

// isView reports whether s only renames its input's data (a Reshape or
// Flatten, which the executor runs as an alias).
func isView(s *Step) bool {
	return (s.Node.Op == "Reshape" || s.Node.Op == "Flatten") && len(s.In) > 0 && s.In[0] != nil && len(s.Out) == 1 && s.In[0].DType == s.Out[0].DType
}

// selection describes a row selection Gather(Reshape(X, [N, E]), idx).
type selection struct {
	gather, view *Step
	x, idx       *Value
}

// asSelection returns g as a row selection of a runtime value, or false.
func (r *rowPusher) asSelection(g *Step) (selection, bool) {
	if g.Node.Op != "Gather" || g.P.Axis != 0 || len(g.In) != 2 || len(g.Out) != 1 || g.In[0] == nil || g.In[1] == nil {
		return selection{}, false
	}
	d, idx := g.In[0], g.In[1]
	if len(d.Shape) != 2 || len(idx.Shape) != 1 || idx.Shape[0] >= d.Shape[0] || r.outputs[d] || len(r.cons[d]) != 1 ||
		(idx.DType != onnx.Int64 && idx.DType != onnx.Int32) || !sameShape(g.Out[0].Shape, []int{idx.Shape[0], d.Shape[1]}) {
		return selection{}, false
	}
	v := r.prod[d]
	if v == nil || !isView(v) {
		return selection{}, false
	}
	x := v.In[0]
	if len(x.Shape) < 2 || x.Shape[len(x.Shape)-1] != d.Shape[1] || NumElements(x.Shape) != NumElements(d.Shape) || x.Const != nil || x.DType != d.DType {
		return selection{}, false
	}
	return selection{gather: g, view: v, x: x, idx: idx}, true
}

// rowInputs returns the positions in s.In of the inputs s reads row by
// row with its output's rows (X, and a residual), when every other input
// is a constant or one value for the whole tensor; nil when s does not
// compute its output rows independently.
func rowInputs(s *Step) []int {
	if len(s.Out) != 1 || len(s.In) == 0 || s.In[0] == nil {
		return nil
	}
	out := s.Out[0]
	rows := func(v *Value) bool {
		return v != nil && len(v.Shape) >= 2 && len(out.Shape) >= 2 &&
			NumElements(v.Shape[:len(v.Shape)-1]) == NumElements(out.Shape[:len(out.Shape)-1])
	}
	var idx []int
	switch s.Node.Op {
	case "LayerNormalization":
		if s.P.Axis != len(s.In[0].Shape)-1 {
			return nil
		}
		idx = []int{0}
	case OpLinear:
		idx = []int{0}
		if len(s.In) > 3 && s.In[3] != nil {
			idx = append(idx, 3)
		}
	case OpQLinear:
		idx = []int{0}
		if len(s.In) > 7 && s.In[7] != nil {
			idx = append(idx, 7)
		}
	case OpQuickGELU, OpGELU, OpGELUTanh:
		idx = []int{0}
	default:
		return nil
	}
	for i, v := range s.In {
		isRow := false
		for _, j := range idx {
			isRow = isRow || i == j
		}
		switch {
		case v == nil:
		case isRow:
			if !rows(v) || v.Const != nil {
				return nil
			}
		case v.Const == nil && NumElements(v.Shape) != 1:
			return nil // a runtime input over all rows (a mask, a per-row scale)
		}
	}
	return idx
}

// pushOne moves one row selection up by one step and reports whether it
// did.
func (r *rowPusher) pushOne() bool {
	for _, g := range r.p.Steps {
		sel, ok := r.asSelection(g)
		if !ok {
			continue
		}
		s := r.prod[sel.x]
		if s == nil || r.outputs[sel.x] {
			continue
		}
		// Every reader of X must be a selection of the same rows: then X's
		// unselected rows are never read.
		var all []selection
		for _, c := range r.cons[sel.x] {
			cs, ok := r.selectionVia(c, sel.idx)
			if !ok {
				all = nil
				break
			}
			all = append(all, cs)
		}
		if all == nil {
			continue
		}
		if s.Node.Op == OpAttention {
			if !r.attentionRows(s, sel, all) {
				continue
			}
			return true
		}
		idx := rowInputs(s)
		if idx == nil {
			continue
		}
		r.rewrite(s, sel, all, idx)
		return true
	}
	return false
}

// selectionVia returns the selection made by view step c (a Reshape or
// Flatten of X read only by a Gather of rows idx).
func (r *rowPusher) selectionVia(c *Step, idx *Value) (selection, bool) {
	if len(c.Out) != 1 || r.outputs[c.Out[0]] || len(r.cons[c.Out[0]]) != 1 {
		return selection{}, false
	}
	sel, ok := r.asSelection(r.cons[c.Out[0]][0])
	if !ok || sel.view != c || sel.idx != idx {
		return selection{}, false
	}
	return sel, true
}

// merge makes every selection in all write the first one's output,
// returning it (all select the same rows of the same value).
func (r *rowPusher) merge(all []selection) (*Value, bool) {
	g := all[0].gather.Out[0]
	for _, o := range all[1:] {
		if !sameShape(o.gather.Out[0].Shape, g.Shape) || r.outputs[o.gather.Out[0]] {
			return nil, false
		}
	}
	for _, o := range all[1:] {
		old := o.gather.Out[0]
		for _, c := range r.cons[old] {
			for i, in := range c.In {
				if in == old {
					c.In[i] = g
				}
			}
		}
	}
	return g, true
}

// rewrite replaces s by a copy running on the selected rows of its row
// inputs, writing the selection's output.
func (r *rowPusher) rewrite(s *Step, sel selection, all []selection, idx []int) {
	g, ok := r.merge(all)
	if !ok {
		return
	}
	ns := &Step{Node: s.Node, In: append([]*Value(nil), s.In...), Out: []*Value{g}, P: s.P}
	var before []*Step
	for _, i := range idx {
		v := s.In[i]
		e := v.Shape[len(v.Shape)-1]
		n := NumElements(v.Shape) / max(e, 1)
		view := r.reshape(v, []int{n, e})
		r.seq++
		gv := &Value{Name: fmt.Sprintf("%s/clip_rows%d", v.Name, r.seq), DType: v.DType, Shape: []int{sel.idx.Shape[0], e}}
		before = append(before, view, &Step{Node: &Node{Name: gv.Name, Op: "Gather"}, In: []*Value{view.Out[0], sel.idx}, Out: []*Value{gv}, P: Params{Axis: 0}})
		ns.In[i] = gv
	}
	if s.Node.Op == "LayerNormalization" {
		ns.P.Axis = len(g.Shape) - 1
	}
	r.substitute(s, all, append(before, ns))
	r.n++
}

// attentionRows gives attention step s the selection's rows as its query
// rows.
func (r *rowPusher) attentionRows(s *Step, sel selection, all []selection) bool {
	if len(s.Out) != 1 || len(s.Out[0].Shape) != 3 || len(s.In) > attentionRows && s.In[attentionRows] != nil {
		return false
	}
	g, ok := r.merge(all)
	if !ok {
		return false
	}
	in := make([]*Value, attentionRows+1)
	copy(in, s.In)
	in[attentionRows] = sel.idx
	ns := &Step{Node: s.Node, In: in, Out: []*Value{g}, P: s.P}
	r.substitute(s, all, []*Step{ns})
	r.n++
	return true
}

// substitute puts steps where s was, dropping s and the selections of its
// output, then restores a topological order (the selection's indices
// may be computed after s).
func (r *rowPusher) substitute(s *Step, all []selection, steps []*Step) {
	drop := map[*Step]bool{s: true}
	for _, o := range all {
		drop[o.gather], drop[o.view] = true, true
	}
	var out []*Step
	for _, x := range r.p.Steps {
		if x == s {
			out = append(out, steps...)
			continue
		}
		if !drop[x] {
			out = append(out, x)
		}
	}
	r.p.Steps = topoOrder(out)
}

// topoOrder returns steps with every step after the producers of its
// inputs, otherwise in the given order.
func topoOrder(steps []*Step) []*Step {
	prod := map[*Value]*Step{}
	for _, s := range steps {
		for _, o := range s.Out {
			prod[o] = s
		}
	}
	done := map[*Step]bool{}
	out := make([]*Step, 0, len(steps))
	var visit func(s *Step)
	visit = func(s *Step) {
		if done[s] {
			return
		}
		done[s] = true
		for _, in := range s.In {
			if p := prod[in]; in != nil && p != nil {
				visit(p)
			}
		}
		out = append(out, s)
	}
	for _, s := range steps {
		visit(s)
	}
	return out
}
