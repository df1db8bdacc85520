package ops

import (
	"fmt"
	"runtime"
	"sync"
	"sync/atomic"
	"unsafe"

	"github.com/clip-go/clip/pkg/engine/kernels"
	"github.com/clip-go/clip/pkg/graph"
	"github.com/clip-go/clip/pkg/onnx"
)

// The fused matrix products of pkg/graph.
func init() {
	define(
		def{OpDef: graph.OpDef{Op: graph.OpLinear, Scratch: linearScratch, FLOPs: matmulFLOPs},
			eval: func(c call) error { return c.e.linear(c.s, c.in, c.out[0], c.scratch) }},
		def{OpDef: graph.OpDef{Op: graph.OpQLinear, FLOPs: matmulFLOPs},
			eval: func(c call) error { return c.e.qlinear(c.s, c.in, c.out[0]) }},
	)
}

// linearScratch is the size of the normalised X of an OpLinear step with
// a LayerNorm prologue.
func linearScratch(s *graph.Step) int {
	if hasNorm(s) {
		return graph.NumElements(s.In[0].Shape)
	}
	return 0
}

// Env is what kernels share across the steps of a session: the worker
// pool the packed GEMM splits its work over.
type Env struct {
	Pool *kernels.Pool

	mu sync.Mutex
	// packed caches weight matrices packed for the GEMM, keyed by their
	// (constant, never written) tensor and whether they are packed
	// transposed. The key is the tensor, not its data: a lazy weight's
	// data is dropped once packed (see Prepack) and made anew, elsewhere,
	// when something reads it again.
	packed map[packKey]*kernels.PackedB
	// packed8 caches constant MatMulInteger weights, keyed likewise.
	packed8 map[*byte]*kernels.PackedB8
	// cat and cat8 cache the concatenated weights of multi-part Linear
	// and QLinear steps (fused Q, K, V projections), keyed by the first
	// part's tensor (cat) or first element (cat8).
	cat  map[*graph.Tensor]*catLinear
	cat8 map[*byte]*catQLinear
	// rawUse holds the lazy constants some step of a bound plan reads as
	// they are (not packed): Prepack keeps their data.
	rawUse map[*graph.Tensor]bool
}

// packKey identifies a packed float32 weight: its data and whether the
// GEMM reads it transposed (a Conv's [M, K] weights) or as stored.
type packKey struct {
	w     *graph.Tensor
	trans bool
}

// packedB8 returns the constant k×n integer matrix b packed for GemmU8
// (packing outside the lock, like packedB).
// The zero points are read from s (see constB8) only when packing, so a
// run that finds b packed allocates nothing.
func (e *Env) packedB8(b []byte, k, n int, signed bool, s *graph.Step) (*kernels.PackedB8, error) {
	e.mu.Lock()
	pb, ok := e.packed8[&b[0]]
	e.mu.Unlock()
	if ok && pb.K() == k && pb.N() == n {
		return pb, nil
	}
	pb, err := e.Pool.PackB8(k, n, b, n, signed, zeroPoints(s))
	if err != nil {
		return nil, err
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.packed8 == nil {
		e.packed8 = map[*byte]*kernels.PackedB8{}
	}
	if old, ok := e.packed8[&b[0]]; ok && old.K() == k && old.N() == n {
		return old, nil
	}
	e.packed8[&b[0]] = pb
	return pb, nil
}

// constB8 returns the bytes and signedness of a MatMulInteger step's
// constant 2-D B operand, or ok false when B is not one or its zero point
// is not a constant scalar or per-column vector (see zeroPoints).
func constB8(s *graph.Step) (b []byte, signed bool, ok bool) {
	if len(s.In) < 2 || s.In[1] == nil || s.In[1].Const == nil || len(s.In[1].Shape) != 2 {
		return nil, false, false
	}
	w := s.In[1].Const
	n := w.Shape[1]
	if w.Len() == 0 {
		return nil, false, false
	}
	switch w.DType {
	case onnx.Uint8:
		b = w.Uint8
	case onnx.Int8:
		b, signed = unsafe.Slice((*byte)(unsafe.Pointer(&w.Int8[0])), len(w.Int8)), true
	default:
		return nil, false, false
	}
	if len(s.In) > 3 && s.In[3] != nil {
		if z := s.In[3].Const; z == nil || (z.Len() != 1 && z.Len() != n) {
			return nil, false, false
		}
	}
	return b, signed, true
}

// zeroPoints returns the zero points of B of a step accepted by constB8.
func zeroPoints(s *graph.Step) []int32 {
	if len(s.In) <= 3 || s.In[3] == nil {
		return []int32{0}
	}
	z := s.In[3].Const
	zero := make([]int32, z.Len())
	for i := range zero {
		zero[i] = int32(z.Float64At(i))
	}
	return zero
}

// packedB returns the constant w packed once for kernels.Linear as a k×n
// operand: w holds the k×n matrix, or its n×k transpose when trans.
// Packing runs outside the lock so that Prepack can pack in parallel.
func (e *Env) packedB(trans bool, t *graph.Tensor, k, n int) (*kernels.PackedB, error) {
	key := packKey{w: t, trans: trans}
	e.mu.Lock()
	pb, ok := e.packed[key]
	e.mu.Unlock()
	if ok && pb.K() == k && pb.N() == n {
		return pb, nil
	}
	ld := n
	if trans {
		ld = k
	}
	pb, err := kernels.PackB(trans, k, n, t.Materialize(), ld)
	if err != nil {
		return nil, err
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.packed == nil {
		e.packed = map[packKey]*kernels.PackedB{}
	}
	if old, ok := e.packed[key]; ok && old.K() == k && old.N() == n {
		return old, nil // another goroutine packed it meanwhile
	}
	e.packed[key] = pb
	return pb, nil
}

// float32Bytes returns the bytes of a float32 weight, for Prepack's
// release callback.
func float32Bytes(w []float32) []byte {
	return unsafe.Slice((*byte)(unsafe.Pointer(&w[0])), 4*len(w))
}

// Prepack packs the constant weights of a plan's Linear (the
// concatenation of a multi-part one), QLinear (likewise), PatchEmbed,
// MatMulInteger and float MatMul and Gemm steps on threads goroutines, so the first run does not
// pack them one by one, and calls packed (when not nil) with each packed
// weight's original bytes, which the engine no longer reads. Failures are
// left for the run to report.
//
// A lazy weight (graph.Tensor.Materialize: a float16 file's weights,
// widened; a 4-bit file's, dequantized; a weight transposed at load) is
// made just before it is packed and dropped right after, unless a step
// of this or an earlier plan of e reads it as it is; packed then gets
// the bytes it was made from when they are the model's (float16 halves).
// A file's float16 or 4-bit weights are thus never all held as float32
// at once. Every other lazy constant the plan's steps read is made
// here.
func (e *Env) Prepack(p *graph.Plan, threads int, packed func(b []byte)) {
	e.mu.Lock()
	if e.rawUse == nil {
		e.rawUse = map[*graph.Tensor]bool{}
	}
	var raw []*graph.Tensor // the lazy constants this plan reads as they are
	for _, s := range p.Steps {
		pw := packedWeights(s)
		for _, v := range s.In {
			if v != nil && v.Const != nil && v.Const.Lazy() && !pw[v] {
				e.rawUse[v.Const] = true
				raw = append(raw, v.Const)
			}
		}
	}
	for _, o := range p.Outputs {
		if o.Const != nil && o.Const.Lazy() {
			e.rawUse[o.Const] = true
			raw = append(raw, o.Const)
		}
	}
	e.mu.Unlock()
	// Made first: packing reads some (a fused Q, K, V projection's
	// biases).
	for _, t := range raw {
		t.Materialize()
	}
	// dead returns the bytes of packed weights ws the engine no longer
	// reads: a file's float32 weight's own bytes; for a lazy one (then
	// dropped) the model bytes it was made from.
	//
	// The dropped copies are garbage the collector would let pile up to
	// the size of the live heap (the packed weights, ~350 MB for a ViT-B
	// tower) before it runs: every gcEvery bytes dropped, a collection
	// (cheap: weights hold no pointers) lets the next weights reuse
	// their memory, so the peak stays near the packed size.
	const gcEvery = 64 << 20
	var dropped atomic.Int64
	dead := func(ws ...*graph.Tensor) [][]byte {
		var out [][]byte
		for _, w := range ws {
			if !w.Lazy() {
				if len(w.Float32) > 0 {
					out = append(out, float32Bytes(w.Float32))
				}
				continue
			}
			e.mu.Lock()
			keep := e.rawUse[w]
			e.mu.Unlock()
			size := 4 * int64(w.Len())
			if keep || !w.Release() {
				continue
			}
			if w.Source() != nil {
				out = append(out, w.Source())
			}
			if n := dropped.Add(size); n/gcEvery != (n-size)/gcEvery {
				runtime.GC()
			}
		}
		return out
	}
	// A job packs one step's weights and returns the original bytes it
	// made dead (nil on failure).
	var jobs []func() [][]byte
	for _, s := range p.Steps {
		pw := packedWeights(s)
		switch {
		case s.Node.Op == graph.OpLinear && graph.NumLinearParts(s) > 1:
			jobs = append(jobs, func() [][]byte {
				if _, err := e.catLinear(s); err != nil {
					return nil
				}
				var ws []*graph.Tensor
				for i := range graph.NumLinearParts(s) {
					ws = append(ws, graph.LinearPartAt(s, i).W.Const)
				}
				return dead(ws...)
			})
		case s.Node.Op == graph.OpLinear && pw[s.In[1]]:
			w := s.In[1].Const
			jobs = append(jobs, func() [][]byte {
				if _, err := e.packedB(false, w, w.Shape[0], w.Shape[1]); err != nil {
					return nil
				}
				return dead(w)
			})
		case (s.Node.Op == "MatMul" || s.Node.Op == "Gemm") && pw[s.In[1]]:
			// A projection left unfused: matmul and gemm read the packed
			// weight (the same one a fused Linear of the same weight reads).
			w := s.In[1].Const
			trans := s.Node.Op == "Gemm" && s.P.TransB
			k, n := w.Shape[0], w.Shape[1]
			if trans {
				k, n = n, k
			}
			jobs = append(jobs, func() [][]byte {
				if _, err := e.packedB(trans, w, k, n); err != nil {
					return nil
				}
				return dead(w)
			})
		case s.Node.Op == graph.OpPatchEmbed && pw[s.In[1]]:
			w := s.In[1].Const
			jobs = append(jobs, func() [][]byte {
				m := w.Shape[0]
				if _, err := e.packedB(true, w, w.Len()/m, m); err != nil {
					return nil
				}
				return dead(w)
			})
		case s.Node.Op == graph.OpQLinear && graph.NumQLinearParts(s) > 1:
			jobs = append(jobs, func() [][]byte {
				if _, err := e.catQLinear(s); err != nil {
					return nil
				}
				var dead [][]byte
				for i := range graph.NumQLinearParts(s) {
					b, _, _ := weightBytes(graph.QLinearPartAt(s, i).W.Const)
					dead = append(dead, b)
				}
				return dead
			})
		case s.Node.Op == "MatMulInteger" || s.Node.Op == graph.OpQLinear:
			b, signed, ok := constB8(s)
			if !ok {
				continue
			}
			k, n := s.In[1].Shape[0], s.In[1].Shape[1]
			jobs = append(jobs, func() [][]byte {
				if _, err := e.packedB8(b, k, n, signed, s); err != nil {
					return nil
				}
				return [][]byte{b}
			})
		}
	}
	var wg sync.WaitGroup
	next := make(chan func() [][]byte)
	for t := 0; t < max(threads, 1); t++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for job := range next {
				for _, b := range job() {
					if packed != nil {
						packed(b)
					}
				}
			}
		}()
	}
	for _, j := range jobs {
		next <- j
	}
	close(next)
	wg.Wait()
}

// packedWeights returns the constant inputs of s that its kernel reads
// only packed (through packedB or catLinear), as Prepack packs them.
func packedWeights(s *graph.Step) map[*graph.Value]bool {
	w := map[*graph.Value]bool{}
	constMatrix := func(v *graph.Value, rank int) bool {
		return v != nil && v.Const != nil && len(v.Shape) == rank && v.Const.Len() > 0 && isFloat(v.DType)
	}
	switch {
	case s.Node.Op == graph.OpLinear && graph.NumLinearParts(s) > 1:
		for i := range graph.NumLinearParts(s) {
			w[graph.LinearPartAt(s, i).W] = true
		}
	case s.Node.Op == graph.OpLinear && constMatrix(s.In[1], 2), s.Node.Op == graph.OpPatchEmbed && constMatrix(s.In[1], 4):
		w[s.In[1]] = true
	case (s.Node.Op == "MatMul" || s.Node.Op == "Gemm" && s.P.Alpha != 0) && constOperand(s, 1) && constMatrix(s.In[1], 2) &&
		s.In[0] != nil && isFloat(s.In[0].DType):
		w[s.In[1]] = true
	}
	return w
}

// Eval is the package-level Eval running its matrix products on e's pool.
func (e *Env) Eval(s *graph.Step, in, out []*graph.Tensor) error {
	return evalEnv(e, s, in, out, nil)
}

// EvalScratch is Eval with the step's working memory given: scratch holds
// ScratchSize(s) values (or is nil), which the step may overwrite.
func (e *Env) EvalScratch(s *graph.Step, in, out []*graph.Tensor, scratch []float32) error {
	return evalEnv(e, s, in, out, scratch)
}

// sgemm computes c = alpha·op(a)·op(b) + beta·c for row-major matrices.
func (e *Env) sgemm(ta, tb bool, m, n, k int, alpha float32, a []float32, lda int, b []float32, ldb int, beta float32, c []float32, ldc int) {
	if m == 0 || n == 0 {
		return
	}
	if k == 0 {
		for i := 0; i < m; i++ {
			row := c[i*ldc : i*ldc+n]
			for j := range row {
				if beta == 0 {
					row[j] = 0 // never read C when beta is 0, as BLAS
				} else {
					row[j] *= beta
				}
			}
		}
		return
	}
	kernels.Sgemm(e.pool(), ta, tb, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc)
}

// Positions of an OpLinear step's LayerNorm prologue parameters in In.
const (
	linearNormScale = 4
	linearNormBias  = 5
)

// hasNorm reports whether an OpLinear step normalises X first.
func hasNorm(s *graph.Step) bool {
	return len(s.In) > linearNormScale && s.In[linearNormScale] != nil
}

// linear runs a fused graph.OpLinear step; scratch, when it holds X's
// size, receives the normalised X of a step with a LayerNorm prologue.
func (e *Env) linear(s *graph.Step, in []*graph.Tensor, o *graph.Tensor, scratch []float32) error {
	x, w := in[0], in[1]
	if e == nil {
		e = &Env{}
	}
	xd := x.Float32
	if hasNorm(s) {
		k := x.Shape[len(x.Shape)-1]
		if len(scratch) < len(xd) {
			buf := float32Scratch.Get().(*[]float32)
			defer float32Scratch.Put(buf)
			if cap(*buf) < len(xd) {
				*buf = make([]float32, len(xd))
			}
			scratch = *buf
		}
		var beta []float32
		if in[linearNormBias] != nil {
			beta = in[linearNormBias].Float32
		}
		// The kernel and arguments of the LayerNormalization step this
		// prologue replaces (ops.layerNorm's float32 last-axis case).
		if err := kernels.LayerNorm(e.pool(), scratch[:len(xd)], xd, len(xd)/k, k, in[linearNormScale].Float32, beta, s.P.Eps); err != nil {
			return err
		}
		xd = scratch[:len(xd)]
		if s.P.NormHalf {
			kernels.RoundFloat16(e.pool(), xd)
		}
	}
	ep := kernels.Epilogue{}
	var pb *kernels.PackedB
	if graph.NumLinearParts(s) > 1 {
		c, err := e.catLinear(s)
		if err != nil {
			return err
		}
		pb, ep.Bias = c.pb, c.bias
	} else {
		var err error
		if pb, err = e.packedB(false, w, w.Shape[0], w.Shape[1]); err != nil {
			return err
		}
		if len(in) > 2 && in[2] != nil {
			ep.Bias = in[2].Float32
		}
	}
	k, n := pb.K(), pb.N()
	m := len(xd) / k
	if len(xd) != m*k || o.Len() != m*n {
		return fmt.Errorf("Linear: input %v and output %v do not fit a %d×%d weight", x.Shape, o.Shape, k, n)
	}
	ep.Act = linearAct(s.P.Act)
	if len(in) > 3 && in[3] != nil {
		ep.Residual, ep.LdResidual = in[3].Float32, n
	}
	return kernels.Linear(e.pool(), m, xd, k, pb, ep, o.Float32, n)
}

// linearAct is the kernels' activation of a fused Linear's Params.Act.
func linearAct(act int) kernels.Activation {
	switch act {
	case graph.ActQuickGELU:
		return kernels.ActQuickGELU
	case graph.ActGELU:
		return kernels.ActGELU
	case graph.ActGELUTanh:
		return kernels.ActGELUTanh
	case graph.ActReLU:
		return kernels.ActReLU
	}
	return kernels.ActNone
}

func (e *Env) pool() *kernels.Pool {
	if e == nil {
		return nil
	}
	return e.Pool
}

// matmulIntegerPacked runs MatMulInteger on the int8 GEMM when B is a
// constant 2-D matrix and A's zero point is one value; ok is false when
// the case is not covered (the exact float64 path then runs).
func (e *Env) matmulIntegerPacked(s *graph.Step, in []*graph.Tensor, o *graph.Tensor) (ok bool, err error) {
	a, b := in[0], in[1]
	if e == nil || s.In[1] == nil || s.In[1].Const == nil || len(b.Shape) != 2 || len(a.Shape) < 2 || a.DType != onnx.Uint8 {
		return false, nil
	}
	k, n := b.Shape[0], b.Shape[1]
	if k == 0 || n == 0 || a.Shape[len(a.Shape)-1] != k {
		return false, nil
	}
	var aZero uint8
	if len(in) > 2 && in[2] != nil {
		if in[2].Len() != 1 || in[2].DType != onnx.Uint8 {
			return false, nil
		}
		aZero = in[2].Uint8[0]
	}
	bytes, signed, ok := constB8(s)
	if !ok {
		return false, nil
	}
	pb, err := e.packedB8(bytes, k, n, signed, s)
	if err != nil {
		return false, nil // e.g. K too large for exact int32 sums
	}
	return true, kernels.GemmU8(e.pool(), a.Len()/k, a.Uint8, k, aZero, pb, o.Int32, n)
}

// packedConvB8 packs constant ConvInteger weights w [m, kk...] transposed
// to a kk×m matrix, once per weight tensor.
func (e *Env) packedConvB8(w *graph.Tensor, kk, m int, zero []int32) (*kernels.PackedB8, error) {
	var src []byte
	signed := w.DType == onnx.Int8
	if signed {
		src = unsafe.Slice((*byte)(unsafe.Pointer(&w.Int8[0])), len(w.Int8))
	} else {
		src = w.Uint8
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	if pb, ok := e.packed8[&src[0]]; ok && pb.K() == kk && pb.N() == m {
		return pb, nil
	}
	t := make([]byte, kk*m)
	for i := 0; i < m; i++ {
		for j := 0; j < kk; j++ {
			t[j*m+i] = src[i*kk+j]
		}
	}
	pb, err := e.Pool.PackB8(kk, m, t, m, signed, zero)
	if err != nil {
		return nil, err
	}
	if e.packed8 == nil {
		e.packed8 = map[*byte]*kernels.PackedB8{}
	}
	e.packed8[&src[0]] = pb
	return pb, nil
}

// int32Scratch recycles ConvInteger's int32 products between runs.
var int32Scratch = sync.Pool{New: func() any { return new([]int32) }}

// float32Scratch recycles qlinear's per-column scales and Conv's im2col
// matrix between runs, and the concatenated weights of buildCatLinear.
var float32Scratch = sync.Pool{New: func() any { return new([]float32) }}

// uint8Scratch recycles ConvInteger's im2col rows between runs, and the
// concatenated weights of buildCatQLinear.
var uint8Scratch = sync.Pool{New: func() any { return new([]uint8) }}

// qlinear runs a fused graph.OpQLinear step: the int8 GEMM, then per
// element float(c)·(xScale·wScale[j]) + bias[j], the activation and the
// residual, in the float32 order of the unfused graph, tile by tile
// inside the GEMM (kernels.GemmU8Linear).
func (e *Env) qlinear(s *graph.Step, in []*graph.Tensor, o *graph.Tensor) error {
	a := in[0]
	var aZero uint8
	if in[2] != nil {
		aZero = in[2].Uint8[0]
	}
	if e == nil {
		e = &Env{}
	}
	var pb *kernels.PackedB8
	// wScale and bias are per column, or wScale one value and bias nil.
	var wScale, bias []float32
	if graph.NumQLinearParts(s) > 1 {
		c, err := e.catQLinear(s)
		if err != nil {
			return err
		}
		pb, wScale, bias = c.pb, c.wScale, c.bias
	} else {
		bytes, signed, ok := constB8(s)
		if !ok {
			return fmt.Errorf("QLinear weights are not a constant int8 matrix")
		}
		var err error
		if pb, err = e.packedB8(bytes, in[1].Shape[0], in[1].Shape[1], signed, s); err != nil {
			return err
		}
		wScale = in[5].Float32
		if in[6] != nil {
			bias = in[6].Float32
		}
	}
	k, n := pb.K(), pb.N()
	m := a.Len() / k
	if a.Len() != m*k || o.Len() != m*n {
		return fmt.Errorf("QLinear: input %v and output %v do not fit a %d×%d weight", a.Shape, o.Shape, k, n)
	}
	xs := in[4].Float32[0]
	sbuf := float32Scratch.Get().(*[]float32)
	defer float32Scratch.Put(sbuf)
	if cap(*sbuf) < n {
		*sbuf = make([]float32, n)
	}
	scales := (*sbuf)[:n]
	for j := range scales {
		ws := wScale[0]
		if len(wScale) == n {
			ws = wScale[j]
		}
		scales[j] = xs * ws
	}
	var res []float32
	if in[7] != nil {
		res = in[7].Float32
	}
	ep := kernels.Epilogue{Bias: bias, Act: linearAct(s.P.Act), Residual: res, LdResidual: n}
	return kernels.GemmU8Linear(e.pool(), m, a.Uint8, k, aZero, pb, scales, ep, o.Float32, n)
}
