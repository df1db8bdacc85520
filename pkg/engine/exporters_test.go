package engine

import (
	"context"
	"fmt"
	"math"
	"math/rand"
	"path/filepath"
	"strings"
	"testing"

	"github.com/clip-go/clip/pkg/engine/ops"
	"github.com/clip-go/clip/pkg/graph"
	"github.com/clip-go/clip/pkg/onnx"
)

// TestExporterPatternsFuseEveryBlock opens the tiny towers written as
// other exporters write them (scripts/fixtures/make_exporter_patterns.py:
// Hugging Face's 4-D eager attention, OpenCLIP's nn.MultiheadAttention
// with erf GELU and opset 17 LayerNormalization, vision and text with
// its causal mask, torch 2's SDPA decomposition; Hugging Face's text
// towers with the causal mask built from the input's shape and added to
// the scores, eager and SDPA with a given scale) and requires every block fused as our own export's
// blocks are (attention, one Q/K/V Linear, both LayerNorms as Linear
// prologues, the activation in fc1's epilogue, the patch embedding), no
// unfused matrix product, softmax or activation left in the plan, and the
// fused outputs equal to the op-by-op ones within 1e-5 of their scale.
// TestDifferentialONNXRuntime compares the same files with onnxruntime.
func TestExporterPatternsFuseEveryBlock(t *testing.T) {
	const blocks = 2
	for _, c := range []struct {
		file string
		act  string // the fc1 activation's fusion
	}{
		{"hf4d_vision_model.onnx", "QuickGELU"},
		{"openclip_vision_model.onnx", "GELU"},
		{"sdpa_vision_model.onnx", "QuickGELU"},
		{"openclip_text_model.onnx", "GELU"},
		{"hf4d_text_model.onnx", "QuickGELU"},
		{"sdpa_text_model.onnx", "QuickGELU"},
	} {
		t.Run(c.file, func(t *testing.T) {
			m, input, x := patternTower(t, c.file, 5)
			want := map[string]int{"Attention": blocks, "QKVLinear": blocks, "PatchEmbed": 1, c.act: blocks}
			if strings.Contains(c.file, "text") {
				// However the exporter built the causal mask (a buffer,
				// or from the input's shape), it runs as the kernel's
				// causal mode.
				delete(want, "PatchEmbed")
				want["CausalAttention"] = blocks
			}
			stats, plan := compareFusion(t, m, map[string]*Tensor{input: x})
			t.Logf("fusions: %v", stats)
			for k, n := range want {
				if stats[k] != n {
					t.Errorf("%s fusions: %d, want %d (%v)", k, stats[k], n, stats)
				}
			}
			if stats["NormLinear"] < 2*blocks {
				t.Errorf("%d LayerNorms folded into Linears, want ≥ %d: %v", stats["NormLinear"], 2*blocks, stats)
			}
			// nn.MultiheadAttention views its [S, B, E] output as [S·B, E]
			// for the output projection: the Linear reads it directly.
			if strings.HasPrefix(c.file, "openclip") && stats["ReshapeIntoLinear"] < blocks {
				t.Errorf("%d Reshapes read directly by a Linear, want ≥ %d: %v", stats["ReshapeIntoLinear"], blocks, stats)
			}
			// OpenCLIP's permutes to sequence-first and back fold away: its
			// blocks run on the batch-first tokens, as our export's do.
			if strings.HasPrefix(c.file, "openclip") && stats["LeadingSwap"] != 1 {
				t.Errorf("%d sequence-first regions run batch-first, want 1: %v", stats["LeadingSwap"], stats)
			}
			noLayoutSteps(t, plan)
			// The plan report (clip onnx info --plan) sees the blocks fused;
			// on the unfused plan it counts the attentions run op by op.
			rep := plan.Report()
			if len(rep.Blocks) != blocks || rep.UnfusedAttentions != 0 {
				t.Errorf("report: %d blocks, %d unfused attentions; want %d, 0", len(rep.Blocks), rep.UnfusedAttentions, blocks)
			}
			for _, b := range rep.Blocks {
				if !b.Complete {
					t.Errorf("report: block %d not fully fused: %v", b.Index, b.Missing)
				}
			}
			g, err := graph.FromModel(m, ops.Registry())
			if err != nil {
				t.Fatal(err)
			}
			plain, err := g.Bind(context.Background(), map[string][]int{input: x.Shape}, nil, ops.Eval)
			if err != nil {
				t.Fatal(err)
			}
			// Fusing keeps the work counted (the sequence-first attention
			// counts B·S², not S·B²).
			if f, u := plan.FLOPs().Total, plain.FLOPs().Total; math.Abs(f-u) > 1e-9*u {
				t.Errorf("fused plan counts %g FLOPs, unfused %g", f, u)
			}
			if rep := plain.Report(); len(rep.Blocks) != 0 || rep.UnfusedAttentions != blocks {
				t.Errorf("unfused plan's report: %d blocks, %d unfused attentions; want 0, %d", len(rep.Blocks), rep.UnfusedAttentions, blocks)
			}
			for _, s := range plan.Steps {
				// Hugging Face's pooling casts the token ids to int32 for
				// its ArgMax: an integer Cast, no float work left unfused.
				if s.Node.Op == "Cast" && s.P.To == onnx.Int32 {
					continue
				}
				switch s.Node.Op {
				case "MatMul", "Gemm", "Softmax", "Erf", "Sigmoid", "Cast", "Div", "Mul", "Slice", "ReduceMean":
					t.Errorf("unfused %s step %s left in the plan", s.Node.Op, s.Node.Name)
				}
			}
		})
	}
}

// patternTower loads a tiny exporter-pattern tower and makes its input
// for batch 2 from seed: 32×32 standard-normal images, or 16 token ids of
// the 200-word vocabulary (the text tower, under its causal mask).
func patternTower(t *testing.T, file string, seed int64) (m *onnx.Model, input string, x *Tensor) {
	t.Helper()
	m, err := onnx.Load(filepath.Join(projectRoot, "testdata", "models", "exporter-patterns", "onnx", file))
	if err != nil {
		t.Fatal(err)
	}
	rng := rand.New(rand.NewSource(seed))
	if strings.Contains(file, "text") {
		x = graph.NewTensor(onnx.Int64, []int{2, 16})
		for i := range x.Int64 {
			x.Int64[i] = rng.Int63n(200)
		}
		return m, "input_ids", x
	}
	x = graph.NewTensor(onnx.Float, []int{2, 3, 32, 32})
	for i := range x.Float32 {
		x.Float32[i] = float32(rng.NormFloat64())
	}
	return m, "pixel_values", x
}

// TestQuantizedExporterPatternsFuse opens the int8 variants of the
// exporter-pattern towers (onnx_quantize.py, as optimum's
// quantize_dynamic writes them: DynamicQuantizeLinear, MatMulInteger,
// Cast and the scale Mul per MatMul; Gemm left in float) and requires
// each block's projections fused into Linears (Q/K/V in one, reading the
// packed int8 products), its attention fused, the MLP activation (erf
// GELU for OpenCLIP, QuickGELU for the others) in fc1's int8 epilogue
// and both residual Adds in epilogues; the fused outputs equal the
// op-by-op ones within 1e-2 of their scale, one int8 rounding step
// (TestDifferentialONNXRuntime compares them with onnxruntime).
func TestQuantizedExporterPatternsFuse(t *testing.T) {
	const blocks = 2
	for _, file := range []string{"hf4d_vision_model_quantized.onnx", "openclip_vision_model_quantized.onnx",
		"sdpa_vision_model_quantized.onnx", "openclip_text_model_quantized.onnx",
		"hf4d_text_model_quantized.onnx", "sdpa_text_model_quantized.onnx"} {
		t.Run(file, func(t *testing.T) {
			m, input, x := patternTower(t, file, 9)
			// The fused float steps (the erf GELU, the attention) round
			// differently from the op-by-op ones, and a value that lands
			// on the other side of a rounding boundary of the next
			// DynamicQuantizeLinear moves by one quantisation step: the
			// int8 files compare within the differential test's tolerance
			// for their hidden states (1e-2), not 1e-5.
			stats, plan := compareFusionTol(t, m, map[string]*Tensor{input: x}, 1e-2)
			t.Logf("fusions: %v", stats)
			if stats["Attention"] != blocks {
				t.Errorf("%d attentions fused, want %d: %v", stats["Attention"], blocks, stats)
			}
			if strings.Contains(file, "text") != (stats["CausalAttention"] == blocks) {
				t.Errorf("%d causal attentions: %v", stats["CausalAttention"], stats)
			}
			rep := plan.Report()
			if len(rep.Blocks) != blocks || rep.UnfusedAttentions != 0 {
				t.Fatalf("report: %d blocks, %d unfused attentions; want %d, 0", len(rep.Blocks), rep.UnfusedAttentions, blocks)
			}
			for _, b := range rep.Blocks {
				// An int8 block keeps its LayerNorms and the activations'
				// DynamicQuantizeLinear as steps of their own; all else fuses.
				if b.Linears != 4 || !b.PackedQKV || !b.Activation || b.Residuals != 2 {
					t.Errorf("block %d: %+v", b.Index, b)
				}
				for op := range b.Unfused {
					if op != "LayerNormalization" && op != "DynamicQuantizeLinear" {
						t.Errorf("block %d: %s runs op by op (%v)", b.Index, op, b.Missing)
					}
				}
			}
			for _, s := range plan.Steps {
				switch s.Node.Op {
				case "MatMul", "MatMulInteger", "Gemm", "Softmax", "Erf", "Sigmoid", "Div", "Slice", "ReduceMean", graph.OpGELU, graph.OpQuickGELU:
					t.Errorf("unfused %s step %s left in the plan", s.Node.Op, s.Node.Name)
				}
			}
			if strings.HasPrefix(file, "openclip") && stats["LeadingSwap"] != 1 {
				t.Errorf("%d sequence-first regions run batch-first, want 1: %v", stats["LeadingSwap"], stats)
			}
			noLayoutSteps(t, plan)
		})
	}
}

// noLayoutSteps fails when a Transpose of the token axes (the batch and
// sequence axes swapped: OpenCLIP's permutes to sequence-first and back)
// or a sequence-first attention is left in the plan.
func noLayoutSteps(t *testing.T, plan *graph.Plan) {
	t.Helper()
	for _, s := range plan.Steps {
		if s.Node.Op == "Transpose" && len(s.P.Perm) == 3 && s.P.Perm[0] == 1 && s.P.Perm[1] == 0 {
			t.Errorf("Transpose %s (perm %v) left in the plan", s.Node.Name, s.P.Perm)
		}
		if s.Node.Op == graph.OpAttention && s.P.SeqFirst {
			t.Errorf("attention %s runs sequence-first", s.Node.Name)
		}
	}
}

// TestSigLIPPoolingHeadFuses opens the tiny SigLIP vision tower, whose
// attention-pooling head is nn.MultiheadAttention(batch_first=True) of a
// learned probe over the last hidden state (K and V from one packed
// in_proj Linear, split by Slices), then LayerNorm, a tanh-GELU MLP and a
// residual Add: the head's attention fuses into a cross attention of one
// query reading K and V in place from the packed projection, the
// Transpose of its [1, B, E] output back to [B, 1, E] becomes a Reshape,
// and the report names the head fully fused; the fused outputs equal the
// op-by-op ones within 1e-5 of their scale.
func TestSigLIPPoolingHeadFuses(t *testing.T) {
	m, err := onnx.Load(filepath.Join(projectRoot, "testdata", "models", "tiny-siglip", "onnx", "vision_model.onnx"))
	if err != nil {
		t.Fatal(err)
	}
	rng := rand.New(rand.NewSource(12))
	x := graph.NewTensor(onnx.Float, []int{3, 3, 32, 32})
	for i := range x.Float32 {
		x.Float32[i] = float32(rng.NormFloat64())
	}
	stats, plan := compareFusion(t, m, map[string]*Tensor{"pixel_values": x})
	t.Logf("fusions: %v", stats)
	if stats["Attention"] != 3 || stats["PoolingAttention"] != 1 || stats["KVLinear"] != 1 || stats["GELUTanh"] != 3 || stats["TransposeAsReshape"] < 1 {
		t.Errorf("fusions %v: want 3 attentions (2 blocks and the head), 3 tanh GELUs, the head's Transpose as a Reshape", stats)
	}
	rep := plan.Report()
	if len(rep.Blocks) != 3 || rep.UnfusedAttentions != 0 {
		t.Fatalf("report: %d blocks, %d unfused attentions; want 3, 0", len(rep.Blocks), rep.UnfusedAttentions)
	}
	for i, b := range rep.Blocks {
		if b.Pooling != (i == 2) || !b.Complete || b.ActName != "GELU(tanh)" {
			t.Errorf("block %d: %+v", i, b)
		}
	}
	transposes := 0
	for _, s := range plan.Steps {
		switch s.Node.Op {
		case "Transpose":
			// One copy is left: the last hidden state [B, N, E] to the
			// sequence-first [N, B, E] that nn.MultiheadAttention projects.
			if transposes++; transposes > 1 {
				t.Errorf("unfused Transpose step %s left in the plan", s.Node.Name)
			}
		case "MatMul", "Gemm", "Softmax", "Slice", "Tanh", "Mul", "Div":
			t.Errorf("unfused %s step %s left in the plan", s.Node.Op, s.Node.Name)
		case graph.OpAttention:
			if s.In[0].Const != nil && (s.In[1] == nil || s.In[2] != nil) {
				t.Errorf("pooling attention does not read K and V packed: %v", s.In)
			}
		}
	}
}

// sdpaModel is one attention written as torch ≥ 2.0 exports
// scaled_dot_product_attention(q, k, v, is_causal=True) on [B, H, S, D]
// views of separate projections: K's head split and the symbolic's own
// transpose of K's last two axes as two Transposes, q and kᵀ each
// multiplied by √scale, and the causal mask built from the shapes with
// Trilu, Equal and Where (folded when the plan is bound).
func sdpaModel() *onnx.Model {
	const b, s, h, d = 2, 5, 2, 4
	const e = h * d
	rng := rand.New(rand.NewSource(11))
	root := float32(math.Sqrt(1 / math.Sqrt(d)))
	inits := []*onnx.Tensor{
		floats(rng, "Wq", e, e), floats(rng, "Wk", e, e), floats(rng, "Wv", e, e),
		floats(rng, "bq", e), floats(rng, "bk", e), floats(rng, "bv", e),
		{Name: "root", DataType: onnx.Float, Dims: []int64{1}, Float32: []float32{root}},
		{Name: "one", DataType: onnx.Float, Dims: []int64{1}, Float32: []float32{1}},
		{Name: "zero", DataType: onnx.Float, Dims: []int64{1}, Float32: []float32{0}},
		{Name: "ninf", DataType: onnx.Float, Dims: []int64{1}, Float32: []float32{float32(math.Inf(-1))}},
		ints("heads4", b, s, h, d), ints("merged", b, s, e), ints("ss", s, s),
	}
	var nodes []*onnx.Node
	for _, p := range []string{"q", "k", "v"} {
		nodes = append(nodes,
			opNode("MatMul", []string{"x", "W" + p}, p+"0"),
			opNode("Add", []string{p + "0", "b" + p}, p+"1"),
			opNode("Reshape", []string{p + "1", "heads4"}, p+"r"),
			opNode("Transpose", []string{p + "r"}, p+"4", attrInts("perm", 0, 2, 1, 3)))
	}
	nodes = append(nodes,
		opNode("Expand", []string{"one", "ss"}, "ones"),
		opNode("Trilu", []string{"ones"}, "lower", attrInt("upper", 0)),
		opNode("Equal", []string{"lower", "zero"}, "hidden"),
		opNode("Where", []string{"hidden", "ninf", "zero"}, "mask"),
		opNode("Transpose", []string{"k4"}, "kt", attrInts("perm", 0, 1, 3, 2)),
		opNode("Mul", []string{"q4", "root"}, "qs"),
		opNode("Mul", []string{"kt", "root"}, "ks"),
		opNode("MatMul", []string{"qs", "ks"}, "scores"),
		opNode("Add", []string{"scores", "mask"}, "masked"),
		opNode("Softmax", []string{"masked"}, "p", attrInt("axis", -1)),
		opNode("MatMul", []string{"p", "v4"}, "o4"),
		opNode("Transpose", []string{"o4"}, "ot", attrInts("perm", 0, 2, 1, 3)),
		opNode("Reshape", []string{"ot", "merged"}, "y"))
	return &onnx.Model{IRVersion: 8, OpsetImports: []onnx.OpsetImport{{Version: 14}}, Graph: &onnx.Graph{
		Inputs: []*onnx.ValueInfo{vinfo("x", onnx.Float, b, s, e)}, Outputs: []*onnx.ValueInfo{vinfo("y", onnx.Float, b, s, e)},
		Initializers: inits, Nodes: nodes,
	}}
}

// TestSDPADecompositionFuses checks the torch 2 SDPA form that the tiny
// tower does not hold (torch 1.13's exporter composes the two transposes
// and writes no mask there): the Transposes compose, the two √scale
// factors and the folded -inf causal mask go into one packed attention.
func TestSDPADecompositionFuses(t *testing.T) {
	m := sdpaModel()
	stats, plan := compareFusion(t, m, randomFeeds(m))
	if stats["Attention"] != 1 || stats["QKVLinear"] != 1 || stats["Transpose"] != 1 {
		t.Errorf("fusions %v, want one attention, one QKV Linear and one composed Transpose", stats)
	}
	if len(plan.Steps) != 2 {
		for _, s := range plan.Steps {
			t.Logf("step %s (%s)", s.Node.Name, s.Node.Op)
		}
		t.Errorf("%d steps, want the QKV Linear and the attention", len(plan.Steps))
	}
}

// geluModel is Linear → GELU → Linear + residual with the GELU written
// as form: "div" x·0.5·(1+erf(x/√2)) the way torch 1.13 writes nn.GELU,
// "mulhalf" (0.5·x)·(1+erf(x·(1/√2))), the tanh GELU as torch's symbolic
// ("tanh-torch") and as transformers' NewGELUActivation ("tanh-hf")
// write it; and with a Gemm (transB=1) as the
// second Linear as torch writes a 2-D nn.Linear.
func geluModel(form string) *onnx.Model {
	const rows, k, n = 6, 8, 16
	rng := rand.New(rand.NewSource(13))
	f1 := func(name string, v float32) *onnx.Tensor {
		return &onnx.Tensor{Name: name, DataType: onnx.Float, Float32: []float32{v}}
	}
	inits := []*onnx.Tensor{floats(rng, "W1", k, n), floats(rng, "b1", n), floats(rng, "W2t", k, n), floats(rng, "b2", k),
		f1("sqrt2", float32(math.Sqrt2)), f1("rsqrt2", float32(1/math.Sqrt2)), f1("one", 1), f1("half", 0.5),
		f1("three", 3), f1("kappa", 0.044715), f1("beta", float32(math.Sqrt(2/math.Pi)))}
	nodes := []*onnx.Node{opNode("MatMul", []string{"x", "W1"}, "h0"), opNode("Add", []string{"b1", "h0"}, "h")}
	switch form {
	case "div":
		nodes = append(nodes, opNode("Div", []string{"h", "sqrt2"}, "u"), opNode("Erf", []string{"u"}, "e"),
			opNode("Add", []string{"e", "one"}, "e1"), opNode("Mul", []string{"h", "e1"}, "g0"), opNode("Mul", []string{"g0", "half"}, "g"))
	case "mulhalf":
		nodes = append(nodes, opNode("Mul", []string{"rsqrt2", "h"}, "u"), opNode("Erf", []string{"u"}, "e"),
			opNode("Add", []string{"one", "e"}, "e1"), opNode("Mul", []string{"half", "h"}, "g0"), opNode("Mul", []string{"e1", "g0"}, "g"))
	case "tanh-torch": // torch's gelu(approximate="tanh") symbolic
		nodes = append(nodes, opNode("Mul", []string{"h", "h"}, "h2"), opNode("Mul", []string{"h", "h2"}, "h3"),
			opNode("Mul", []string{"kappa", "h3"}, "k3"), opNode("Add", []string{"h", "k3"}, "in"), opNode("Mul", []string{"beta", "in"}, "u"),
			opNode("Tanh", []string{"u"}, "e"), opNode("Add", []string{"one", "e"}, "e1"), opNode("Mul", []string{"h", "e1"}, "g0"),
			opNode("Mul", []string{"half", "g0"}, "g"))
	case "tanh-hf": // transformers' NewGELUActivation
		nodes = append(nodes, opNode("Mul", []string{"h", "half"}, "g0"), opNode("Pow", []string{"h", "three"}, "h3"),
			opNode("Mul", []string{"h3", "kappa"}, "k3"), opNode("Add", []string{"h", "k3"}, "in"), opNode("Mul", []string{"in", "beta"}, "u"),
			opNode("Tanh", []string{"u"}, "e"), opNode("Add", []string{"e", "one"}, "e1"), opNode("Mul", []string{"g0", "e1"}, "g"))
	}
	nodes = append(nodes,
		opNode("Gemm", []string{"g", "W2t", "b2"}, "y0", attrInt("transB", 1)),
		opNode("Add", []string{"y0", "x"}, "y"))
	return &onnx.Model{IRVersion: 8, OpsetImports: []onnx.OpsetImport{{Version: 14}}, Graph: &onnx.Graph{
		Inputs: []*onnx.ValueInfo{vinfo("x", onnx.Float, rows, k)}, Outputs: []*onnx.ValueInfo{vinfo("y", onnx.Float, rows, k)},
		Initializers: inits, Nodes: nodes,
	}}
}

// TestGELUAndGemmFuse checks that the erf and tanh GELUs, each written
// two ways, fuse into fc1's epilogue and that the Gemm with a transposed constant B
// becomes a Linear that also takes the residual: two steps in all.
func TestGELUAndGemmFuse(t *testing.T) {
	for _, c := range []struct {
		form, fusion string
		act          int
	}{{"div", "GELU", graph.ActGELU}, {"mulhalf", "GELU", graph.ActGELU},
		{"tanh-torch", "GELUTanh", graph.ActGELUTanh}, {"tanh-hf", "GELUTanh", graph.ActGELUTanh}} {
		t.Run(c.form, func(t *testing.T) {
			m := geluModel(c.form)
			stats, plan := compareFusion(t, m, randomFeeds(m))
			if stats[c.fusion] != 1 || stats["Linear"] != 2 {
				t.Errorf("fusions %v, want one %s and two Linears", stats, c.fusion)
			}
			if len(plan.Steps) != 2 || plan.Steps[0].P.Act != c.act || plan.Steps[1].In[3] == nil {
				for _, s := range plan.Steps {
					t.Logf("step %s (%s) act %d", s.Node.Name, s.Node.Op, s.P.Act)
				}
				t.Errorf("want Linear with the GELU epilogue, then Linear with the residual")
			}
		})
	}
}

// TestCanonicalPassesKeepValues runs the canonicalisations where nothing
// fuses after them: a composed Transpose and a dropped float→float Cast
// run as plain steps and give the op-by-op values; a Cast that is a graph
// output stays.
func TestCanonicalPassesKeepValues(t *testing.T) {
	m := &onnx.Model{IRVersion: 8, OpsetImports: []onnx.OpsetImport{{Version: 14}}, Graph: &onnx.Graph{
		Inputs:  []*onnx.ValueInfo{vinfo("x", onnx.Float, 2, 3, 4)},
		Outputs: []*onnx.ValueInfo{vinfo("y", onnx.Float, 4, 2, 3), vinfo("z", onnx.Float, 2, 3, 4)},
		Nodes: []*onnx.Node{
			opNode("Transpose", []string{"x"}, "t1", attrInts("perm", 0, 2, 1)),
			opNode("Transpose", []string{"t1"}, "t2", attrInts("perm", 1, 0, 2)),
			opNode("Cast", []string{"t2"}, "c", attrInt("to", int64(onnx.Float))),
			opNode("Add", []string{"c", "c"}, "y"),
			opNode("Cast", []string{"x"}, "z", attrInt("to", int64(onnx.Float))),
		},
	}}
	stats, plan := compareFusion(t, m, randomFeeds(m))
	if stats["Transpose"] != 1 || stats["NoopCast"] != 1 {
		t.Errorf("fusions %v, want one composed Transpose and one dropped Cast", stats)
	}
	var ops []string
	for _, s := range plan.Steps {
		ops = append(ops, s.Node.Op)
	}
	if len(ops) != 3 {
		t.Errorf("steps %v, want Transpose, Add and the output's Cast", ops)
	}
}

// torch2MHAModel is one nn.MultiheadAttention block (sequence-first, a
// causal float mask) as torch ≥ 2.0 writes it when no weights are asked
// for: the packed in_proj split by unflatten/unsqueeze/transpose/squeeze
// and Gather, the [B·H, S, D] head views reshaped to [B, H, S, D] for
// scaled_dot_product_attention's decomposition (√scale on q and kᵀ, the
// mask [1, 1, S, S] added), the output permuted (2, 0, 1, 3) to [S·B, E],
// the output projection a Gemm, viewed back to [S, B, E] for the residual.
func torch2MHAModel() *onnx.Model {
	const s, b, h, d = 5, 2, 2, 4
	const e = h * d
	rng := rand.New(rand.NewSource(17))
	root := float32(math.Sqrt(1 / math.Sqrt(d)))
	mask := &onnx.Tensor{Name: "mask", DataType: onnx.Float, Dims: []int64{1, 1, s, s}, Float32: make([]float32, s*s)}
	for i := 0; i < s; i++ {
		for j := i + 1; j < s; j++ {
			mask.Float32[i*s+j] = float32(math.Inf(-1))
		}
	}
	inits := []*onnx.Tensor{
		floats(rng, "Win", e, 3*e), floats(rng, "bin", 3*e), floats(rng, "Wout", e, e), floats(rng, "bout", e), mask,
		{Name: "root", DataType: onnx.Float, Float32: []float32{root}},
		ints("unflat", s, b, 3, e), ints("zero", 0), ints("three", 3), ints("heads3", s, b*h, d), ints("heads4", b, h, s, d),
		ints("merged", s*b, e), ints("seq", s, b, e),
		{Name: "i0", DataType: onnx.Int64, Int64: []int64{0}}, {Name: "i1", DataType: onnx.Int64, Int64: []int64{1}},
		{Name: "i2", DataType: onnx.Int64, Int64: []int64{2}},
	}
	nodes := []*onnx.Node{
		opNode("MatMul", []string{"x", "Win"}, "p0"), opNode("Add", []string{"bin", "p0"}, "p1"),
		opNode("Reshape", []string{"p1", "unflat"}, "p2"), opNode("Unsqueeze", []string{"p2", "zero"}, "p3"),
		opNode("Transpose", []string{"p3"}, "p4", attrInts("perm", 3, 1, 2, 0, 4)), opNode("Squeeze", []string{"p4", "three"}, "p5"),
	}
	for i, p := range []string{"q", "k", "v"} {
		nodes = append(nodes,
			opNode("Gather", []string{"p5", fmt.Sprintf("i%d", i)}, p, attrInt("axis", 0)),
			opNode("Reshape", []string{p, "heads3"}, p+"_r"),
			opNode("Transpose", []string{p + "_r"}, p+"_t", attrInts("perm", 1, 0, 2)),
			opNode("Reshape", []string{p + "_t", "heads4"}, p+"4"))
	}
	nodes = append(nodes,
		opNode("Transpose", []string{"k4"}, "kt", attrInts("perm", 0, 1, 3, 2)),
		opNode("Mul", []string{"q4", "root"}, "qs"), opNode("Mul", []string{"kt", "root"}, "ks"),
		opNode("MatMul", []string{"qs", "ks"}, "scores"), opNode("Add", []string{"scores", "mask"}, "masked"),
		opNode("Softmax", []string{"masked"}, "pr", attrInt("axis", -1)), opNode("MatMul", []string{"pr", "v4"}, "o4"),
		opNode("Transpose", []string{"o4"}, "ot", attrInts("perm", 2, 0, 1, 3)), opNode("Reshape", []string{"ot", "merged"}, "o2"),
		opNode("Gemm", []string{"o2", "Wout", "bout"}, "y2", attrInt("transB", 1)), opNode("Reshape", []string{"y2", "seq"}, "y3"),
		opNode("Add", []string{"x", "y3"}, "y"))
	return &onnx.Model{IRVersion: 8, OpsetImports: []onnx.OpsetImport{{Version: 14}}, Graph: &onnx.Graph{
		Inputs: []*onnx.ValueInfo{vinfo("x", onnx.Float, s, b, e)}, Outputs: []*onnx.ValueInfo{vinfo("y", onnx.Float, s, b, e)},
		Initializers: inits, Nodes: nodes,
	}}
}

// TestTorch2MultiheadAttentionFuses checks torch 2's nn.MultiheadAttention
// form (the tiny OpenCLIP towers hold torch 1.13's): one in_proj Linear
// read packed by the sequence-first attention with the causal mask, and
// the output projection with the residual: three steps, equal to the
// op-by-op graph.
func TestTorch2MultiheadAttentionFuses(t *testing.T) {
	m := torch2MHAModel()
	stats, plan := compareFusion(t, m, randomFeeds(m))
	if stats["Attention"] != 1 || stats["QKVLinear"] != 1 || stats["Linear"] != 2 {
		t.Errorf("fusions %v, want one attention reading one packed QKV Linear, and two Linears", stats)
	}
	var ops []string
	for _, s := range plan.Steps {
		ops = append(ops, s.Node.Op)
	}
	if strings.Join(ops, " ") != "clip.Linear clip.Attention clip.Linear" {
		t.Errorf("steps %v, want the in_proj Linear, the attention and the out_proj Linear (reading the attention's output through no Reshape)", ops)
	}
}

// opNode is a node of op named after its single output.
func opNode(op string, in []string, out string, attrs ...*onnx.Attribute) *onnx.Node {
	return &onnx.Node{Name: out + "_" + op, OpType: op, Inputs: in, Outputs: []string{out}, Attributes: attrs}
}

// TestMultilingualTextTowersFuse opens the BERT-family text towers of
// immich's multilingual models as the fixtures write them (tiny-mclip:
// XLM-R's post-LN blocks, erf GELU; tiny-nllb: M2M100's pre-LN blocks,
// q_proj(x)·scaling, ReLU), both adding a padding mask [B, 1, 1, T] to
// the scores, and requires every block fused (the attention with the
// mask as the kernel's key mask, Q/K/V packed, the activation in fc1's
// epilogue), fused within 1e-5 of unfused on ids with padded rows.
func TestMultilingualTextTowersFuse(t *testing.T) {
	for _, c := range []struct{ dir, act string }{{"tiny-mclip", "GELU"}, {"tiny-nllb", "ReLU"}} {
		t.Run(c.dir, func(t *testing.T) {
			path := filepath.Join(projectRoot, "testdata", "models", c.dir, "textual", "model.onnx")
			m, err := onnx.Load(path)
			if err != nil {
				t.Fatal(err)
			}
			s, err := Open(context.Background(), path, Options{})
			if err != nil {
				t.Fatal(err)
			}
			feeds := benchInputs(s, 2, 9, 0)
			s.Close()
			if mask := feeds["attention_mask"]; mask != nil && mask.Shape[0] == 1 {
				// A fixed batch of 1: pad its last 3 tokens.
				for i := len(mask.Int32) - 3; i < len(mask.Int32); i++ {
					mask.Int32[i] = 0
				}
			}
			stats, plan := compareFusion(t, m, feeds)
			t.Logf("fusions: %v", stats)
			const blocks = 2
			if stats["Attention"] != blocks || stats["QKVLinear"] != blocks {
				t.Errorf("fusions %v: want %d attentions reading packed Q/K/V", stats, blocks)
			}
			rep := plan.Report()
			if len(rep.Blocks) != blocks || rep.UnfusedAttentions != 0 {
				t.Errorf("report: %d blocks, %d unfused attentions; want %d, 0", len(rep.Blocks), rep.UnfusedAttentions, blocks)
			}
			for _, b := range rep.Blocks {
				if !b.Complete || b.ActName != c.act {
					t.Errorf("report: block %d fully fused %v (%v), activation %q; want fully fused with %s", b.Index, b.Complete, b.Missing, b.ActName, c.act)
				}
			}
		})
	}
}
