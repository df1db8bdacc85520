package engine

import (
	"math/rand"
	"strings"
	"testing"

	"github.com/clip-go/clip/pkg/graph"
	"github.com/clip-go/clip/pkg/onnx"
)

// seqFirstModel wraps torch2MHAModel's nn.MultiheadAttention block (on
// sequence-first [S, B, E] tokens) as OpenCLIP's towers use it: batch-first
// input xb [B, S, E] permuted to [S, B, E], the block, an activation and
// a scale along E, then permuted back. variant adds what must keep the
// permutes: "positional" an Add of a [S, 1, E] constant (different along
// the sequence axis), "inner-output" the block's output also as a graph
// output, "reduce" a ReduceSum over the sequence axis read beside the
// tail; "end-output" makes the closing permute's output a graph output
// (the tail then reads it), as OpenCLIP's last hidden state is.
func seqFirstModel(variant string) *onnx.Model {
	const s, b, e = 5, 2, 8
	m := torch2MHAModel()
	g := m.Graph
	rng := rand.New(rand.NewSource(21))
	g.Inputs = []*onnx.ValueInfo{vinfo("xb", onnx.Float, b, s, e)}
	g.Nodes = append([]*onnx.Node{opNode("Transpose", []string{"xb"}, "x", attrInts("perm", 1, 0, 2))}, g.Nodes...)
	g.Initializers = append(g.Initializers, floats(rng, "gain", e), floats(rng, "pos", s, 1, e))
	g.Outputs = []*onnx.ValueInfo{vinfo("out", onnx.Float, b, s, e)}
	y := "y"
	if variant == "positional" {
		g.Nodes = append(g.Nodes, opNode("Add", []string{y, "pos"}, "yp"))
		y = "yp"
	}
	g.Nodes = append(g.Nodes,
		opNode("Tanh", []string{y}, "r"), opNode("Mul", []string{"r", "gain"}, "rg"),
		opNode("Transpose", []string{"rg"}, "back", attrInts("perm", 1, 0, 2)),
		opNode("Sigmoid", []string{"back"}, "out"))
	switch variant {
	case "inner-output":
		g.Outputs = append(g.Outputs, vinfo("y", onnx.Float, s, b, e))
	case "reduce":
		g.Nodes = append(g.Nodes, opNode("ReduceSum", []string{"r", "axis0"}, "sum"))
		g.Initializers = append(g.Initializers, ints("axis0", 0))
		g.Outputs = append(g.Outputs, vinfo("sum", onnx.Float, 1, b, e))
	case "end-output":
		g.Outputs = append(g.Outputs, vinfo("back", onnx.Float, b, s, e))
	}
	return m
}

// TestLeadingSwapFolds checks the fold of OpenCLIP's sequence-first
// permutes: around row-wise steps and a sequence-first attention the two
// Transposes go (the one that is a graph output becomes a free Reshape)
// and the attention runs batch-first, with the op-by-op graph's values
// within 1e-5; where a step reads the region by position (a reduction
// over the sequence, a positional constant) or a value inside it is a
// graph output, both Transposes stay.
func TestLeadingSwapFolds(t *testing.T) {
	for _, c := range []struct {
		variant string
		folds   bool
	}{{"plain", true}, {"end-output", true}, {"positional", false}, {"inner-output", false}, {"reduce", false}} {
		t.Run(c.variant, func(t *testing.T) {
			m := seqFirstModel(c.variant)
			stats, plan := compareFusion(t, m, randomFeeds(m))
			if stats["Attention"] != 1 {
				t.Fatalf("fusions %v: the attention did not fuse", stats)
			}
			transposes, reshapes := 0, 0
			var ops []string
			for _, s := range plan.Steps {
				ops = append(ops, s.Node.Op)
				switch s.Node.Op {
				case "Transpose":
					transposes++
				case "Reshape":
					reshapes++
				case graph.OpAttention:
					if s.P.SeqFirst == c.folds {
						t.Errorf("attention SeqFirst %v, want %v", s.P.SeqFirst, !c.folds)
					}
				}
			}
			want, wantReshapes := 2, 0
			if c.folds {
				want = 0
				if c.variant == "end-output" {
					wantReshapes = 1
				}
			}
			if transposes != want || reshapes != wantReshapes || (stats["LeadingSwap"] == 1) != c.folds {
				t.Errorf("steps %s (fusions %v): want %d Transposes, %d Reshapes, folded %v", strings.Join(ops, " "), stats, want, wantReshapes, c.folds)
			}
		})
	}
}
