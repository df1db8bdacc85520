package ops

import (
	"fmt"
	"math"

	"github.com/clip-go/clip/pkg/engine/kernels"
	"github.com/clip-go/clip/pkg/graph"
	"github.com/clip-go/clip/pkg/onnx"
)

// Every operator the engine runs is defined once, by a define call in the
// init function of the file holding its kernel: its graph.OpDef (load-time
// checks, shape inference, aliasing, scratch memory, FLOPs) and its
// kernel. Adding an operator is one such definition.

// def is one operator as the engine knows it.
type def struct {
	graph.OpDef
	// eval computes the step (nil: the step is always folded while
	// binding, as Shape and Constant are).
	eval func(c call) error
}

// call is one evaluation of a step: in holds the input tensors (nil for
// omitted optional inputs), out the output tensors allocated with the
// bound shapes (for an aliasing op, headers to point at in[0]'s data);
// scratch is ScratchSize(s) float32 values of working memory, or nil. e
// is nil when the caller has no Env (Eval): kernels then run on one
// thread and cache nothing.
type call struct {
	e       *Env
	s       *graph.Step
	in, out []*graph.Tensor
	scratch []float32
}

var (
	// registry and defs are filled by the init functions and only read
	// afterwards; defs indexes the same definitions for Eval.
	registry = graph.NewRegistry()
	defs     = map[string]*def{}
)

func define(ds ...def) {
	for _, d := range ds { // d is a fresh variable per iteration: &d differs
		registry.Register(&d.OpDef)
		defs[d.Op] = &d
	}
}

// Registry returns the definitions of every operator the engine runs, for
// graph.FromModel. It must not be modified.
func Registry() *graph.Registry { return registry }

// Supported reports whether op is implemented.
func Supported(op string) bool { return registry.Supported(op) }

// Aliases reports whether op's output shares its first input's data
// (reshape-like ops); such outputs need no buffer of their own.
func Aliases(op string) bool {
	d := registry.Lookup(op)
	return d != nil && d.Aliases
}

// ScratchSize returns how many float32 values of working memory step s
// needs while it runs (0: none), for a caller that plans memory to pass
// to Env.EvalScratch; Eval finds such memory itself.
func ScratchSize(s *graph.Step) int {
	if d := registry.Lookup(s.Node.Op); d != nil && d.Scratch != nil {
		return d.Scratch(s)
	}
	return 0
}

// Eval computes step s: in holds the input tensors (nil for omitted
// optional inputs), out the output tensors, allocated with the bound
// shapes (unless Aliases(op)). Outputs typed float16 are rounded to
// float16 precision, as a half-precision computation would store them.
func Eval(s *graph.Step, in, out []*graph.Tensor) error {
	return evalEnv(nil, s, in, out, nil)
}

func evalEnv(e *Env, s *graph.Step, in, out []*graph.Tensor, scratch []float32) error {
	k, err := e.Prepare(s)
	if err != nil {
		return err
	}
	return k(in, out, scratch)
}

// Kernel computes one step (see Eval); scratch is as for EvalScratch.
type Kernel func(in, out []*graph.Tensor, scratch []float32) error

// Prepare returns step s's kernel bound to e and s, for a caller that
// evaluates s on every run (the engine's compiled graphs): each call is
// EvalScratch without looking the operator up again.
func (e *Env) Prepare(s *graph.Step) (Kernel, error) {
	d := defs[s.Node.Op]
	switch {
	case d == nil:
		return nil, fmt.Errorf("operator %s is not implemented", s.Node.Op)
	case d.eval == nil:
		return nil, fmt.Errorf("%s is folded before the run", s.Node.Op)
	}
	return func(in, out []*graph.Tensor, scratch []float32) error {
		if err := d.eval(call{e: e, s: s, in: in, out: out, scratch: scratch}); err != nil {
			return err
		}
		roundHalf(e.pool(), out)
		return nil
	}, nil
}

// roundHalf rounds the outputs typed float16 or bfloat16 to their
// precision, as a half-precision computation stores them (float16 with
// F16C over the pool's threads: in the scalar reference's Go loop this
// pass was half the time of an _fp16 ViT).
func roundHalf(p *kernels.Pool, out []*graph.Tensor) {
	for _, o := range out {
		if o == nil {
			continue
		}
		switch o.DType {
		case onnx.Float16:
			kernels.RoundFloat16(p, o.Float32)
		case onnx.BFloat16:
			for i, x := range o.Float32 {
				o.Float32[i] = roundBF16(x)
			}
		}
	}
}

func roundBF16(x float32) float32 {
	b := math.Float32bits(x)
	if x != x {
		return x
	}
	b += 0x7fff + (b>>16)&1
	return math.Float32frombits(b &^ 0xffff)
}
