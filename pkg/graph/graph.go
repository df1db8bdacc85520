// Package graph is the engine's intermediate representation of an ONNX
// model: it validates the node graph (undefined inputs, cycles, unknown
// ops), rewrites onnxruntime's weight-quantized contrib MatMuls as
// standard ones (contrib.go), cleans it (Identity and dead-node removal,
// optional fusion passes),
// and, once the input shapes of a run are known, binds every value to a
// concrete shape and dtype while folding the shape arithmetic exporters
// emit into constants. The engine lowers the resulting Plan.
//
// The package knows no operator by itself: each one is an OpDef (load-time
// checks, shape inference, aliasing, scratch memory, FLOPs) in a Registry
// given to FromModel. pkg/engine/ops defines every operator the engine
// runs, each next to its kernel; adding an operator is one definition
// there.
package graph

import (
	"fmt"
	"sort"
	"strings"

	"github.com/clip-go/clip/pkg/onnx"
)

// Node is one operator application.
type Node struct {
	Name    string
	Op      string
	Inputs  []string // "" marks an omitted optional input
	Outputs []string
	Attrs   map[string]*onnx.Attribute
}

func (n *Node) String() string {
	if n.Name == "" {
		return fmt.Sprintf("%s node (output %q)", n.Op, first(n.Outputs))
	}
	return fmt.Sprintf("node %q (%s)", n.Name, n.Op)
}

func first(s []string) string {
	if len(s) == 0 {
		return ""
	}
	return s[0]
}

// Has reports whether attribute name is present.
func (n *Node) Has(name string) bool { _, ok := n.Attrs[name]; return ok }

// Int returns integer attribute name, or def when absent.
func (n *Node) Int(name string, def int64) int64 {
	if a, ok := n.Attrs[name]; ok {
		return a.I
	}
	return def
}

// Float returns float attribute name, or def when absent.
func (n *Node) Float(name string, def float32) float32 {
	if a, ok := n.Attrs[name]; ok {
		return a.F
	}
	return def
}

// Ints returns integer-list attribute name (nil when absent).
func (n *Node) Ints(name string) []int64 {
	if a, ok := n.Attrs[name]; ok {
		return a.Ints
	}
	return nil
}

// Str returns string attribute name, or def when absent.
func (n *Node) Str(name, def string) string {
	if a, ok := n.Attrs[name]; ok {
		return string(a.S)
	}
	return def
}

// Graph is a validated, topologically sorted model graph.
type Graph struct {
	// Opset is the model's default-domain opset version.
	Opset int64
	// Inputs are the values a run must provide (initializers excluded).
	Inputs  []*onnx.ValueInfo
	Outputs []*onnx.ValueInfo
	// Nodes in an order where every node follows its producers.
	Nodes []*Node
	// Consts are the initializers, float16 already widened.
	Consts map[string]*Tensor
	// Ops defines the operators the nodes may use.
	Ops *Registry
}

// FromModel converts and validates m's main graph. ops defines the
// operators accepted; any other op is an error naming the node. A nil ops
// accepts every operator (Bind then fails on the first one).
func FromModel(m *onnx.Model, ops *Registry) (*Graph, error) {
	if m == nil || m.Graph == nil {
		return nil, fmt.Errorf("model has no graph")
	}
	og := m.Graph
	g := &Graph{Opset: m.Opset(""), Consts: map[string]*Tensor{}, Ops: ops}
	if g.Opset == 0 {
		g.Opset = 1 // IR without opset_import; treat as the earliest set
	}
	for _, it := range og.Initializers {
		t, err := FromONNX(it)
		if err != nil {
			return nil, fmt.Errorf("initializer: %w", err)
		}
		g.Consts[it.Name] = t
	}
	for _, in := range og.Inputs {
		if _, isConst := g.Consts[in.Name]; isConst {
			continue // old exporters list initializers as inputs
		}
		if !Supported(in.ElemType) {
			return nil, fmt.Errorf("graph input %q has unsupported element type %s", in.Name, DTypeName(in.ElemType))
		}
		g.Inputs = append(g.Inputs, in)
	}
	g.Outputs = og.Outputs
	for _, on := range og.Nodes {
		n := &Node{Name: on.Name, Op: on.OpType, Inputs: on.Inputs, Outputs: on.Outputs, Attrs: map[string]*onnx.Attribute{}}
		for _, a := range on.Attributes {
			n.Attrs[a.Name] = a
		}
		nodes := []*Node{n}
		switch on.Domain {
		case "", "ai.onnx":
		case contribDomain:
			lowered, err := lowerContrib(g, n)
			if err != nil {
				return nil, fmt.Errorf("%s: %w", n, err)
			}
			nodes = lowered
		default:
			return nil, fmt.Errorf("%s: operator domain %q is not supported", n, on.Domain)
		}
		for _, n := range nodes {
			d := ops.Lookup(n.Op)
			if ops != nil && d == nil {
				return nil, fmt.Errorf("%s: operator %s is not supported", n, n.Op)
			}
			if err := checkNodeTypes(n, d); err != nil {
				return nil, fmt.Errorf("%s: %w", n, err)
			}
			g.Nodes = append(g.Nodes, n)
		}
	}
	if err := g.sortAndCheck(); err != nil {
		return nil, err
	}
	return g, nil
}

// sortAndCheck orders Nodes topologically and reports undefined inputs,
// duplicate producers and cycles, each naming the node.
func (g *Graph) sortAndCheck() error {
	producer := map[string]int{}
	for i, n := range g.Nodes {
		for _, o := range n.Outputs {
			if o == "" {
				continue
			}
			if j, dup := producer[o]; dup {
				return fmt.Errorf("%s: output %q is also produced by %s", n, o, g.Nodes[j])
			}
			if _, isConst := g.Consts[o]; isConst {
				return fmt.Errorf("%s: output %q overwrites an initializer", n, o)
			}
			producer[o] = i
		}
	}
	isInput := map[string]bool{}
	for _, in := range g.Inputs {
		isInput[in.Name] = true
	}
	indeg := make([]int, len(g.Nodes))
	users := make([][]int, len(g.Nodes))
	for i, n := range g.Nodes {
		for _, in := range n.Inputs {
			if in == "" || isInput[in] {
				continue
			}
			if _, ok := g.Consts[in]; ok {
				continue
			}
			p, ok := producer[in]
			if !ok {
				return fmt.Errorf("%s reads %q, which is not a graph input, an initializer or any node's output (missing initializer?)", n, in)
			}
			indeg[i]++
			users[p] = append(users[p], i)
		}
	}
	var order []*Node
	var ready []int
	for i := range g.Nodes {
		if indeg[i] == 0 {
			ready = append(ready, i)
		}
	}
	done := make([]bool, len(g.Nodes))
	for len(ready) > 0 {
		i := ready[0]
		ready = ready[1:]
		done[i] = true
		order = append(order, g.Nodes[i])
		for _, u := range users[i] {
			indeg[u]--
			if indeg[u] == 0 {
				ready = append(ready, u)
			}
		}
	}
	if len(order) != len(g.Nodes) {
		for i, n := range g.Nodes {
			if !done[i] {
				return fmt.Errorf("%s is part of a cycle (its inputs depend on its own outputs)", n)
			}
		}
	}
	g.Nodes = order
	for _, out := range g.Outputs {
		_, isConst := g.Consts[out.Name]
		if _, ok := producer[out.Name]; !ok && !isConst && !isInput[out.Name] {
			return fmt.Errorf("graph output %q is not produced by any node", out.Name)
		}
	}
	return nil
}

// RemoveIdentity bypasses Identity nodes whose output is not a graph output.
func (g *Graph) RemoveIdentity() {
	isOut := map[string]bool{}
	for _, o := range g.Outputs {
		isOut[o.Name] = true
	}
	rename := map[string]string{}
	kept := g.Nodes[:0]
	for _, n := range g.Nodes {
		for i, in := range n.Inputs {
			if r, ok := rename[in]; ok {
				n.Inputs[i] = r
			}
		}
		if n.Op == "Identity" && len(n.Inputs) == 1 && len(n.Outputs) == 1 && !isOut[n.Outputs[0]] {
			rename[n.Outputs[0]] = n.Inputs[0]
			continue
		}
		kept = append(kept, n)
	}
	g.Nodes = kept
}

// RemoveDead drops nodes none of whose outputs reach a graph output.
func (g *Graph) RemoveDead() {
	live := map[string]bool{}
	for _, o := range g.Outputs {
		live[o.Name] = true
	}
	keep := make([]bool, len(g.Nodes))
	for i := len(g.Nodes) - 1; i >= 0; i-- {
		n := g.Nodes[i]
		for _, o := range n.Outputs {
			if live[o] {
				keep[i] = true
			}
		}
		if keep[i] {
			for _, in := range n.Inputs {
				live[in] = true
			}
		}
	}
	kept := g.Nodes[:0]
	for i, n := range g.Nodes {
		if keep[i] {
			kept = append(kept, n)
		}
	}
	g.Nodes = kept
	for name := range g.Consts {
		if !live[name] {
			delete(g.Consts, name)
		}
	}
}

// Pass rewrites a graph in place (fusion, simplification).
type Pass func(g *Graph) error

// Optimize runs Identity and dead-node removal, then passes in order, then
// dead-node removal again.
func (g *Graph) Optimize(passes ...Pass) error {
	g.RemoveIdentity()
	g.RemoveDead()
	for _, p := range passes {
		if err := p(g); err != nil {
			return err
		}
	}
	g.RemoveDead()
	return nil
}

// OpHistogram counts nodes per op type, as "Op×N" sorted by op name.
func (g *Graph) OpHistogram() string {
	c := map[string]int{}
	for _, n := range g.Nodes {
		c[n.Op]++
	}
	var ks []string
	for k := range c {
		ks = append(ks, k)
	}
	sort.Strings(ks)
	var b strings.Builder
	for i, k := range ks {
		if i > 0 {
			b.WriteString(" ")
		}
		fmt.Fprintf(&b, "%s×%d", k, c[k])
	}
	return b.String()
}

// checkNodeTypes reports, at load time, element types a node's attributes
// ask for that cannot be represented (a Constant holding a string, and
// whatever d's Check refuses, such as Cast to string).
func checkNodeTypes(n *Node, d *OpDef) error {
	if d != nil && d.Check != nil {
		if err := d.Check(n); err != nil {
			return err
		}
	}
	for _, name := range []string{"value"} {
		if a, ok := n.Attrs[name]; ok && a.T != nil && !Supported(a.T.DataType) {
			return fmt.Errorf("attribute %s has unsupported element type %s", name, DTypeName(a.T.DataType))
		}
	}
	return nil
}
