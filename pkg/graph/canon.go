package graph

import (
	"math"

	"github.com/clip-go/clip/pkg/onnx"
)

// Canonicalisation: exporters write the same computation in different
// ways (torch's softmax(dtype=float32) adds float→float Casts, a
// transpose of a transpose, Gemm for a 2-D nn.Linear, erf GELU). The
// passes here bring them to the one form the fusions match, so that the
// fusions fire on every exporter's graph, not only on the one our own
// fixture exporter writes. Each keeps the values computed (a Cast to the
// type its input already has and a composed Transpose are exact; Gemm's
// rewrite and the GELU step compute the same sums and formula).

// GemmAsMatMul rewrites each Gemm whose B is a constant float matrix (A
// not transposed, alpha and beta 1, C absent or a vector) as MatMul(A, B)
// followed by Add(C), with B stored transposed once when transB is set:
// the Linear fusion then takes it like the MatMul + Add that torch writes
// for a 3-D nn.Linear (torch writes Gemm for a 2-D one, e.g. the output
// projection of nn.MultiheadAttention). It runs on the graph, once per
// session, so every bound plan shares the transposed weights.
func GemmAsMatMul(g *Graph) error {
	transposed := map[string]string{}
	var nodes []*Node
	for _, n := range g.Nodes {
		mm := gemmAsMatMul(g, n, transposed)
		if mm == nil {
			nodes = append(nodes, n)
			continue
		}
		nodes = append(nodes, mm...)
	}
	g.Nodes = nodes
	return nil
}

func gemmAsMatMul(g *Graph, n *Node, transposed map[string]string) []*Node {
	if n.Op != "Gemm" || len(n.Inputs) < 2 || len(n.Outputs) != 1 || n.Int("transA", 0) != 0 ||
		n.Float("alpha", 1) != 1 || n.Float("beta", 1) != 1 {
		return nil
	}
	w := g.Consts[n.Inputs[1]]
	if w == nil || w.DType != onnx.Float || len(w.Shape) != 2 {
		return nil
	}
	k, cols := w.Shape[0], w.Shape[1]
	if n.Int("transB", 0) != 0 {
		k, cols = cols, k
	}
	var bias string
	if len(n.Inputs) > 2 && n.Inputs[2] != "" {
		c := g.Consts[n.Inputs[2]]
		if c == nil || c.DType != onnx.Float || !sameShape(c.Shape, []int{cols}) {
			return nil
		}
		bias = n.Inputs[2]
	}
	wName := n.Inputs[1]
	if n.Int("transB", 0) != 0 {
		if t, ok := transposed[wName]; ok {
			wName = t
		} else {
			// Made when packed (or read): the transposed copy is dead
			// once packed, as the file's own weight is.
			t := newLazy(onnx.Float, []int{k, cols}, func() []float32 {
				src := w.Materialize()
				f := make([]float32, k*cols)
				for i := 0; i < cols; i++ {
					for j := 0; j < k; j++ {
						f[j*cols+i] = src[i*k+j]
					}
				}
				return f
			}, nil)
			name := wName + "/clip_transposed"
			for g.Consts[name] != nil {
				name += "_"
			}
			g.Consts[name] = t
			transposed[wName], wName = name, name
		}
	}
	if bias == "" {
		return []*Node{{Name: n.Name + "/MatMul", Op: "MatMul", Inputs: []string{n.Inputs[0], wName}, Outputs: n.Outputs}}
	}
	mid := n.Outputs[0] + "/clip_matmul"
	return []*Node{
		{Name: n.Name + "/MatMul", Op: "MatMul", Inputs: []string{n.Inputs[0], wName}, Outputs: []string{mid}},
		{Name: n.Name + "/Add", Op: "Add", Inputs: []string{mid, bias}, Outputs: n.Outputs},
	}
}

// bypass makes every reader of s's output read its input instead and
// drops s (a step that passes its input through unchanged). A graph
// output is left alone.
func (f *fuser) bypass(s *Step) bool {
	in, out := s.In[0], s.Out[0]
	if f.outputs[out] {
		return false
	}
	for _, c := range f.cons[out] {
		for i, v := range c.In {
			if v == out {
				c.In[i] = in
			}
		}
	}
	f.removed[s] = true
	return true
}

// noopCast drops a Cast to the type its input already has (torch writes
// two around softmax(dtype=torch.float32) on a float32 graph).
func (f *fuser) noopCast(s *Step) bool {
	if f.removed[s] || s.Node.Op != "Cast" || len(s.In) != 1 || len(s.Out) != 1 || s.In[0] == nil ||
		s.P.To != s.In[0].DType || s.Out[0].DType != s.In[0].DType {
		return false
	}
	return f.bypass(s)
}

// composeTranspose merges Transpose(Transpose(x)) into one Transpose when
// the inner one has no other reader (torch 2's SDPA symbolic transposes
// the last two axes of K after the head split's own transpose).
func (f *fuser) composeTranspose(t2 *Step) bool {
	if f.removed[t2] || f.replace[t2] != nil || t2.Node.Op != "Transpose" || len(t2.In) != 1 {
		return false
	}
	t1 := f.producer(t2.In[0], "Transpose", 1)
	if t1 == nil || len(t1.P.Perm) != len(t2.P.Perm) {
		return false
	}
	perm := make([]int, len(t2.P.Perm))
	for i, p := range t2.P.Perm {
		perm[i] = t1.P.Perm[p]
	}
	f.removed[t1] = true
	f.replace[t2] = &Step{Node: t2.Node, In: []*Value{t1.In[0]}, Out: t2.Out, P: Params{Perm: perm}}
	return true
}

// unitTranspose rewrites as a Reshape a Transpose that moves only axes
// of size 1, the others keeping their order: the data stay where they
// are, so the step only renames them instead of copying (a sequence-first
// [1, B, E] query's output back to [B, 1, E] in SigLIP's pooling head, or
// OpenCLIP's permutes at batch 1). It runs after the attention fusions,
// which match such Transposes in their own patterns.
func (f *fuser) unitTranspose(s *Step) bool {
	if f.removed[s] || f.replace[s] != nil || s.Node.Op != "Transpose" || len(s.In) != 1 || s.In[0] == nil || len(s.Out) != 1 {
		return false
	}
	in, out := s.In[0].Shape, s.Out[0].Shape
	if len(s.P.Perm) != len(in) || len(out) != len(in) {
		return false
	}
	last := -1
	for _, p := range s.P.Perm {
		if in[p] == 1 {
			continue
		}
		if p < last {
			return false
		}
		last = p
	}
	f.replace[s] = asReshape(s, s.In[0])
	return true
}

// asReshape returns a Reshape of in to the shape of s's output, taking
// s's place: a step that only renames its input's data (the executor
// shares the buffer), for a step whose output keeps in's data order.
func asReshape(s *Step, in *Value) *Step {
	out := s.Out[0].Shape
	shape := NewTensor(onnx.Int64, []int{len(out)})
	for i, d := range out {
		shape.Int64[i] = int64(d)
	}
	name := s.Node.Name + "/clip_as_reshape"
	return &Step{
		Node: &Node{Name: name, Op: "Reshape"},
		In:   []*Value{in, {Name: name + "_shape", DType: onnx.Int64, Shape: shape.Shape, Const: shape}},
		Out:  s.Out,
	}
}

// reshapeIntoLinear lets a fused Linear read the input of a Reshape that
// only regroups the rows before it ([S, B, E] as [S·B, E], the view
// nn.MultiheadAttention takes before its output projection): a Linear
// reads its input as rows of its last axis whatever the leading shape,
// so the step (each costing the executor a few allocations per run) goes.
func (f *fuser) reshapeIntoLinear(rs *Step) bool {
	if f.removed[rs] || f.replace[rs] != nil || rs.Node.Op != "Reshape" || len(rs.In) == 0 || rs.In[0] == nil || len(rs.Out) != 1 {
		return false
	}
	x, out := rs.In[0], rs.Out[0]
	if f.outputs[out] || len(f.cons[out]) != 1 || len(x.Shape) == 0 || len(out.Shape) == 0 ||
		x.Shape[len(x.Shape)-1] != out.Shape[len(out.Shape)-1] || x.DType != out.DType {
		return false
	}
	l := f.cons[out][0]
	if l.Node.Op != OpLinear && l.Node.Op != OpQLinear || l.In[0] != out || f.replace[l] != nil || f.removed[l] {
		return false
	}
	for _, v := range l.In[1:] {
		if v == out {
			return false
		}
	}
	l.In[0] = x
	f.removed[rs] = true
	return true
}

// gelu fuses the exact GELU torch writes for nn.GELU(),
// Mul(Mul(x, Add(Erf(Div(x, √2)), 1)), 0.5), and the tanh GELU
// (nn.GELU(approximate="tanh"), HF's gelu_pytorch_tanh and
// NewGELUActivation: Tanh(√(2/π)·(x + 0.044715·x³)) in place of the Erf,
// the cube as Pow(x, 3) or x·x·x), with their variants (x·(1/√2) for the
// division, 0.5 applied to x first, operands in either order), into
// OpGELU or OpGELUTanh. It returns the fused op, or "".
func (f *fuser) gelu(m2 *Step) string {
	if f.removed[m2] || f.replace[m2] != nil || m2.Node.Op != "Mul" || len(m2.In) != 2 || !isF32(m2.Out[0]) {
		return ""
	}
	for hi := 0; hi < 2; hi++ {
		// 0.5 · (x · (1 + erf)) or (0.5 · x) · (1 + erf), either order.
		var x *Value
		var chain []*Step
		op := ""
		if f.near(m2.In[1-hi], 0.5) {
			m1 := f.producer(m2.In[hi], "Mul", 1)
			if m1 == nil {
				continue
			}
			for i := 0; i < 2 && x == nil; i++ {
				if ex, steps, kind := f.onePlusGELU(m1.In[1-i]); ex != nil && ex == m1.In[i] {
					x, chain, op = ex, append(steps, m1), kind
				}
			}
		} else if ex, steps, kind := f.onePlusGELU(m2.In[1-hi]); ex != nil {
			if mh := f.producer(m2.In[hi], "Mul", 1); mh != nil && other(mh, ex) != nil && f.near(other(mh, ex), 0.5) {
				x, chain, op = ex, append(steps, mh), kind
			}
		}
		if x == nil || !isF32(x) || x.DType != m2.Out[0].DType || !sameShape(x.Shape, m2.Out[0].Shape) {
			continue
		}
		for _, s := range chain {
			f.removed[s] = true
		}
		f.replace[m2] = &Step{
			Node: &Node{Name: m2.Node.Name + "/fused_" + op[len("clip."):], Op: op},
			In:   []*Value{x},
			Out:  []*Value{m2.Out[0]},
		}
		return op
	}
	return ""
}

// near reports whether v is a scalar constant within 1e-6 (relative) of want.
func (f *fuser) near(v *Value, want float64) bool {
	c, ok := scalar(v)
	return ok && math.Abs(c-want) <= 1e-6*math.Max(1, math.Abs(want))
}

// scaledBy returns a when v = Mul(a, c) or Mul(c, a) with c ≈ want, with
// the Mul.
func (f *fuser) scaledBy(v *Value, want float64) (*Value, *Step) {
	m := f.producer(v, "Mul", 1)
	if m == nil {
		return nil, nil
	}
	for i := 0; i < 2; i++ {
		if f.near(m.In[1-i], want) {
			return m.In[i], m
		}
	}
	return nil, nil
}

// onePlusGELU matches 1 + erf(x/√2) or 1 + tanh(√(2/π)·(x + 0.044715·x³))
// and returns x, the steps and the fused op.
func (f *fuser) onePlusGELU(v *Value) (*Value, []*Step, string) {
	ad := f.producer(v, "Add", 1)
	if ad == nil {
		return nil, nil, ""
	}
	for i := 0; i < 2; i++ {
		if !f.near(ad.In[1-i], 1) {
			continue
		}
		if ef := f.producer(ad.In[i], "Erf", 1); ef != nil {
			if dv := f.producer(ef.In[0], "Div", 1); dv != nil && f.near(dv.In[1], math.Sqrt2) {
				return dv.In[0], []*Step{ad, ef, dv}, OpGELU
			}
			if x, ml := f.scaledBy(ef.In[0], 1/math.Sqrt2); x != nil {
				return x, []*Step{ad, ef, ml}, OpGELU
			}
		}
		if th := f.producer(ad.In[i], "Tanh", 1); th != nil {
			if x, steps := f.tanhArg(th.In[0]); x != nil {
				return x, append(steps, ad, th), OpGELUTanh
			}
		}
	}
	return nil, nil, ""
}

// tanhArg matches √(2/π)·(x + 0.044715·x³).
func (f *fuser) tanhArg(v *Value) (*Value, []*Step) {
	inner, m := f.scaledBy(v, math.Sqrt(2/math.Pi))
	if inner == nil {
		return nil, nil
	}
	ad := f.producer(inner, "Add", 1)
	if ad == nil {
		return nil, nil
	}
	for i := 0; i < 2; i++ {
		x := ad.In[i]
		cube, mk := f.scaledBy(ad.In[1-i], 0.044715)
		if cube == nil {
			continue
		}
		if pw := f.producer(cube, "Pow", 1); pw != nil && pw.In[0] == x && f.near(pw.In[1], 3) {
			return x, []*Step{m, ad, mk, pw}
		}
		// x·(x·x) or (x·x)·x.
		if m3 := f.producer(cube, "Mul", 1); m3 != nil {
			for j := 0; j < 2; j++ {
				if m2 := f.producer(m3.In[1-j], "Mul", 1); m3.In[j] == x && m2 != nil && m2.In[0] == x && m2.In[1] == x {
					return x, []*Step{m, ad, mk, m3, m2}
				}
			}
		}
	}
	return nil, nil
}
