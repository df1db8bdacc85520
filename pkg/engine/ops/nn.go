package ops

import (
	"fmt"
	"math"
	"sync"

	"gonum.org/v1/gonum/blas"
	gonumblas "gonum.org/v1/gonum/blas/gonum"

	"github.com/clip-go/clip/pkg/engine/kernels"
	"github.com/clip-go/clip/pkg/graph"
	"github.com/clip-go/clip/pkg/onnx"
)

// Matrix products, convolutions, reductions and normalisations, and the
// fused attention, patch embedding and QuickGELU steps of pkg/graph.
func init() {
	define(
		def{OpDef: graph.OpDef{Op: "MatMul", Infer: inferMatMul, FLOPs: matmulFLOPs},
			eval: func(c call) error { return matmul(c.e, c.in[0], c.in[1], c.out[0], constOperand(c.s, 1)) }},
		def{OpDef: graph.OpDef{Op: "Gemm", Infer: inferGemm, FLOPs: gemmFLOPs},
			eval: func(c call) error { return gemm(c.e, &c.s.P, c.in, c.out[0], constOperand(c.s, 1)) }},
		def{OpDef: graph.OpDef{Op: "Conv", Infer: inferConv, FLOPs: convFLOPs},
			eval: func(c call) error { return conv(c.e, &c.s.P, c.in, c.out[0]) }},
		def{OpDef: graph.OpDef{Op: "ArgMax", Infer: withX(inferArgMax)},
			eval: func(c call) error { return argmax(&c.s.P, c.in[0], c.out[0]) }},
		def{OpDef: graph.OpDef{Op: "Softmax", Infer: withX(inferSoftmax)},
			eval: func(c call) error { return softmax(c.e, &c.s.P, c.in[0], c.out[0]) }},
		def{OpDef: graph.OpDef{Op: "LayerNormalization", Infer: inferLayerNorm},
			eval: func(c call) error { return layerNorm(c.e, &c.s.P, c.in, c.out) }},
		def{OpDef: graph.OpDef{Op: graph.OpAttention, FLOPs: attentionFLOPs},
			eval: func(c call) error {
				constMask := len(c.s.In) > 3 && c.s.In[3] != nil && c.s.In[3].Const != nil
				return attention(c.e, &c.s.P, c.in, c.out[0], constMask)
			}},
		def{OpDef: graph.OpDef{Op: graph.OpPatchEmbed, FLOPs: convFLOPs,
			Scratch: func(s *graph.Step) int { return patchMatrixSize(s.In[0].Shape, s.In[1].Shape) }},
			eval: func(c call) error { return c.e.patchEmbed(c.in, c.out[0], c.scratch) }},
		def{OpDef: graph.OpDef{Op: graph.OpQuickGELU},
			eval: func(c call) error { kernels.QuickGELU(c.out[0].Float32, c.in[0].Float32); return nil }},
		def{OpDef: graph.OpDef{Op: graph.OpGELU},
			eval: func(c call) error { kernels.GELU(c.out[0].Float32, c.in[0].Float32); return nil }},
		def{OpDef: graph.OpDef{Op: graph.OpGELUTanh},
			eval: func(c call) error { kernels.GELUTanh(c.out[0].Float32, c.in[0].Float32); return nil }},
	)
	for _, op := range []string{"ReduceMean", "ReduceSum", "ReduceL2", "ReduceMax"} {
		define(def{OpDef: graph.OpDef{Op: op, Infer: withX(inferReduce)},
			eval: func(c call) error { return reduce(c.e, op, &c.s.P, c.in[0], c.out[0]) }})
	}
}

func inferMatMul(s *graph.Step, _ int64) error {
	if err := need(s, 2); err != nil {
		return err
	}
	sh, err := matmulShape(s.In[0].Shape, s.In[1].Shape)
	if err != nil {
		return err
	}
	setOut(s, 0, s.In[0].DType, sh)
	return nil
}

func inferGemm(s *graph.Step, _ int64) error {
	if err := need(s, 2); err != nil {
		return err
	}
	n := s.Node
	a, b := s.In[0].Shape, s.In[1].Shape
	if len(a) != 2 || len(b) != 2 {
		return fmt.Errorf("Gemm needs 2-D A and B, got %v and %v", a, b)
	}
	s.P.TransA, s.P.TransB = n.Int("transA", 0) != 0, n.Int("transB", 0) != 0
	s.P.Alpha, s.P.Beta = n.Float("alpha", 1), n.Float("beta", 1)
	m, k := a[0], a[1]
	if s.P.TransA {
		m, k = k, m
	}
	k2, nn := b[0], b[1]
	if s.P.TransB {
		k2, nn = nn, k2
	}
	if k != k2 {
		return fmt.Errorf("Gemm inner dimensions differ: %v and %v", a, b)
	}
	if len(s.In) > 2 && s.In[2] != nil {
		if _, err := graph.Broadcast(s.In[2].Shape, []int{m, nn}); err != nil {
			return fmt.Errorf("C: %w", err)
		}
	}
	setOut(s, 0, s.In[0].DType, []int{m, nn})
	return nil
}

func inferConv(s *graph.Step, _ int64) error {
	if err := need(s, 2); err != nil {
		return err
	}
	if err := convParams(s); err != nil {
		return err
	}
	x := s.In[0]
	sh := []int{x.Shape[0], s.In[1].Shape[0]}
	nd := len(s.P.Kernel)
	for i := 0; i < nd; i++ {
		in := x.Shape[2+i] + s.P.Pads[i] + s.P.Pads[nd+i]
		ek := s.P.Dilations[i]*(s.P.Kernel[i]-1) + 1
		o := (in-ek)/s.P.Strides[i] + 1
		if in < ek {
			o = 0
		}
		sh = append(sh, o)
	}
	setOut(s, 0, x.DType, sh)
	return nil
}

func inferReduce(s *graph.Step, x *graph.Value, opset int64) error {
	n := s.Node
	r := len(x.Shape)
	from := int64(18)
	if n.Op == "ReduceSum" {
		from = 13
	}
	axes, has, err := axesParam(s, opset, from)
	if err != nil {
		return err
	}
	s.P.Keep = n.Int("keepdims", 1) != 0
	if !has || len(axes) == 0 {
		if n.Int("noop_with_empty_axes", 0) != 0 {
			s.P.Noop = true
			setOut(s, 0, x.DType, cp(x.Shape))
			return nil
		}
		axes = make([]int, r)
		for i := range axes {
			axes[i] = i
		}
	}
	if s.P.Axes, err = normAxes(axes, r); err != nil {
		return err
	}
	setOut(s, 0, x.DType, reducedShape(x.Shape, s.P.Axes, s.P.Keep))
	return nil
}

func inferArgMax(s *graph.Step, x *graph.Value, _ int64) error {
	n := s.Node
	a, err := normAxis(int(n.Int("axis", 0)), len(x.Shape))
	if err != nil {
		return err
	}
	s.P.Axis, s.P.Axes = a, []int{a}
	s.P.Keep = n.Int("keepdims", 1) != 0
	s.P.SelectLast = n.Int("select_last_index", 0) != 0
	setOut(s, 0, onnx.Int64, reducedShape(x.Shape, s.P.Axes, s.P.Keep))
	return nil
}

func inferSoftmax(s *graph.Step, x *graph.Value, opset int64) error {
	dflt := int64(-1)
	if opset < 13 {
		dflt = 1
		s.P.WholeAxis = true
	}
	a, err := normAxis(int(s.Node.Int("axis", dflt)), len(x.Shape))
	if err != nil {
		return err
	}
	s.P.Axis = a
	setOut(s, 0, x.DType, cp(x.Shape))
	return nil
}

func inferLayerNorm(s *graph.Step, _ int64) error {
	if err := need(s, 2); err != nil {
		return err
	}
	n, x := s.Node, s.In[0]
	r := len(x.Shape)
	a, err := normAxis(int(n.Int("axis", -1)), r)
	if err != nil {
		return err
	}
	s.P.Axis, s.P.Eps = a, n.Float("epsilon", 1e-5)
	setOut(s, 0, x.DType, cp(x.Shape))
	st := cp(x.Shape)
	for i := a; i < r; i++ {
		st[i] = 1
	}
	stash := onnx.DataType(n.Int("stash_type", 1))
	setOut(s, 1, stash, st)
	setOut(s, 2, stash, cp(st))
	return nil
}

func convParams(s *graph.Step) error {
	n, x, w := s.Node, s.In[0], s.In[1]
	if len(x.Shape) < 3 || len(w.Shape) != len(x.Shape) {
		return fmt.Errorf("input %v and weights %v need matching rank ≥ 3", x.Shape, w.Shape)
	}
	nd := len(x.Shape) - 2
	s.P.Group = int(n.Int("group", 1))
	if s.P.Group <= 0 || x.Shape[1] != w.Shape[1]*s.P.Group || w.Shape[0]%s.P.Group != 0 {
		return fmt.Errorf("channels of input %v, weights %v and group %d do not agree", x.Shape, w.Shape, s.P.Group)
	}
	s.P.Kernel = cp(w.Shape[2:])
	if ks := n.Ints("kernel_shape"); ks != nil {
		if len(ks) != nd {
			return fmt.Errorf("kernel_shape %v does not match rank", ks)
		}
		for i, k := range ks {
			if int(k) != s.P.Kernel[i] {
				return fmt.Errorf("kernel_shape %v disagrees with weights %v", ks, w.Shape)
			}
		}
	}
	ones := func() []int {
		r := make([]int, nd)
		for i := range r {
			r[i] = 1
		}
		return r
	}
	s.P.Strides, s.P.Dilations = ones(), ones()
	if v := n.Ints("strides"); v != nil {
		s.P.Strides = toInts(v)
	}
	if v := n.Ints("dilations"); v != nil {
		s.P.Dilations = toInts(v)
	}
	s.P.Pads = make([]int, 2*nd)
	if v := n.Ints("pads"); v != nil {
		s.P.Pads = toInts(v)
	}
	if len(s.P.Strides) != nd || len(s.P.Dilations) != nd || len(s.P.Pads) != 2*nd {
		return fmt.Errorf("strides, dilations or pads do not match %d spatial dims", nd)
	}
	for i := 0; i < nd; i++ {
		if s.P.Strides[i] <= 0 || s.P.Dilations[i] <= 0 || s.P.Pads[i] < 0 || s.P.Pads[nd+i] < 0 {
			return fmt.Errorf("bad strides %v, dilations %v or pads %v", s.P.Strides, s.P.Dilations, s.P.Pads)
		}
	}
	switch ap := n.Str("auto_pad", "NOTSET"); ap {
	case "NOTSET", "":
	case "VALID":
		for i := range s.P.Pads {
			s.P.Pads[i] = 0
		}
	case "SAME_UPPER", "SAME_LOWER":
		for i := 0; i < nd; i++ {
			in := x.Shape[2+i]
			out := (in + s.P.Strides[i] - 1) / s.P.Strides[i]
			total := (out-1)*s.P.Strides[i] + s.P.Dilations[i]*(s.P.Kernel[i]-1) + 1 - in
			if total < 0 {
				total = 0
			}
			if ap == "SAME_UPPER" {
				s.P.Pads[i], s.P.Pads[nd+i] = total/2, total-total/2
			} else {
				s.P.Pads[i], s.P.Pads[nd+i] = total-total/2, total/2
			}
		}
	default:
		return fmt.Errorf("unknown auto_pad %q", ap)
	}
	return nil
}

func reducedShape(sh []int, axes []int, keep bool) []int {
	out := []int{}
	j := 0
	for i, d := range sh {
		if j < len(axes) && axes[j] == i {
			j++
			if keep {
				out = append(out, 1)
			}
			continue
		}
		out = append(out, d)
	}
	return out
}

func matmulShape(a, b []int) ([]int, error) {
	if len(a) == 0 || len(b) == 0 {
		return nil, fmt.Errorf("MatMul of a scalar")
	}
	aa, bb := a, b
	if len(a) == 1 {
		aa = []int{1, a[0]}
	}
	if len(b) == 1 {
		bb = []int{b[0], 1}
	}
	if aa[len(aa)-1] != bb[len(bb)-2] {
		return nil, fmt.Errorf("MatMul inner dimensions differ: %v and %v", a, b)
	}
	batch, err := graph.Broadcast(aa[:len(aa)-2], bb[:len(bb)-2])
	if err != nil {
		return nil, err
	}
	out := append(batch, aa[len(aa)-2], bb[len(bb)-1])
	if len(a) == 1 {
		out = append(out[:len(out)-2], out[len(out)-1])
	}
	if len(b) == 1 {
		out = out[:len(out)-1]
	}
	return out, nil
}

// flopOperands returns what the FLOP counts read: the number of output
// elements and the shapes of inputs 0 and 1 (w nil when input 1 is
// omitted); ok is false when the step lacks them.
func flopOperands(s *graph.Step) (out float64, a, w []int, ok bool) {
	if len(s.Out) == 0 || s.Out[0] == nil || len(s.In) < 2 || s.In[0] == nil {
		return 0, nil, nil, false
	}
	if s.In[1] != nil {
		w = s.In[1].Shape
	}
	return float64(graph.NumElements(s.Out[0].Shape)), s.In[0].Shape, w, true
}

// matmulFLOPs counts 2·M·N·K per product, i.e. 2 · (elements of the
// output) · K, K the contracted dimension: A is [..., M, K] or [K], so K
// is its last dimension either way (MatMul, MatMulInteger, and OpLinear
// and OpQLinear, whose In[0] is X [..., K]).
func matmulFLOPs(s *graph.Step) float64 {
	out, a, w, ok := flopOperands(s)
	if !ok || w == nil || len(a) == 0 {
		return 0
	}
	return 2 * out * float64(a[len(a)-1])
}

// gemmFLOPs counts 2·M·N·K with K from A's shape and transA.
func gemmFLOPs(s *graph.Step) float64 {
	out, a, w, ok := flopOperands(s)
	if !ok || w == nil || len(a) != 2 {
		return 0
	}
	k := a[1]
	if s.P.TransA {
		k = a[0]
	}
	return 2 * out * float64(k)
}

// convFLOPs counts 2 · (Cin/group · k1 · k2 ...) per output element: W is
// [Cout, Cin/group, k1, k2, ...], and each output element is a dot
// product over everything but W's first dimension (Conv, ConvInteger,
// OpPatchEmbed).
func convFLOPs(s *graph.Step) float64 {
	out, _, w, ok := flopOperands(s)
	if !ok || len(w) < 2 {
		return 0
	}
	return 2 * out * float64(graph.NumElements(w[1:]))
}

// attentionFLOPs counts OpAttention's two products Q·Kᵀ and P·V, 2·B·S·T·E
// each summed over heads (Q [B, S, E], K [B, T, E], or [S, B, E] and
// [T, B, E] sequence-first; in the packed form In[0] is QKV [B, S, 3E]
// and T = S).
func attentionFLOPs(s *graph.Step) float64 {
	_, a, k, ok := flopOperands(s)
	if !ok {
		return 0
	}
	bi, si := 0, 1 // batch and sequence axes
	if s.P.SeqFirst {
		bi, si = 1, 0
	}
	if o := s.Out[0].Shape; len(s.In) > 4 && s.In[4] != nil && len(o) == 2 && len(a) == 3 {
		// Selected queries: each over all keys (the causal half not
		// subtracted, as for the whole attention).
		keys := a[si]
		if k != nil && len(k) == 3 {
			keys = k[si]
		}
		return 2 * 2 * float64(o[0]) * float64(keys) * float64(o[1])
	}
	if k == nil {
		o := s.Out[0].Shape
		if len(o) != 3 {
			return 0
		}
		return 2 * 2 * float64(o[bi]) * float64(o[si]) * float64(o[si]) * float64(o[2])
	}
	if len(a) != 3 || len(k) != 3 {
		return 0
	}
	return 2 * 2 * float64(a[bi]) * float64(a[si]) * float64(k[si]) * float64(a[2])
}

func dgemm(ta, tb bool, m, n, k int, a []float64, lda int, b []float64, ldb int, c []float64, ldc int) {
	if m == 0 || n == 0 || k == 0 {
		for i := range c[:m*ldc] {
			c[i] = 0
		}
		return
	}
	gonumblas.Implementation{}.Dgemm(trans(ta), trans(tb), m, n, k, 1, a, lda, b, ldb, 0, c, ldc)
}

func trans(t bool) blas.Transpose {
	if t {
		return blas.Trans
	}
	return blas.NoTrans
}

// promote returns the operand shapes of a MatMul with 1-D operands made 2-D.
func promote(a, b []int) ([]int, []int) {
	if len(a) == 1 {
		a = []int{1, a[0]}
	}
	if len(b) == 1 {
		b = []int{b[0], 1}
	}
	return a, b
}

// batches calls fn with the offsets of each matrix of a batched MatMul.
func batches(a, b []int, fn func(ao, bo, oo int)) (m, n, k int) {
	m, k, n = a[len(a)-2], a[len(a)-1], b[len(b)-1]
	batch, _ := graph.Broadcast(a[:len(a)-2], b[:len(b)-2])
	as := bstrides(a[:len(a)-2], batch)
	bs := bstrides(b[:len(b)-2], batch)
	cnt := graph.NumElements(batch)
	idx := make([]int, len(batch))
	for i := 0; i < cnt; i++ {
		ao, bo := 0, 0
		for d := range idx {
			ao += idx[d] * as[d]
			bo += idx[d] * bs[d]
		}
		fn(ao*m*k, bo*k*n, i*m*n)
		for d := len(idx) - 1; d >= 0; d-- {
			idx[d]++
			if idx[d] < batch[d] {
				break
			}
			idx[d] = 0
		}
	}
	return
}

// constOperand reports whether step s's input i is a constant (a weight).
func constOperand(s *graph.Step, i int) bool {
	return s != nil && len(s.In) > i && s.In[i] != nil && s.In[i].Const != nil
}

// matmul is ONNX MatMul. A float32 B of one matrix is shared by every
// matrix of A, so A's leading axes are rows of a single product (one
// parallel GEMM instead of one small GEMM per matrix of A), and a constant
// one (a weight: constB) is packed once per Env, as a fused Linear's is,
// instead of on every call: this is how a graph none of pkg/graph's
// fusions matches runs its projections.
func matmul(e *Env, a, b, o *graph.Tensor, constB bool) error {
	as, bs := promote(a.Shape, b.Shape)
	switch {
	case isFloat(a.DType) && isFloat(b.DType) && len(bs) == 2:
		k, n := bs[0], bs[1]
		rows := graph.NumElements(as[:len(as)-1])
		if constB && e != nil && k > 0 && n > 0 && rows > 0 {
			pb, err := e.packedB(false, b, k, n)
			if err != nil {
				return err
			}
			kernels.SgemmPacked(e.pool(), false, rows, 1, a.Float32, k, pb, 0, o.Float32, n)
			return nil
		}
		e.sgemm(false, false, rows, n, k, 1, a.Float32, max(k, 1), b.Float32, max(n, 1), 0, o.Float32, max(n, 1))
		return nil
	case isFloat(a.DType) && isFloat(b.DType):
		m, n, k := as[len(as)-2], bs[len(bs)-1], as[len(as)-1]
		batches(as, bs, func(ao, bo, oo int) {
			e.sgemm(false, false, m, n, k, 1, a.Float32[ao:], max(k, 1), b.Float32[bo:], max(n, 1), 0, o.Float32[oo:], max(n, 1))
		})
		return nil
	case a.DType == onnx.Double && b.DType == onnx.Double:
		m, n, k := as[len(as)-2], bs[len(bs)-1], as[len(as)-1]
		batches(as, bs, func(ao, bo, oo int) {
			dgemm(false, false, m, n, k, a.Float64[ao:], max(k, 1), b.Float64[bo:], max(n, 1), o.Float64[oo:], max(n, 1))
		})
		return nil
	case a.DType == b.DType && (a.DType == onnx.Int64 || a.DType == onnx.Int32):
		ga, gb, so := getF(a), getF(b), setF(o)
		batches(as, bs, func(ao, bo, oo int) {
			m, n, k := as[len(as)-2], bs[len(bs)-1], as[len(as)-1]
			for i := 0; i < m; i++ {
				for j := 0; j < n; j++ {
					var s float64
					for l := 0; l < k; l++ {
						s += ga(ao+i*k+l) * gb(bo+l*n+j)
					}
					so(oo+i*n+j, s)
				}
			}
		})
		return nil
	}
	return fmt.Errorf("MatMul of %s and %s is not supported", graph.DTypeName(a.DType), graph.DTypeName(b.DType))
}

// gemm is ONNX Gemm; a constant B (constB: a weight) is packed once per
// Env, as matmul's is.
func gemm(e *Env, p *graph.Params, in []*graph.Tensor, o *graph.Tensor, constB bool) error {
	a, b := in[0], in[1]
	if !isFloat(a.DType) || !isFloat(b.DType) {
		return fmt.Errorf("Gemm of %s is not supported", graph.DTypeName(a.DType))
	}
	m, n := o.Shape[0], o.Shape[1]
	k := a.Shape[1]
	if p.TransA {
		k = a.Shape[0]
	}
	beta := float32(0)
	if len(in) > 2 && in[2] != nil && p.Beta != 0 {
		c := in[2]
		stridedCopy(o, c, o.Shape, bstrides(c.Shape, o.Shape), 0)
		beta = p.Beta
	}
	if constB && e != nil && m > 0 && n > 0 && k > 0 && p.Alpha != 0 {
		pb, err := e.packedB(p.TransB, b, k, n)
		if err != nil {
			return err
		}
		kernels.SgemmPacked(e.pool(), p.TransA, m, p.Alpha, a.Float32, a.Shape[1], pb, beta, o.Float32, n)
		return nil
	}
	e.sgemm(p.TransA, p.TransB, m, n, k, p.Alpha, a.Float32, max(a.Shape[1], 1), b.Float32, max(b.Shape[1], 1), beta, o.Float32, max(n, 1))
	return nil
}

// convGeom is the 2-D view of a 1-D or 2-D convolution.
type convGeom struct {
	n, c, h, w, m, kh, kw, oh, ow     int
	sh, sw, dh, dw, pt, pl, group, cg int
}

func geometry(p *graph.Params, x, w, o []int) (convGeom, error) {
	var g convGeom
	switch len(p.Kernel) {
	case 1:
		g = convGeom{n: x[0], c: x[1], h: 1, w: x[2], m: w[0], kh: 1, kw: w[2], oh: 1, ow: o[2],
			sh: 1, sw: p.Strides[0], dh: 1, dw: p.Dilations[0], pt: 0, pl: p.Pads[0]}
	case 2:
		g = convGeom{n: x[0], c: x[1], h: x[2], w: x[3], m: w[0], kh: w[2], kw: w[3], oh: o[2], ow: o[3],
			sh: p.Strides[0], sw: p.Strides[1], dh: p.Dilations[0], dw: p.Dilations[1], pt: p.Pads[0], pl: p.Pads[1]}
	default:
		return g, fmt.Errorf("%d-D convolution is not supported (1-D and 2-D are)", len(p.Kernel))
	}
	g.group = p.Group
	g.cg = g.c / g.group
	return g, nil
}

// im2col fills col[(ci*kh+ky)*kw+kx][oy*ow+ox] for channels c0..c0+cg of
// image img (c×h×w), with pad as the value outside the image.
func im2col[T float32 | float64](g *convGeom, img []T, c0 int, col []T, pad T) {
	ohw := g.oh * g.ow
	for ci := 0; ci < g.cg; ci++ {
		plane := img[(c0+ci)*g.h*g.w:]
		for ky := 0; ky < g.kh; ky++ {
			for kx := 0; kx < g.kw; kx++ {
				row := col[((ci*g.kh+ky)*g.kw+kx)*ohw:]
				for oy := 0; oy < g.oh; oy++ {
					iy := oy*g.sh - g.pt + ky*g.dh
					dst := row[oy*g.ow : (oy+1)*g.ow]
					if iy < 0 || iy >= g.h {
						for i := range dst {
							dst[i] = pad
						}
						continue
					}
					src := plane[iy*g.w:]
					for ox := range dst {
						ix := ox*g.sw - g.pl + kx*g.dw
						if ix < 0 || ix >= g.w {
							dst[ox] = pad
						} else {
							dst[ox] = src[ix]
						}
					}
				}
			}
		}
	}
}

func conv(e *Env, p *graph.Params, in []*graph.Tensor, o *graph.Tensor) error {
	x, w := in[0], in[1]
	if !isFloat(x.DType) || !isFloat(w.DType) {
		return fmt.Errorf("Conv of %s is not supported", graph.DTypeName(x.DType))
	}
	g, err := geometry(p, x.Shape, w.Shape, o.Shape)
	if err != nil {
		return err
	}
	kk := g.cg * g.kh * g.kw
	ohw := g.oh * g.ow
	mg := g.m / g.group
	// im2col writes every element of col, so a recycled buffer serves.
	colBuf := float32Scratch.Get().(*[]float32)
	defer float32Scratch.Put(colBuf)
	if cap(*colBuf) < kk*ohw {
		*colBuf = make([]float32, kk*ohw)
	}
	col := (*colBuf)[:kk*ohw]
	for b := 0; b < g.n; b++ {
		img := x.Float32[b*g.c*g.h*g.w:]
		for gr := 0; gr < g.group; gr++ {
			im2col(&g, img, gr*g.cg, col, 0)
			out := o.Float32[(b*g.m+gr*mg)*ohw:]
			e.sgemm(false, false, mg, ohw, kk, 1, w.Float32[gr*mg*kk:], max(kk, 1), col, max(ohw, 1), 0, out, max(ohw, 1))
		}
		if len(in) > 2 && in[2] != nil {
			bias := in[2].Float32
			for mi := 0; mi < g.m; mi++ {
				row := o.Float32[(b*g.m+mi)*ohw : (b*g.m+mi+1)*ohw]
				for i := range row {
					row[i] += bias[mi]
				}
			}
		}
	}
	return nil
}

func reduce(e *Env, op string, p *graph.Params, x, o *graph.Tensor) error {
	if p.Noop {
		graph.CopyRange(o, 0, x, 0, x.Len())
		return nil
	}
	kshape := make([]int, len(x.Shape))
	copy(kshape, x.Shape)
	for _, a := range p.Axes {
		kshape[a] = 1
	}
	count := x.Len() / max(o.Len(), 1)
	// fast path: float32 over the last axis, rows in parallel (a
	// decomposed LayerNorm's mean and variance: float32 partial sums, as
	// onnxruntime adds them)
	if isFloat(x.DType) && len(p.Axes) == 1 && p.Axes[0] == len(x.Shape)-1 && op != "ReduceMax" {
		n := x.Shape[len(x.Shape)-1]
		e.pool().Parallel(o.Len(), max(1, 16384/max(n, 1)), func(lo, hi int) {
			for r := lo; r < hi; r++ {
				row := x.Float32[r*n : (r+1)*n]
				switch op {
				case "ReduceL2":
					var s float64
					for _, v := range row {
						s += float64(v) * float64(v)
					}
					o.Float32[r] = float32(math.Sqrt(s))
				case "ReduceMean":
					o.Float32[r] = kernels.Sum(row) / float32(n)
				default:
					o.Float32[r] = kernels.Sum(row)
				}
			}
		})
		return nil
	}
	acc := make([]float64, o.Len())
	if op == "ReduceMax" {
		for i := range acc {
			acc[i] = math.Inf(-1)
		}
	}
	g := getF(x)
	runs(x.Shape, [][]int{contiguous(x.Shape), bstrides(kshape, x.Shape)}, nil, func(of []int, n int, in []int) {
		xi, oi := of[0], of[1]
		for i := 0; i < n; i++ {
			v := g(xi + i)
			switch op {
			case "ReduceMax":
				if v > acc[oi] || v != v {
					acc[oi] = v
				}
			case "ReduceL2":
				acc[oi] += v * v
			default:
				acc[oi] += v
			}
			oi += in[1]
		}
	})
	st := setF(o)
	for i, v := range acc {
		switch op {
		case "ReduceMean":
			v /= float64(count)
		case "ReduceL2":
			v = math.Sqrt(v)
		}
		if count == 0 && op == "ReduceMax" && o.DType != onnx.Float && o.DType != onnx.Double {
			v = 0
		}
		st(i, v)
	}
	return nil
}

func argmax(p *graph.Params, x, o *graph.Tensor) error {
	outer := graph.NumElements(x.Shape[:p.Axis])
	n := x.Shape[p.Axis]
	inner := graph.NumElements(x.Shape[p.Axis+1:])
	g := getF(x)
	for a := 0; a < outer; a++ {
		for c := 0; c < inner; c++ {
			best, bi := math.Inf(-1), 0
			for i := 0; i < n; i++ {
				v := g((a*n+i)*inner + c)
				if i == 0 || v > best || (p.SelectLast && v == best) {
					best, bi = v, i
				}
			}
			o.Int64[a*inner+c] = int64(bi)
		}
	}
	return nil
}

func softmax(e *Env, p *graph.Params, x, o *graph.Tensor) error {
	outer := graph.NumElements(x.Shape[:p.Axis])
	n := x.Shape[p.Axis]
	inner := graph.NumElements(x.Shape[p.Axis+1:])
	if p.WholeAxis {
		n, inner = n*inner, 1
	}
	switch {
	case isFloat(x.DType) && inner == 1:
		return kernels.Softmax(e.pool(), o.Float32, x.Float32, outer, n)
	case isFloat(x.DType):
		softmaxT(x.Float32, o.Float32, outer, n, inner)
	case x.DType == onnx.Double:
		softmaxT(x.Float64, o.Float64, outer, n, inner)
	default:
		return fmt.Errorf("Softmax of %s", graph.DTypeName(x.DType))
	}
	return nil
}

func softmaxT[T float32 | float64](x, o []T, outer, n, inner int) {
	for a := 0; a < outer; a++ {
		for c := 0; c < inner; c++ {
			base := a*n*inner + c
			mx := math.Inf(-1)
			for i := 0; i < n; i++ {
				mx = math.Max(mx, float64(x[base+i*inner]))
			}
			var sum float64
			for i := 0; i < n; i++ {
				e := math.Exp(float64(x[base+i*inner]) - mx)
				o[base+i*inner] = T(e)
				sum += e
			}
			for i := 0; i < n; i++ {
				o[base+i*inner] = T(float64(o[base+i*inner]) / sum)
			}
		}
	}
}

func layerNorm(e *Env, p *graph.Params, in, out []*graph.Tensor) error {
	x, scale := in[0], in[1]
	if !isFloat(x.DType) {
		return fmt.Errorf("LayerNormalization of %s is not supported", graph.DTypeName(x.DType))
	}
	outer := graph.NumElements(x.Shape[:p.Axis])
	norm := graph.NumElements(x.Shape[p.Axis:])
	// The row kernel serves the common case: last axis, float32 (or
	// float16, held widened: the output step rounds it), affine
	// parameters of the row's length, no Mean/InvStdDev outputs. A
	// Linear's LayerNorm prologue runs the same kernel (see
	// graph.Params.NormHalf), so folding one changes no value.
	if (x.DType == onnx.Float || x.DType == onnx.Float16) && p.Axis == len(x.Shape)-1 && len(out) == 1 && scale.Len() == norm &&
		(len(in) < 3 || in[2] == nil || in[2].Len() == norm) {
		var beta []float32
		if len(in) > 2 && in[2] != nil {
			beta = in[2].Float32
		}
		return kernels.LayerNorm(e.pool(), out[0].Float32, x.Float32, outer, norm, scale.Float32, beta, p.Eps)
	}
	tail := x.Shape[p.Axis:]
	sc := expandTo(scale, tail)
	var bias []float32
	if len(in) > 2 && in[2] != nil {
		bias = expandTo(in[2], tail)
	}
	y := out[0].Float32
	for r := 0; r < outer; r++ {
		row := x.Float32[r*norm : (r+1)*norm]
		var mean, v float64
		for _, e := range row {
			mean += float64(e)
		}
		mean /= float64(norm)
		for _, e := range row {
			d := float64(e) - mean
			v += d * d
		}
		v /= float64(norm)
		inv := 1 / math.Sqrt(v+float64(p.Eps))
		dst := y[r*norm : (r+1)*norm]
		for i, e := range row {
			t := float32((float64(e) - mean) * inv)
			t *= sc[i]
			if bias != nil {
				t += bias[i]
			}
			dst[i] = t
		}
		if len(out) > 1 && out[1] != nil {
			out[1].Float32[r] = float32(mean)
		}
		if len(out) > 2 && out[2] != nil {
			out[2].Float32[r] = float32(inv)
		}
	}
	return nil
}

// expandTo returns t's float data broadcast to shape sh (no copy if equal).
func expandTo(t *graph.Tensor, sh []int) []float32 {
	if t.Len() == graph.NumElements(sh) {
		return t.Float32
	}
	o := graph.NewTensor(onnx.Float, sh)
	stridedCopy(o, t, sh, bstrides(t.Shape, sh), 0)
	return o.Float32
}

// attention runs a fused graph.OpAttention step: Q, K, V as three
// [B, S, E] tensors (K and V [B, T, E] in a cross attention), or in the
// packed form (K and V nil) side by side in the rows of one [B, S, 3·E]
// tensor, or K and V side by side in one [B, T, 2·E] (V nil), read in
// place with a row stride of 3·E or 2·E.
func attention(e *Env, p *graph.Params, in []*graph.Tensor, o *graph.Tensor, constMask bool) error {
	// With query rows (In[4]) the output is [rows, E] and the full
	// output's shape is Q's, with E columns.
	full := o.Shape
	var rows []int
	if len(in) > 4 && in[4] != nil {
		ids, err := in[4].Ints()
		if err != nil {
			return fmt.Errorf("Attention: query rows: %w", err)
		}
		if len(o.Shape) != 2 || len(in[0].Shape) != 3 || o.Shape[0] != len(ids) {
			return fmt.Errorf("Attention: %d query rows into output %v from Q %v", len(ids), o.Shape, in[0].Shape)
		}
		full = []int{in[0].Shape[0], in[0].Shape[1], o.Shape[1]}
		n := full[0] * full[1]
		rows = make([]int, len(ids))
		for i, id := range ids {
			if id < 0 {
				id += n
			}
			if id < 0 || id >= n {
				return fmt.Errorf("Attention: query row %d out of range for %d rows", ids[i], n)
			}
			rows[i] = id
		}
	}
	if len(full) != 3 || p.Heads < 1 || full[2]%p.Heads != 0 {
		return fmt.Errorf("Attention: output %v does not split into %d heads", full, p.Heads)
	}
	b, seq, width := full[0], full[1], full[2]
	bi, si := 0, 1 // batch and sequence axes
	if p.SeqFirst {
		b, seq, bi, si = seq, b, 1, 0
	}
	sh := kernels.AttentionShape{Batch: b, Seq: seq, Heads: p.Heads, HeadDim: width / p.Heads,
		LdQ: width, LdK: width, LdV: width, LdOut: width}
	q := in[0].Float32
	var k, v []float32
	switch {
	case in[1] == nil && in[2] == nil:
		if want := []int{full[0], full[1], 3 * width}; !sameInts(in[0].Shape, want) {
			return fmt.Errorf("Attention: packed QKV %v, want %v", in[0].Shape, want)
		}
		sh.LdQ, sh.LdK, sh.LdV = 3*width, 3*width, 3*width
		k, v = q[width:], q[2*width:]
	case in[2] == nil:
		kv := in[1].Shape
		if len(kv) != 3 || kv[bi] != b || kv[2] != 2*width {
			return fmt.Errorf("Attention: packed KV %v does not fit the output %v", kv, full)
		}
		sh.KVSeq, sh.LdK, sh.LdV = kv[si], 2*width, 2*width
		k, v = in[1].Float32, in[1].Float32[width:]
	default:
		kv := in[1].Shape
		if len(kv) != 3 || kv[bi] != b || kv[2] != width || !sameInts(in[2].Shape, kv) {
			return fmt.Errorf("Attention: K %v and V %v do not fit the output %v", kv, in[2].Shape, full)
		}
		sh.KVSeq = kv[si]
		k, v = in[1].Float32, in[2].Float32
	}
	var mask []float32
	if len(in) > 3 && in[3] != nil {
		mask = in[3].Float32
		// A mask of one row per batch ([B, 1, 1, T], [1, 1, 1, T]) is a
		// key (padding) mask, the same for every query.
		ms := in[3].Shape
		sh.KeyMask = seq > 1 && len(ms) >= 2 && ms[len(ms)-2] == 1
	}
	// Fusion gave a constant causal mask the kernel's causal mode
	// (p.Causal, see graph's causalAttention), which skips the hidden half
	// of both products instead of adding the mask to it; a mask computed
	// at run time gets it when it is causal in this run (a constant one
	// that was not causal then is not now).
	causal := p.Causal
	if !causal && !constMask && sh.KVSeq == 0 && !sh.KeyMask && graph.CausalMask(mask, seq) {
		mask, causal = nil, true
	}
	if causal && mask != nil {
		return fmt.Errorf("Attention: causal with a mask")
	}
	// Sequence-first: token (b, s) is row s·B+b (see AttentionShape's
	// Interleaved); all B·H heads run in one parallel call.
	sh.Interleaved = p.SeqFirst
	if rows != nil {
		return kernels.AttentionRows(e.pool(), sh, q, k, v, p.Scale, mask, causal, rows, o.Float32)
	}
	return kernels.Attention(e.pool(), sh, q, k, v, p.Scale, mask, causal, o.Float32)
}

func sameInts(a, b []int) bool {
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

// patchScratch recycles PatchEmbed's patch matrix between runs when the
// caller gives no scratch memory.
var patchScratch = sync.Pool{New: func() any { return new([]float32) }}

// patchMatrixSize is the number of values of PatchEmbed's patch matrix
// for input x and weights w shapes (0 when they do not fit).
func patchMatrixSize(x, w []int) int {
	if len(x) != 4 || len(w) != 4 || w[2] < 1 || w[3] < 1 {
		return 0
	}
	return x[0] * (x[2] / w[2]) * (x[3] / w[3]) * x[1] * w[2] * w[3]
}

// patchEmbed runs a fused graph.OpPatchEmbed step: it copies every
// KH×KW patch of every image into one row of a [B·OH·OW, C·KH·KW]
// matrix (the image's pixels in the Conv weight's (c, ky, kx) order) and
// multiplies it by the weights, packed transposed once, in one GEMM that
// writes the tokens [B, OH·OW, M] directly, bias in its epilogue;
// scratch, when it holds the whole patch matrix, is used for it.
func (e *Env) patchEmbed(in []*graph.Tensor, o *graph.Tensor, scratch []float32) error {
	x, w := in[0], in[1]
	if len(x.Shape) != 4 || len(w.Shape) != 4 || x.Shape[1] != w.Shape[1] || graph.NumElements(w.Shape) == 0 {
		return fmt.Errorf("PatchEmbed: input %v and weights %v do not match", x.Shape, w.Shape)
	}
	b, c, h, wd := x.Shape[0], x.Shape[1], x.Shape[2], x.Shape[3]
	m, kh, kw := w.Shape[0], w.Shape[2], w.Shape[3]
	oh, ow := h/kh, wd/kw
	k, rows := c*kh*kw, b*oh*ow
	if o.Len() != rows*m {
		return fmt.Errorf("PatchEmbed: output %v, want %d×%d values", o.Shape, rows, m)
	}
	if rows == 0 {
		return nil
	}
	if e == nil {
		e = &Env{}
	}
	pb, err := e.packedB(true, w, k, m)
	if err != nil {
		return err
	}
	a := scratch
	if len(a) < rows*k {
		buf := patchScratch.Get().(*[]float32)
		defer patchScratch.Put(buf)
		if cap(*buf) < rows*k {
			*buf = make([]float32, rows*k)
		}
		a = *buf
	}
	a = a[:rows*k]
	// Read the image row by row; each pixel row of a patch lands at
	// (c·KH+ky)·KW in its patch's row of a.
	img := x.Float32
	for bi := range b {
		for ci := range c {
			for oy := range oh {
				for ky := range kh {
					src := img[((bi*c+ci)*h+oy*kh+ky)*wd:]
					dst := a[(bi*oh+oy)*ow*k+(ci*kh+ky)*kw:]
					for ox := range ow {
						copy(dst[ox*k:ox*k+kw], src[ox*kw:ox*kw+kw])
					}
				}
			}
		}
	}
	ep := kernels.Epilogue{}
	if len(in) > 2 && in[2] != nil {
		ep.Bias = in[2].Float32
	}
	return kernels.Linear(e.pool(), rows, a, k, pb, ep, o.Float32, m)
}
