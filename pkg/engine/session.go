// Package engine runs ONNX models in pure Go: Open or NewSession checks a
// model (pkg/graph), and each Run binds the input shapes, folds the
// exporters' shape arithmetic into constants, fuses the transformer
// blocks (pkg/graph's Fuse: LayerNorm, QuickGELU, Linear with
// bias/activation/residual and a LayerNorm prologue, the Q/K/V
// projections as one Linear, multi-head attention, a ViT's patch
// embedding, the int8 MatMulInteger chains), and lowers the remaining
// steps to a Gorgonia ExprGraph whose nodes are custom ops computing with
// pkg/engine/ops and pkg/engine/kernels; a TapeMachine runs it. One compiled graph is kept per
// distinct set of input shapes, in a pool so that no Gorgonia graph ever
// runs in two goroutines at once; its buffers are planned once (outputs
// reuse dead values' memory) and reused by every run.
//
// Numerics: float16 and bfloat16 weights are widened to float32 once;
// values the graph types as float16 are rounded to float16 after every
// step, as a half-precision computation stores them, so _fp16 exports
// match onnxruntime to ~1e-3 on normalised embeddings. Integer ids,
// bool masks and the int8 quantized ops (DynamicQuantizeLinear,
// MatMulInteger, ConvInteger with exact int32 sums) are computed exactly.
//
// Gorgonia's own ops are not used: ONNX's broadcasting, integer and bool
// tensors and half-precision rounding need semantics they do not have,
// and they allocate their results on every run; every node is one of our
// ops owning its output buffer and calling pkg/engine/kernels directly.
// The package still installs the kernels' BLAS with gorgonia.Use (see
// init), so any Gorgonia built-in product gets the same Sgemm.
//
// The executor contract: the memory plan hands a step's outputs buffers
// whose values were last read by steps with a lower plan index, so the
// steps must run one after the other in plan order. Gorgonia's
// TapeMachine does so (a stable topological sort of nodes added in plan
// order) but does not promise it; every step checks it (see tape in
// lower.go), and a run out of order fails naming the step instead of
// computing with overwritten buffers.
package engine

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"slices"
	"sort"
	"strings"
	"sync"
	"time"

	"gorgonia.org/gorgonia"

	"github.com/clip-go/clip/pkg/engine/kernels"
	"github.com/clip-go/clip/pkg/engine/ops"
	"github.com/clip-go/clip/pkg/graph"
	"github.com/clip-go/clip/pkg/onnx"
)

// init makes Gorgonia's (and package tensor's) BLAS the kernels' one:
// gonum's implementation with our packed SIMD Sgemm, single-threaded
// because a Pool belongs to one Session. Our own ops do not go through
// it; Gorgonia's MatMul and the like would.
func init() { gorgonia.Use(kernels.NewBLAS(nil)) }

// Options tune a Session.
type Options struct {
	// Threads bounds how many runs execute at once and how many cores
	// the matrix kernels use (0: every core).
	Threads int
	// NoFusion runs the graph op by op, without pkg/graph's fused steps
	// (for checking fusion against it).
	NoFusion bool
	// GenericFusion runs only the fusions that match no pattern
	// (graph.Plan.FuseGeneric: elementwise chains, canonical Casts and
	// Transposes): how a graph runs when none of the pattern fusions
	// recognises it.
	GenericFusion bool
	// ISA limits the kernels to an instruction-set level (zero: all
	// this CPU has); a level the CPU lacks fails NewSession. For
	// benchmarking the code older CPUs run (clip onnx bench --isa).
	ISA kernels.ISA
	// Profile times every step of every run (two clock reads per step),
	// for Session.Profile (clip onnx bench --profile).
	Profile bool
}

// Tensor is an input or output of a run: exactly one slice is set, chosen
// by DType (see graph.Tensor). Float16 values travel widened in Float32.
type Tensor = graph.Tensor

// maxPlans bounds the shape cache; beyond it idle plans are dropped.
const maxPlans = 32

// Session runs one model. Run is safe for concurrent use.
type Session struct {
	model *onnx.Model
	owned bool // Close closes model
	g     *graph.Graph
	sem   chan struct{}
	env   *ops.Env
	opt   Options

	mu     sync.Mutex
	plans  map[string]*planEntry
	closed bool

	// bindMu serialises binding plans: binding, fusion and packing make
	// and drop lazy weights (graph.Tensor.Materialize, ops.Env.Prepack).
	bindMu sync.Mutex
}

type planEntry struct {
	once  sync.Once
	plan  *graph.Plan
	err   error
	fused map[string]int

	mu   sync.Mutex
	idle []*machine
	busy int
}

// Open loads the ONNX file at path and prepares it to run.
func Open(ctx context.Context, path string, opt Options) (*Session, error) {
	m, err := onnx.Load(path)
	if err != nil {
		return nil, err
	}
	s, err := NewSession(ctx, m, opt)
	if err != nil {
		m.Close()
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	s.owned = true
	return s, nil
}

// NewSession prepares a decoded model to run. Unsupported operators or
// element types, undefined inputs and cycles are reported here.
func NewSession(ctx context.Context, m *onnx.Model, opt Options) (*Session, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	g, err := graph.FromModel(m, ops.Registry())
	if err != nil {
		return nil, err
	}
	var passes []graph.Pass
	if !opt.NoFusion && !opt.GenericFusion {
		// Only for the pattern fusions (the Linear fusion takes
		// MatMul + Add); with the generic ones alone a Gemm stays one
		// step, as op by op, so the two differ only by the chains.
		passes = append(passes, graph.GemmAsMatMul)
	}
	if err := g.Optimize(passes...); err != nil {
		return nil, err
	}
	threads := opt.Threads
	if threads <= 0 {
		threads = runtime.NumCPU()
	}
	pool, err := kernels.NewPoolWith(threads, kernels.WithISA(opt.ISA))
	if err != nil {
		return nil, err
	}
	env := &ops.Env{Pool: pool}
	return &Session{model: m, g: g, sem: make(chan struct{}, threads), env: env, opt: opt, plans: map[string]*planEntry{}}, nil
}

// Inputs describes the values Run needs: names, element types (int32 or
// int64 ids matter) and dims, symbolic ones with Param set.
func (s *Session) Inputs() []*onnx.ValueInfo { return s.g.Inputs }

// Outputs describes the values Run returns.
func (s *Session) Outputs() []*onnx.ValueInfo { return s.g.Outputs }

// Graph returns the optimised graph the session runs.
func (s *Session) Graph() *graph.Graph { return s.g }

// Close waits for runs in progress, then releases the worker threads and,
// when the session opened it, the model file (whose memory the weights
// alias). Runs after Close fail.
func (s *Session) Close() error {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return nil
	}
	s.closed = true
	s.plans = map[string]*planEntry{}
	s.mu.Unlock()
	for i := 0; i < cap(s.sem); i++ {
		s.sem <- struct{}{} // every slot: no run is in progress
	}
	s.env.Pool.Close()
	var err error
	if s.owned && s.model != nil {
		err = s.model.Close()
	}
	for i := 0; i < cap(s.sem); i++ {
		<-s.sem // let runs waiting for a slot see that the session is closed
	}
	return err
}

// Run computes the graph outputs from inputs (one entry per graph
// input) and returns the ones named in outputs, or every output when none
// is named. Returned tensors are fresh copies owned by the caller: naming
// only the outputs a caller reads saves copying the others (a vision
// tower's last_hidden_state is 1.2 MB per batch of 8, its image_embeds 16
// KB).
func (s *Session) Run(ctx context.Context, inputs map[string]*Tensor, outputs ...string) (map[string]*Tensor, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	for _, name := range outputs {
		if !s.isOutput(name) {
			return nil, fmt.Errorf("output %q is not an output of the model (outputs: %s)", name, s.outputNames())
		}
	}
	shapes := map[string][]int{}
	given := map[string]*Tensor{}
	for _, in := range s.g.Inputs {
		t, ok := inputs[in.Name]
		if !ok || t == nil {
			return nil, fmt.Errorf("input %q is missing", in.Name)
		}
		ct, err := coerce(in, t)
		if err != nil {
			return nil, err
		}
		shapes[in.Name] = ct.Shape
		given[in.Name] = ct
	}
	for name := range inputs {
		if _, ok := given[name]; !ok {
			return nil, fmt.Errorf("input %q is not an input of the model (inputs: %s)", name, s.inputNames())
		}
	}
	e, err := s.plan(ctx, shapes, outputs)
	if err != nil {
		return nil, err
	}
	select {
	case s.sem <- struct{}{}:
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	defer func() { <-s.sem }()
	s.mu.Lock()
	closed := s.closed
	s.mu.Unlock()
	if closed {
		return nil, errors.New("session is closed")
	}
	m, err := e.acquire(s.env, s.opt.Profile)
	if err != nil {
		return nil, err
	}
	out, err := m.run(ctx, given, outputs)
	e.release(m, err == nil)
	return out, err
}

// Prepare does the one-off work of the first Run with these input shapes
// (one entry per graph input): binding, fusion, packing the weights (for
// ViT-B/32 ~0.4 s of CPU) and the machine. A caller that knows the
// shapes it will run can do it ahead, beside work of its own, instead of
// inside its first Run.
//
// outputs names the outputs those runs will ask for, as Run's do: a plan
// is made for the outputs asked for (see graph.Plan.KeepOutputs).
func (s *Session) Prepare(ctx context.Context, shapes map[string][]int, outputs ...string) error {
	for _, name := range outputs {
		if !s.isOutput(name) {
			return fmt.Errorf("output %q is not an output of the model (outputs: %s)", name, s.outputNames())
		}
	}
	select {
	case s.sem <- struct{}{}:
	case <-ctx.Done():
		return ctx.Err()
	}
	defer func() { <-s.sem }()
	s.mu.Lock()
	closed := s.closed
	s.mu.Unlock()
	if closed {
		return errors.New("session is closed")
	}
	e, err := s.plan(ctx, shapes, outputs)
	if err != nil {
		return err
	}
	m, err := e.acquire(s.env, s.opt.Profile)
	if err != nil {
		return err
	}
	e.release(m, true)
	return nil
}

// wanted returns the distinct outputs named, in the graph's order, or
// nil when they are every output (or none is named).
func (s *Session) wanted(outputs []string) []string {
	var w []string
	for _, o := range s.g.Outputs {
		if slices.Contains(outputs, o.Name) {
			w = append(w, o.Name)
		}
	}
	if len(w) == len(s.g.Outputs) {
		return nil
	}
	return w
}

func (s *Session) isOutput(name string) bool {
	for _, o := range s.g.Outputs {
		if o.Name == name {
			return true
		}
	}
	return false
}

func (s *Session) outputNames() string {
	var ns []string
	for _, o := range s.g.Outputs {
		ns = append(ns, o.Name)
	}
	return strings.Join(ns, ", ")
}

func (s *Session) inputNames() string {
	var ns []string
	for _, in := range s.g.Inputs {
		ns = append(ns, in.Name)
	}
	return strings.Join(ns, ", ")
}

// coerce checks t against the declared input and converts between the
// integer id types and from float32 into half-precision inputs.
func coerce(in *onnx.ValueInfo, t *Tensor) (*Tensor, error) {
	if err := t.Check(); err != nil {
		return nil, fmt.Errorf("input %q: %w", in.Name, err)
	}
	want := in.ElemType
	switch {
	case t.DType == want:
		return t, nil
	case want == onnx.Int64 && t.DType == onnx.Int32:
		c := &Tensor{DType: onnx.Int64, Shape: t.Shape, Int64: make([]int64, len(t.Int32))}
		for i, v := range t.Int32 {
			c.Int64[i] = int64(v)
		}
		return c, nil
	case want == onnx.Int32 && t.DType == onnx.Int64:
		c := &Tensor{DType: onnx.Int32, Shape: t.Shape, Int32: make([]int32, len(t.Int64))}
		for i, v := range t.Int64 {
			if int64(int32(v)) != v {
				return nil, fmt.Errorf("input %q: value %d does not fit the model's int32", in.Name, v)
			}
			c.Int32[i] = int32(v)
		}
		return c, nil
	case (want == onnx.Float16 || want == onnx.BFloat16) && t.DType == onnx.Float:
		c := &Tensor{DType: want, Shape: t.Shape, Float32: append([]float32{}, t.Float32...)}
		kernels.RoundFloat16(nil, c.Float32)
		return c, nil
	}
	return nil, fmt.Errorf("input %q: got %s, the model wants %s", in.Name, graph.DTypeName(t.DType), graph.DTypeName(want))
}

func shapeKey(shapes map[string][]int) string {
	var ks []string
	for k := range shapes {
		ks = append(ks, k)
	}
	sort.Strings(ks)
	var b strings.Builder
	for _, k := range ks {
		fmt.Fprintf(&b, "%q%v;", k, shapes[k])
	}
	return b.String()
}

// plan returns the plan for these input shapes computing outputs (every
// output when none is named), binding it on first use.
func (s *Session) plan(ctx context.Context, shapes map[string][]int, outputs []string) (*planEntry, error) {
	outputs = s.wanted(outputs)
	key := shapeKey(shapes) + "→" + strings.Join(outputs, ",")
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return nil, errors.New("session is closed")
	}
	e, ok := s.plans[key]
	if !ok {
		if len(s.plans) >= maxPlans {
			for k, old := range s.plans {
				old.mu.Lock()
				idle := old.busy == 0
				old.mu.Unlock()
				if idle {
					delete(s.plans, k)
				}
			}
		}
		e = &planEntry{}
		s.plans[key] = e
	}
	s.mu.Unlock()
	e.once.Do(func() {
		// The plan outlives this run and is shared with every later run of
		// these shapes: a caller's cancellation or deadline must not become
		// the cached outcome (a timed-out request would poison the shape).
		s.bindMu.Lock()
		defer s.bindMu.Unlock()
		e.plan, e.err = s.g.Bind(context.WithoutCancel(ctx), shapes, nil, s.env.Eval)
		if e.err == nil {
			switch {
			case s.opt.NoFusion:
			case s.opt.GenericFusion:
				e.fused = e.plan.FuseGeneric()
			default:
				e.fused = e.plan.Fuse()
			}
			if e.err == nil && !s.opt.NoFusion {
				var n int
				n, e.err = e.plan.KeepOutputs(outputs)
				if n > 0 {
					e.fused["SelectedRows"] = n
				}
			}
			var release func([]byte)
			if s.owned {
				release = newPageReleaser(s.model.Path)
			}
			s.env.Prepack(e.plan, cap(s.sem), release)
		}
	})
	if e.err != nil {
		return nil, e.err
	}
	return e, nil
}

func (e *planEntry) acquire(env *ops.Env, profile bool) (*machine, error) {
	e.mu.Lock()
	e.busy++
	if n := len(e.idle); n > 0 {
		m := e.idle[n-1]
		e.idle = e.idle[:n-1]
		e.mu.Unlock()
		return m, nil
	}
	e.mu.Unlock()
	m, err := lower(e.plan, env)
	if err != nil {
		e.mu.Lock()
		e.busy--
		e.mu.Unlock()
		return nil, err
	}
	if profile && m.vm != nil {
		m.vm.times = make([]time.Duration, m.vm.steps)
	}
	return m, nil
}

func (e *planEntry) release(m *machine, ok bool) {
	e.mu.Lock()
	e.busy--
	if ok {
		e.idle = append(e.idle, m)
	}
	e.mu.Unlock()
}

// run executes the machine once and copies out the outputs named in want
// (all of them when want is empty). It returns ctx's error when ctx is
// cancelled before the last step.
func (m *machine) run(ctx context.Context, inputs map[string]*Tensor, want []string) (map[string]*Tensor, error) {
	if m.vm != nil {
		m.vm.ctx = ctx
		defer func() { m.vm.ctx = nil }()
		defer m.vm.Reset()
		for name, n := range m.inputs {
			in := inputs[name]
			b, ok := m.inDense[name]
			if ref := tensorRef(in); !ok || ref != b.ref || ref.n == 0 {
				b = boundInput{d: dense(in), ref: ref}
				m.inDense[name] = b
			}
			if err := gorgonia.Let(n, b.d); err != nil {
				return nil, fmt.Errorf("input %q: %w", name, err)
			}
		}
		if err := m.vm.RunAll(); err != nil {
			// Report the failing node's own error, not the TapeMachine's
			// wrapping of it.
			for _, op := range m.ops {
				if op.err != nil {
					err, op.err = op.err, nil
					return nil, err
				}
			}
			return nil, err
		}
	}
	out := map[string]*Tensor{}
	for _, ref := range m.outs {
		if len(want) > 0 && !slices.Contains(want, ref.v.Name) {
			continue
		}
		var src *Tensor
		switch {
		case ref.op != nil:
			src = ref.op.outs[ref.i]
		case ref.v.Const != nil:
			src = ref.v.Const
		case ref.v.Input:
			src = inputs[ref.v.Name]
		default:
			return nil, fmt.Errorf("output %q has no value", ref.v.Name)
		}
		c := graph.NewTensor(ref.v.DType, ref.v.Shape)
		if c.Len() != src.Len() {
			return nil, fmt.Errorf("output %q: %d elements for shape %v", ref.v.Name, src.Len(), ref.v.Shape)
		}
		graph.CopyRange(c, 0, src, 0, src.Len())
		out[ref.v.Name] = c
	}
	return out, nil
}

// fusionStats sums the fusions made in every bound plan.
func (s *Session) fusionStats() map[string]int {
	s.mu.Lock()
	defer s.mu.Unlock()
	r := map[string]int{}
	for _, e := range s.plans {
		for k, v := range e.fused {
			r[k] += v
		}
	}
	return r
}
