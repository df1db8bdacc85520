package engine

import (
	"context"
	"fmt"
	"hash"
	"hash/fnv"
	"sync/atomic"
	"time"
	"unsafe"

	"github.com/chewxy/hm"
	"gorgonia.org/gorgonia"
	"gorgonia.org/tensor"

	"github.com/clip-go/clip/pkg/engine/ops"
	"github.com/clip-go/clip/pkg/graph"
	"github.com/clip-go/clip/pkg/onnx"
)

// gdtype maps an ONNX element type to the Gorgonia dtype holding it
// (half precision is held as float32).
func gdtype(dt onnx.DataType) (tensor.Dtype, error) {
	switch dt {
	case onnx.Float, onnx.Float16, onnx.BFloat16:
		return tensor.Float32, nil
	case onnx.Double:
		return tensor.Float64, nil
	case onnx.Int64:
		return tensor.Int64, nil
	case onnx.Int32:
		return tensor.Int32, nil
	case onnx.Bool:
		return tensor.Bool, nil
	case onnx.Uint8:
		return tensor.Uint8, nil
	case onnx.Int8:
		return tensor.Int8, nil
	case onnx.Uint32:
		return tensor.Uint32, nil
	case onnx.Uint64:
		return tensor.Uint64, nil
	}
	return tensor.Dtype{}, fmt.Errorf("element type %s has no Gorgonia equivalent", graph.DTypeName(dt))
}

// gshape is the Gorgonia shape of a value: 0-d values are held as (1),
// since Gorgonia's scalars are not tensors.
func gshape(sh []int) tensor.Shape {
	if len(sh) == 0 {
		return tensor.Shape{1}
	}
	return tensor.Shape(append([]int{}, sh...))
}

func gtype(v *graph.Value) (hm.Type, error) {
	dt, err := gdtype(v.DType)
	if err != nil {
		return nil, err
	}
	return gorgonia.TensorType{Dims: len(gshape(v.Shape)), Of: dt}, nil
}

// dense wraps t's data (no copy) as a Gorgonia value.
func dense(t *graph.Tensor) *tensor.Dense {
	return tensor.New(tensor.WithShape(gshape(t.Shape)...), tensor.WithBacking(t.Data()))
}

// stepOp is a Gorgonia Op computing one graph.Step with its ops kernel. It owns
// its output buffers, allocated once per compiled graph and reused by
// every run. A step with several outputs is one stepOp (producing output
// 0) followed by one outputOp per further output that some step needs as
// a Gorgonia child.
type stepOp struct {
	id      int
	step    *graph.Step
	kernel  ops.Kernel
	present []int // positions in step.In of the inputs that are Gorgonia children (not omitted, not bound constants)
	inTypes []hm.Type
	outType hm.Type

	err  error // the last failure of Do, reported by machine.run
	tape *tape // checks that steps run in plan order (id is the plan index)

	views   []*graph.Tensor // per input position, re-pointed at every run
	outs    []*graph.Tensor
	scratch []float32 // working memory while the step runs (ops.ScratchSize)
	dense   []*tensor.Dense
	ptrs    []dataRef // data each dense was built over

	// inRefs remembers, per present input, the Gorgonia data each view was
	// last pointed at: Dense.Data boxes a new slice header on every call,
	// and across runs the planned buffers never move, so Do only rebuilds a
	// view when its input's backing array changed.
	inRefs []dataRef
}

// dataRef identifies a backing array by its first element and length,
// comparable without boxing the slice into an interface.
type dataRef struct {
	ptr uintptr
	n   int
}

// tensorRef returns the dataRef of t's typed slice.
func tensorRef(t *graph.Tensor) dataRef {
	var p unsafe.Pointer
	switch t.DType {
	case onnx.Float, onnx.Float16, onnx.BFloat16:
		p = unsafe.Pointer(unsafe.SliceData(t.Float32))
	case onnx.Double:
		p = unsafe.Pointer(unsafe.SliceData(t.Float64))
	case onnx.Int64:
		p = unsafe.Pointer(unsafe.SliceData(t.Int64))
	case onnx.Int32:
		p = unsafe.Pointer(unsafe.SliceData(t.Int32))
	case onnx.Bool:
		p = unsafe.Pointer(unsafe.SliceData(t.Bool))
	case onnx.Uint8:
		p = unsafe.Pointer(unsafe.SliceData(t.Uint8))
	case onnx.Int8:
		p = unsafe.Pointer(unsafe.SliceData(t.Int8))
	case onnx.Uint32:
		p = unsafe.Pointer(unsafe.SliceData(t.Uint32))
	case onnx.Uint64:
		p = unsafe.Pointer(unsafe.SliceData(t.Uint64))
	}
	return dataRef{ptr: uintptr(p), n: t.Len()}
}

// bound, when not nil, returns the tensor to hold for an input that is
// not to be a Gorgonia child (see lower), or nil.
func newStepOp(id int, s *graph.Step, env *ops.Env, bufs *bufferPlan, bound func(v *graph.Value) *graph.Tensor) (*stepOp, error) {
	kernel, err := env.Prepare(s)
	if err != nil {
		return nil, err
	}
	op := &stepOp{id: id, step: s, kernel: kernel, views: make([]*graph.Tensor, len(s.In))}
	// Constant inputs (weights) are bound to the op once instead of being
	// Gorgonia leaves: the TapeMachine would load every leaf into its
	// registers on every run (an allocation per leaf per run) only to hand
	// back the same tensor. A step whose inputs are all constant keeps them
	// as leaves, so every op has at least one child.
	bindConsts := false
	for _, v := range s.In {
		if v != nil && v.Const == nil {
			bindConsts = true
			break
		}
	}
	for i, v := range s.In {
		if v == nil {
			continue
		}
		if bindConsts && v.Const != nil {
			op.views[i] = v.Const
			continue
		}
		if bound != nil {
			if t := bound(v); t != nil {
				op.views[i] = t
				continue
			}
		}
		op.present = append(op.present, i)
		t, err := gtype(v)
		if err != nil {
			return nil, fmt.Errorf("input %q: %w", v.Name, err)
		}
		op.inTypes = append(op.inTypes, t)
		op.views[i] = &graph.Tensor{DType: v.DType, Shape: v.Shape}
	}
	for _, o := range s.Out {
		var t *graph.Tensor
		if ops.Aliases(s.Node.Op) {
			t = &graph.Tensor{DType: o.DType, Shape: o.Shape}
		} else {
			t = bufs.take(o)
		}
		op.outs = append(op.outs, t)
	}
	if n := ops.ScratchSize(s); n > 0 {
		op.scratch = bufs.scratch(n) // after the outputs: it must not be one of them
	}
	op.dense = make([]*tensor.Dense, len(op.outs))
	op.ptrs = make([]dataRef, len(op.outs))
	op.inRefs = make([]dataRef, len(op.present))
	t, err := gtype(s.Out[0])
	if err != nil {
		return nil, fmt.Errorf("output %q: %w", s.Out[0].Name, err)
	}
	op.outType = t
	return op, nil
}

func (op *stepOp) Arity() int { return len(op.present) }

func (op *stepOp) Type() hm.Type {
	ts := append(append([]hm.Type{}, op.inTypes...), op.outType)
	return hm.NewFnType(ts...)
}

func (op *stepOp) InferShape(...gorgonia.DimSizer) (tensor.Shape, error) {
	return gshape(op.step.Out[0].Shape), nil
}

func (op *stepOp) Do(vals ...gorgonia.Value) (_ gorgonia.Value, err error) {
	// Do runs on the TapeMachine's goroutine, where a panic would end the
	// process: turn any kernel bug into an error naming the node.
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("%s: internal error: %v", op.step.Node, p)
		}
		op.err = err
	}()
	if err := op.tape.cancelled(); err != nil {
		return nil, err
	}
	if err := op.tape.enter(op.id); err != nil {
		return nil, fmt.Errorf("%s: %w", op.step.Node, err)
	}
	if len(vals) != len(op.present) {
		return nil, fmt.Errorf("%s: got %d inputs, want %d", op.step.Node, len(vals), len(op.present))
	}
	for j, v := range vals {
		t, ok := v.(tensor.Tensor)
		if !ok {
			return nil, fmt.Errorf("%s: input %d is not a tensor", op.step.Node, j)
		}
		view := op.views[op.present[j]]
		if t.DataSize() == 0 || view.Len() == 0 && graph.NumElements(view.Shape) == 0 {
			*view = *graph.NewTensor(view.DType, view.Shape)
			op.inRefs[j] = dataRef{}
			continue
		}
		ref := dataRef{ptr: t.Uintptr(), n: t.DataSize()}
		if ref.ptr != 0 && ref == op.inRefs[j] {
			continue // same backing array as the last run: view still points at it
		}
		setData(view, t.Data())
		op.inRefs[j] = ref
	}
	var t0 time.Time
	profiling := op.tape != nil && op.tape.times != nil
	if profiling {
		t0 = time.Now()
	}
	err = op.kernel(op.views, op.outs, op.scratch)
	if profiling {
		op.tape.times[op.id] += time.Since(t0)
	}
	if err != nil {
		return nil, fmt.Errorf("%s: %w", op.step.Node, err)
	}
	return op.output(0), nil
}

// output returns the Gorgonia value over output i's buffer, rebuilding the
// wrapper only when the buffer changed (aliasing ops).
func (op *stepOp) output(i int) *tensor.Dense {
	t := op.outs[i]
	ref := tensorRef(t)
	if op.dense[i] == nil || ref != op.ptrs[i] {
		op.dense[i] = dense(t)
		op.ptrs[i] = ref
	}
	return op.dense[i]
}

func (op *stepOp) ReturnsPtr() bool     { return false }
func (op *stepOp) CallsExtern() bool    { return false }
func (op *stepOp) OverwritesInput() int { return -1 }
func (op *stepOp) WriteHash(h hash.Hash) {
	fmt.Fprintf(h, "onnx:%d:%s", op.id, op.step.Node.Op)
}
func (op *stepOp) Hashcode() uint32 {
	h := fnv.New32a()
	op.WriteHash(h)
	return h.Sum32()
}
func (op *stepOp) String() string { return op.step.Node.String() }

// outputOp exposes output i (≥ 1) of a multi-output stepOp.
type outputOp struct {
	parent *stepOp
	i      int
	inType hm.Type
	typ    hm.Type
}

func (op *outputOp) Arity() int    { return 1 }
func (op *outputOp) Type() hm.Type { return hm.NewFnType(op.inType, op.typ) }
func (op *outputOp) InferShape(...gorgonia.DimSizer) (tensor.Shape, error) {
	return gshape(op.parent.step.Out[op.i].Shape), nil
}
func (op *outputOp) Do(...gorgonia.Value) (gorgonia.Value, error) { return op.parent.output(op.i), nil }
func (op *outputOp) ReturnsPtr() bool                             { return false }
func (op *outputOp) CallsExtern() bool                            { return false }
func (op *outputOp) OverwritesInput() int                         { return -1 }
func (op *outputOp) WriteHash(h hash.Hash) {
	fmt.Fprintf(h, "onnx-out:%d:%d", op.parent.id, op.i)
}
func (op *outputOp) Hashcode() uint32 {
	h := fnv.New32a()
	op.WriteHash(h)
	return h.Sum32()
}
func (op *outputOp) String() string { return fmt.Sprintf("%s output %d", op.parent.step.Node, op.i) }

// setData points t at data (a typed slice from a Gorgonia tensor).
func setData(t *graph.Tensor, data any) {
	switch d := data.(type) {
	case []float32:
		t.Float32 = d
	case []float64:
		t.Float64 = d
	case []int64:
		t.Int64 = d
	case []int32:
		t.Int32 = d
	case []bool:
		t.Bool = d
	case []uint8:
		t.Uint8 = d
	case []int8:
		t.Int8 = d
	case []uint32:
		t.Uint32 = d
	case []uint64:
		t.Uint64 = d
	}
}

// machine is one lowered Gorgonia graph for a Plan, with its TapeMachine.
// It must be used by one goroutine at a time.
type machine struct {
	g      *gorgonia.ExprGraph
	vm     *tape // nil when every value is known before the run
	inputs map[string]*gorgonia.Node
	// inDense caches, per input name, the Gorgonia value last bound to it
	// and the data it wraps, so that a run given the same buffers as the
	// last one (a server or benchmark loop) rebuilds nothing.
	inDense map[string]boundInput
	ops     []*stepOp
	// outputs: graph output → how to read it after a run
	outs []outputRef
}

type boundInput struct {
	d   *tensor.Dense
	ref dataRef
}

type outputRef struct {
	v    *graph.Value
	op   *stepOp // nil when the output is a constant or an input
	i    int
	node *gorgonia.Node
}

// lower builds the Gorgonia graph for p.
func lower(p *graph.Plan, env *ops.Env) (_ *machine, err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("building the Gorgonia graph: %v", r)
		}
	}()
	m := &machine{g: gorgonia.NewGraph(), inputs: map[string]*gorgonia.Node{}, inDense: map[string]boundInput{}}
	nodes := map[*graph.Value]*gorgonia.Node{}
	producer := map[*graph.Value]struct {
		op *stepOp
		i  int
	}{}
	leaf := func(v *graph.Value) (*gorgonia.Node, error) {
		if n, ok := nodes[v]; ok {
			return n, nil
		}
		if pr, ok := producer[v]; ok {
			// Output k ≥ 1 of a multi-output step, first needed as a
			// child: expose it through an outputOp.
			t, err := gtype(v)
			if err != nil {
				return nil, err
			}
			oo := &outputOp{parent: pr.op, i: pr.i, inType: pr.op.outType, typ: t}
			on, err := gorgonia.ApplyOp(oo, nodes[pr.op.step.Out[0]])
			if err != nil {
				return nil, fmt.Errorf("output %d: %w", pr.i, err)
			}
			nodes[v] = on
			return on, nil
		}
		dt, err := gdtype(v.DType)
		if err != nil {
			return nil, fmt.Errorf("value %q: %w", v.Name, err)
		}
		opts := []gorgonia.NodeConsOpt{gorgonia.WithShape(gshape(v.Shape)...), gorgonia.WithName(fmt.Sprintf("v%d_%s", len(nodes), v.Name))}
		if v.Const != nil {
			opts = append(opts, gorgonia.WithValue(dense(v.Const)))
		}
		n := gorgonia.NewTensor(m.g, dt, len(gshape(v.Shape)), opts...)
		nodes[v] = n
		if v.Input {
			m.inputs[v.Name] = n
		}
		return n, nil
	}
	bufs := newBufferPlan(p)
	// A step reading output k ≥ 1 of a multi-output step (the scale and
	// zero point of DynamicQuantizeLinear) together with that step's
	// output 0 holds the former directly: the output 0 edge already orders
	// the two, and an outputOp would cost a TapeMachine instruction and
	// its allocations per run.
	var cur *graph.Step
	bound := func(v *graph.Value) *graph.Tensor {
		pr, ok := producer[v]
		if !ok || pr.i == 0 {
			return nil
		}
		for _, u := range cur.In {
			if u == pr.op.step.Out[0] {
				return pr.op.outs[pr.i]
			}
		}
		return nil
	}
	for i, s := range p.Steps {
		cur = s
		op, err := newStepOp(i, s, env, bufs, bound)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", s.Node, err)
		}
		bufs.release(i)
		m.ops = append(m.ops, op)
		var children []*gorgonia.Node
		for _, j := range op.present {
			n, err := leaf(s.In[j])
			if err != nil {
				return nil, fmt.Errorf("%s: %w", s.Node, err)
			}
			children = append(children, n)
		}
		n, err := gorgonia.ApplyOp(op, children...)
		if err != nil {
			return nil, fmt.Errorf("%s: building the Gorgonia graph: %w", s.Node, err)
		}
		nodes[s.Out[0]] = n
		producer[s.Out[0]] = struct {
			op *stepOp
			i  int
		}{op, 0}
		for k := 1; k < len(s.Out); k++ {
			if _, err := gtype(s.Out[k]); err != nil {
				return nil, fmt.Errorf("%s: %w", s.Node, err)
			}
			// Its outputOp is made by leaf when a step needs it as a child.
			producer[s.Out[k]] = struct {
				op *stepOp
				i  int
			}{op, k}
		}
	}
	for _, v := range p.Outputs {
		ref := outputRef{v: v}
		if pr, ok := producer[v]; ok {
			ref.op, ref.i, ref.node = pr.op, pr.i, nodes[v]
		}
		m.outs = append(m.outs, ref)
	}
	if len(p.Steps) > 0 {
		m.vm = &tape{vm: gorgonia.NewTapeMachine(m.g), steps: len(m.ops)}
		for _, op := range m.ops {
			op.tape = m.vm
		}
	}
	return m, nil
}

// tape is the TapeMachine with the executor contract the memory plan
// relies on made explicit: the steps run one after the other in plan
// order, once each per run. The buffer plan hands a buffer to step j's
// outputs once every value stored in it was last read by a step before
// j, which is only safe if those steps have run before j. Gorgonia's
// TapeMachine runs its instructions in the order of a stable topological
// sort of the ExprGraph, which is plan order because lower adds the nodes
// in plan order; nothing in Gorgonia promises it, so each step checks it
// (an atomic compare-and-swap per step, against ≈ 1.5 µs of Gorgonia
// dispatch) and a run fails, naming the step, rather than compute with
// overwritten buffers.
type tape struct {
	vm    gorgonia.VM
	steps int
	next  atomic.Int64 // plan index of the step expected next in this run
	// ctx is the current run's context, checked before each step so that
	// a cancelled run (Ctrl-C, a request's timeout) stops after the step
	// in progress instead of finishing a long batch; ctx.Err is a
	// mutex-guarded load, noise beside a step.
	ctx context.Context
	// times, when profiling (Options.Profile), sums each step's time by
	// plan index over the runs counted in runs.
	times []time.Duration
	runs  int
}

// cancelled returns the current run's context error, if any.
func (t *tape) cancelled() error {
	if t == nil || t.ctx == nil {
		return nil
	}
	return t.ctx.Err()
}

// RunAll runs every step once, in plan order, or fails.
func (t *tape) RunAll() error {
	t.next.Store(0)
	if err := t.vm.RunAll(); err != nil {
		return err
	}
	if ran := t.next.Load(); ran != int64(t.steps) {
		return fmt.Errorf("the TapeMachine ran %d of the plan's %d steps", ran, t.steps)
	}
	if t.times != nil {
		t.runs++
	}
	return nil
}

// Reset clears the TapeMachine's registers after a run.
func (t *tape) Reset() { t.vm.Reset() }

// enter records that step id starts, failing unless it is the next one in
// plan order.
func (t *tape) enter(id int) error {
	if !t.next.CompareAndSwap(int64(id), int64(id)+1) {
		return fmt.Errorf("step %d of the plan ran when step %d was due: the memory plan reuses buffers by plan index and needs steps to run in plan order", id, t.next.Load())
	}
	return nil
}

// bufferPlan hands out the output buffers of a machine's steps, reusing a
// buffer once every value stored in it has been read for the last time
// (values of reshape-like steps share their input's buffer, so a buffer
// lives until the last use of any of them). Graph outputs are never
// reused. This keeps a compiled graph's memory near its largest live set
// instead of the sum of all its activations.
type bufferPlan struct {
	root    map[*graph.Value]*graph.Value // value → value owning its buffer
	last    map[*graph.Value]int          // owning value → index of its last reading step
	owned   map[*graph.Value]*graph.Tensor
	free    map[string][]*graph.Tensor // by storage kind and length
	byIndex map[int][]*graph.Value     // step index → owners whose life ends there
}

const forever = int(^uint(0) >> 1)

func newBufferPlan(p *graph.Plan) *bufferPlan {
	b := &bufferPlan{root: map[*graph.Value]*graph.Value{}, last: map[*graph.Value]int{},
		owned: map[*graph.Value]*graph.Tensor{}, free: map[string][]*graph.Tensor{}, byIndex: map[int][]*graph.Value{}}
	rootOf := func(v *graph.Value) *graph.Value {
		if r, ok := b.root[v]; ok {
			return r
		}
		return v
	}
	for i, s := range p.Steps {
		for _, in := range s.In {
			if in != nil {
				r := rootOf(in)
				if i > b.last[r] {
					b.last[r] = i
				}
			}
		}
		for _, o := range s.Out {
			if ops.Aliases(s.Node.Op) && s.In[0] != nil {
				b.root[o] = rootOf(s.In[0])
			} else {
				b.root[o] = o
				b.last[o] = i // a value nobody reads dies with its step
			}
		}
	}
	for _, o := range p.Outputs {
		b.last[rootOf(o)] = forever
	}
	for r, i := range b.last {
		if i != forever && b.root[r] == r {
			b.byIndex[i] = append(b.byIndex[i], r)
		}
	}
	return b
}

func storageKey(t *graph.Tensor) string {
	switch t.DType {
	case onnx.Float, onnx.Float16, onnx.BFloat16:
		return fmt.Sprintf("f32:%d", len(t.Float32))
	}
	return fmt.Sprintf("%d:%d", t.DType, t.Len())
}

// take returns a buffer for output value o: a released one of the same
// storage and length, or a new one.
func (b *bufferPlan) take(o *graph.Value) *graph.Tensor {
	var t *graph.Tensor
	n := graph.NumElements(o.Shape)
	key := fmt.Sprintf("%d:%d", o.DType, n)
	if o.DType == onnx.Float || o.DType == onnx.Float16 || o.DType == onnx.BFloat16 {
		key = fmt.Sprintf("f32:%d", n)
	}
	if list := b.free[key]; len(list) > 0 {
		old := list[len(list)-1]
		b.free[key] = list[:len(list)-1]
		t = &graph.Tensor{DType: o.DType, Shape: o.Shape}
		setData(t, old.Data())
	} else {
		t = graph.NewTensor(o.DType, o.Shape)
	}
	b.owned[o] = t
	return t
}

// scratch returns n float32 values of working memory for the step being
// lowered: a free buffer of that length, or a new one. It stays free for
// later steps' outputs: the step's own outputs are already taken, no
// live value holds a free buffer, and a later step writes it only after
// this step has run (in this run, and in the next its values are dead).
func (b *bufferPlan) scratch(n int) []float32 {
	key := fmt.Sprintf("f32:%d", n)
	if list := b.free[key]; len(list) > 0 {
		return list[len(list)-1].Float32
	}
	t := graph.NewTensor(onnx.Float, []int{n})
	b.free[key] = append(b.free[key], t)
	return t.Float32
}

// release frees the buffers whose last reader is step i.
func (b *bufferPlan) release(i int) {
	for _, r := range b.byIndex[i] {
		if t, ok := b.owned[r]; ok {
			k := storageKey(t)
			b.free[k] = append(b.free[k], t)
			delete(b.owned, r)
		}
	}
}
