package graph

import (
	"fmt"
	"sort"
)

// OpDef is what pkg/graph, the engine's memory plan and the FLOP counter
// know about one operator, kept together so that an operator is defined
// in one place (pkg/engine/ops defines every operator the engine runs,
// each with its kernel). Only Op is required.
type OpDef struct {
	// Op is the operator type: an ONNX name ("MatMul") or a fused op's
	// (OpLinear).
	Op string
	// Check validates a node's attributes when the model loads (Cast to
	// an element type that has no representation, ...), before any shape
	// is known.
	Check func(n *Node) error
	// Infer sets the element types and shapes of s.Out and fills s.P
	// from s's inputs (their shapes, and the contents of the constant
	// ones), the node's attributes and the model's opset, so that kernels
	// need no opset logic. It may also set an output's Const when the
	// contents are known whatever the inputs hold (Shape, Constant): the
	// step is then folded, never run. Nil for the fused ops, which Fuse
	// creates already bound.
	Infer func(s *Step, opset int64) error
	// Aliases reports that output 0 is input 0's data under another shape
	// (Reshape and the like): it needs no buffer of its own.
	Aliases bool
	// Scratch, when set, returns how many float32 values of working
	// memory s needs while it runs (0: none).
	Scratch func(s *Step) int
	// FLOPs, when set, counts the arithmetic of one run of s (see
	// Plan.FLOPs); operators without it count zero.
	FLOPs func(s *Step) float64
}

// Registry maps operator types to their definitions. It is filled while
// the program initialises (pkg/engine/ops fills the engine's) and only
// read afterwards, so concurrent reads are safe.
type Registry struct {
	defs map[string]*OpDef
}

// NewRegistry returns an empty registry.
func NewRegistry() *Registry { return &Registry{defs: map[string]*OpDef{}} }

// Register adds d. Defining an operator twice, or without a name, is a
// programming error and panics.
func (r *Registry) Register(d *OpDef) {
	if d.Op == "" {
		panic("graph: OpDef without Op")
	}
	if _, dup := r.defs[d.Op]; dup {
		panic(fmt.Sprintf("graph: operator %s defined twice", d.Op))
	}
	r.defs[d.Op] = d
}

// Lookup returns op's definition, or nil when op is not registered (a
// nil registry knows no operator).
func (r *Registry) Lookup(op string) *OpDef {
	if r == nil {
		return nil
	}
	return r.defs[op]
}

// Supported reports whether op is registered.
func (r *Registry) Supported(op string) bool { return r.Lookup(op) != nil }

// Ops returns the registered operator types, sorted.
func (r *Registry) Ops() []string {
	var ks []string
	for k := range r.defs {
		ks = append(ks, k)
	}
	sort.Strings(ks)
	return ks
}

// FLOPCount is the arithmetic of one run of a bound plan, counted the
// usual way for matrix work: one multiply-add is 2 FLOPs, and only the
// matrix products and convolutions are counted (elementwise ops,
// normalisations and softmax are a few percent of a transformer's work
// and have no agreed count). Each operator's definition says how it
// counts (OpDef.FLOPs).
type FLOPCount struct {
	Total float64
	// ByOp splits Total by operator type (MatMul, Gemm, clip.Linear,
	// clip.QLinear, clip.Attention, Conv, MatMulInteger, ConvInteger).
	ByOp map[string]float64
}

// Ops returns the operator types of ByOp, sorted.
func (c FLOPCount) Ops() []string {
	var ks []string
	for k := range c.ByOp {
		ks = append(ks, k)
	}
	sort.Strings(ks)
	return ks
}

// FLOPs counts the FLOPs of every step of p with the definitions of the
// registry it was bound with (fused or not: a fused step counts the work
// of the steps it replaced, so fusion never changes the count).
func (p *Plan) FLOPs() FLOPCount {
	c := FLOPCount{ByOp: map[string]float64{}}
	for _, s := range p.Steps {
		d := p.Ops.Lookup(s.Node.Op)
		if d == nil || d.FLOPs == nil {
			continue
		}
		if f := d.FLOPs(s); f > 0 {
			c.Total += f
			c.ByOp[s.Node.Op] += f
		}
	}
	return c
}
