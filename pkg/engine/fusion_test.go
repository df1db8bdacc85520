package engine

import (
	"context"
	"math"
	"math/rand"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/clip-go/clip/pkg/graph"
	"github.com/clip-go/clip/pkg/onnx"
)

// fixtureModels lists the committed fixture ONNX files.
func fixtureModels(t *testing.T) []string {
	dir := filepath.Join(projectRoot, "testdata", "models")
	if d := os.Getenv("CLIP_FIXTURE_MODELS"); d != "" {
		dir = d
	}
	files, _ := filepath.Glob(filepath.Join(dir, "*", "onnx", "*.onnx"))
	if len(files) == 0 {
		msg := "no fixture models under " + dir + " (make fixtures)"
		if os.Getenv("CI") == "true" {
			t.Fatal(msg)
		}
		t.Skip(msg)
	}
	return files
}

// TestFusionMatchesUnfused runs every fixture model with and without the
// fusion passes (LayerNorm, QuickGELU, Linear, Attention, QKV projections,
// patch embedding) and requires the same outputs within 1e-5 (relative to
// the output's scale; 4 half-precision ulps for the _fp16 and _q4f16 files), and
// that the towers did get fused.
func TestFusionMatchesUnfused(t *testing.T) {
	for _, f := range fixtureModels(t) {
		name := filepath.Base(filepath.Dir(filepath.Dir(f))) + "/" + filepath.Base(f)
		t.Run(name, func(t *testing.T) {
			ctx := context.Background()
			fused, err := Open(ctx, f, Options{})
			if err != nil {
				t.Fatal(err)
			}
			defer fused.Close()
			plain, err := Open(ctx, f, Options{NoFusion: true})
			if err != nil {
				t.Fatal(err)
			}
			defer plain.Close()
			feeds := benchInputs(fused, 2, 9, imageSize(f))
			a, err := fused.Run(ctx, feeds)
			if err != nil {
				t.Fatal(err)
			}
			b, err := plain.Run(ctx, feeds)
			if err != nil {
				t.Fatal(err)
			}
			for _, o := range fused.Outputs() {
				scale := 0.0
				for i := 0; i < b[o.Name].Len(); i++ {
					scale = math.Max(scale, math.Abs(b[o.Name].Float64At(i)))
				}
				d, err := maxAbsDiff(a[o.Name], b[o.Name], false)
				if err != nil {
					t.Fatal(err)
				}
				tol := 1e-5
				if strings.Contains(filepath.Base(f), "_fp16") || strings.Contains(filepath.Base(f), "_q4f16") {
					// The fused steps round to half precision once where
					// the op-by-op graph rounded after every op: allow 4
					// half-precision ulps (4·2⁻¹⁰) of the output's scale.
					tol = 4.0 / 1024
				}
				if !within(d, tol*math.Max(scale, 1)) {
					t.Errorf("%s: fused differs from unfused by %g (scale %g)", o.Name, d, scale)
				}
			}
			stats := fused.fusionStats()
			t.Logf("fusions: %v", stats)
			if filepath.Base(f) == "vision_model.onnx" || filepath.Base(f) == "text_model.onnx" {
				native := strings.Contains(fused.Graph().OpHistogram(), "LayerNormalization")
				if (stats["LayerNorm"] == 0 && !native) || stats["Linear"] == 0 || stats["Attention"] == 0 {
					t.Errorf("float32 tower missed a LayerNorm, Linear or Attention fusion: %v", stats)
				}
			}
			// Every attention of the CLIP towers reads one fused Q, K, V
			// projection (a pooling head's learned query: K and V), and
			// the vision towers embed patches in one step.
			base := filepath.Base(f)
			// int8 files: _quantized, and _uint8 (uint8 weights).
			quantized := strings.Contains(base, "_quantized") || strings.Contains(base, "_uint8")
			if packed := stats["QKVLinear"] + stats["QKVQLinear"] + stats["KVLinear"] + stats["KVQLinear"]; stats["Attention"] > 0 && packed != stats["Attention"] {
				t.Errorf("%d attentions but %d fused QKV projections: %v", stats["Attention"], packed, stats)
			}
			if quantized && stats["QKVLinear"] != 0 {
				t.Errorf("quantized model fused float QKV projections: %v", stats)
			}
			if !strings.Contains(base, "text_model") && !quantized && stats["PatchEmbed"] != 1 {
				t.Errorf("patch embedding not fused: %v", stats)
			}
			// float32 and float16 towers: the two LayerNorms of every
			// block become prologues of the Linear after them (a pooling
			// head has one).
			if !quantized && stats["NormLinear"] < 2*stats["Attention"]-stats["PoolingAttention"] {
				t.Errorf("%d attentions but only %d LayerNorms folded into Linears: %v", stats["Attention"], stats["NormLinear"], stats)
			}
		})
	}
}

// floats returns a float32 initializer of the given dims filled with
// seeded values in [-1, 1).
func floats(rng *rand.Rand, name string, dims ...int64) *onnx.Tensor {
	n := int64(1)
	for _, d := range dims {
		n *= d
	}
	t := &onnx.Tensor{Name: name, DataType: onnx.Float, Dims: dims, Float32: make([]float32, n)}
	for i := range t.Float32 {
		t.Float32[i] = float32(rng.Float64()*2 - 1)
	}
	return t
}

// compareFusion runs m with and without fusion on feeds, requires the
// same outputs within 1e-5 of their scale, and returns the fusion counts
// and the fused plan.
func compareFusion(t *testing.T, m *onnx.Model, feeds map[string]*Tensor) (map[string]int, *graph.Plan) {
	t.Helper()
	return compareFusionTol(t, m, feeds, 1e-5)
}

// compareFusionTol is compareFusion within tol of the outputs' scale.
func compareFusionTol(t *testing.T, m *onnx.Model, feeds map[string]*Tensor, tol float64) (map[string]int, *graph.Plan) {
	t.Helper()
	ctx := context.Background()
	fused, err := NewSession(ctx, m, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer fused.Close()
	plain, err := NewSession(ctx, m, Options{NoFusion: true})
	if err != nil {
		t.Fatal(err)
	}
	defer plain.Close()
	a, err := fused.Run(ctx, feeds)
	if err != nil {
		t.Fatal(err)
	}
	b, err := plain.Run(ctx, feeds)
	if err != nil {
		t.Fatal(err)
	}
	for _, o := range fused.Outputs() {
		scale := 0.0
		for i := 0; i < b[o.Name].Len(); i++ {
			scale = math.Max(scale, math.Abs(b[o.Name].Float64At(i)))
		}
		d, err := maxAbsDiff(a[o.Name], b[o.Name], false)
		if err != nil {
			t.Fatalf("%s: %v", o.Name, err)
		}
		if !within(d, tol*math.Max(scale, 1)) {
			t.Errorf("%s: fused differs from unfused by %g (scale %g)", o.Name, d, scale)
		}
	}
	var plan *graph.Plan
	for _, e := range fused.plans {
		plan = e.plan
	}
	return fused.fusionStats(), plan
}

// attentionOpts vary the self-attention block of attentionModel.
type attentionOpts struct {
	noKBias     bool // K's projection has no bias Add
	mask        bool // an additive [B, 1, S, S] mask input
	keyMask     bool // with mask: [B, 1, 1, S] instead (a padding mask)
	vIsOutput   bool // V's projection is also a graph output
	qOtherInput bool // Q's projection reads a second input
	vResidual   bool // V's projection adds x (a residual, fused into its Linear)
	// qDiv scales Q by Div(q, 4) then Mul(·, 2) instead of one Mul(q,
	// 0.5): the same factor as an exporter may split it.
	qDiv bool
	// quantized writes the projections as an int8 export does: one
	// DynamicQuantizeLinear of x, then MatMulInteger → Cast → Mul(scale)
	// → Add(bias) per projection, with int8 weights, Q's zero point and
	// scale per tensor and K's and V's per column.
	quantized bool
}

// int8s returns an int8 initializer of the given dims with seeded values.
func int8s(rng *rand.Rand, name string, dims ...int64) *onnx.Tensor {
	n := int64(1)
	for _, d := range dims {
		n *= d
	}
	t := &onnx.Tensor{Name: name, DataType: onnx.Int8, Dims: dims, Int8: make([]int8, n)}
	for i := range t.Int8 {
		t.Int8[i] = int8(rng.Intn(255) - 127)
	}
	return t
}

// attentionModel is one multi-head self-attention block written the way
// torch.onnx.export writes Hugging Face CLIP's: three MatMul(+Add)
// projections of x, Q scaled by a Mul, each split into heads by
// Reshape → Transpose(0,2,1,3) → Reshape, Q·Kᵀ, optional additive mask
// (Reshape → Add → Reshape), Softmax, ·V and the heads merged back.
func attentionModel(o attentionOpts) *onnx.Model {
	const b, s, h, d = 2, 5, 2, 4
	const e = h * d
	rng := rand.New(rand.NewSource(7))
	scale := &onnx.Tensor{Name: "scale", DataType: onnx.Float, Float32: []float32{0.5}}
	inits := []*onnx.Tensor{
		floats(rng, "Wq", e, e), floats(rng, "Wk", e, e), floats(rng, "Wv", e, e),
		floats(rng, "bq", e), floats(rng, "bk", e), floats(rng, "bv", e), scale,
		ints("heads4", b, s, h, d), ints("heads3", b*h, s, d), ints("scores4", b, h, s, s),
		ints("scores3", b*h, s, s), ints("merged4", b, h, s, d), ints("merged", b, s, e),
	}
	inputs := []*onnx.ValueInfo{vinfo("x", onnx.Float, b, s, e)}
	outputs := []*onnx.ValueInfo{vinfo("y", onnx.Float, b, s, e)}
	nd := func(op string, in []string, out string, attrs ...*onnx.Attribute) *onnx.Node {
		return &onnx.Node{Name: out + "_" + op, OpType: op, Inputs: in, Outputs: []string{out}, Attributes: attrs}
	}
	var nodes []*onnx.Node
	if o.quantized {
		inits = append(inits, int8s(rng, "Qq", e, e), int8s(rng, "Qk", e, e), int8s(rng, "Qv", e, e),
			int8s(rng, "zq"), int8s(rng, "zk", e), int8s(rng, "zv", e),
			&onnx.Tensor{Name: "sq", DataType: onnx.Float, Float32: []float32{0.01}})
		sk, sv := floats(rng, "sk", e), floats(rng, "sv", e)
		for i := range sk.Float32 {
			sk.Float32[i], sv.Float32[i] = 0.02+0.01*sk.Float32[i], 0.02+0.01*sv.Float32[i]
		}
		inits = append(inits, sk, sv)
		nodes = append(nodes, &onnx.Node{Name: "quantize_x", OpType: "DynamicQuantizeLinear",
			Inputs: []string{"x"}, Outputs: []string{"xq", "xs", "xz"}})
	}
	proj := func(p, src string, bias bool) string {
		if o.quantized {
			nodes = append(nodes,
				nd("MatMulInteger", []string{src + "q", "Q" + p, src + "z", "z" + p}, p+"i"),
				nd("Cast", []string{p + "i"}, p+"f", attrInt("to", int64(onnx.Float))),
				nd("Mul", []string{src + "s", "s" + p}, p+"scale"),
				nd("Mul", []string{p + "f", p + "scale"}, p+"0"))
		} else {
			nodes = append(nodes, nd("MatMul", []string{src, "W" + p}, p+"0"))
		}
		if !bias {
			return p + "0"
		}
		nodes = append(nodes, nd("Add", []string{p + "0", "b" + p}, p+"1"))
		return p + "1"
	}
	split := func(v, p string) string {
		nodes = append(nodes,
			nd("Reshape", []string{v, "heads4"}, p+"r4"),
			nd("Transpose", []string{p + "r4"}, p+"t", attrInts("perm", 0, 2, 1, 3)),
			nd("Reshape", []string{p + "t", "heads3"}, p+"3"))
		return p + "3"
	}
	qsrc := "x"
	if o.qOtherInput {
		qsrc = "x2"
		inputs = append(inputs, vinfo("x2", onnx.Float, b, s, e))
	}
	q := proj("q", qsrc, true)
	if o.qDiv {
		inits = append(inits, &onnx.Tensor{Name: "four", DataType: onnx.Float, Float32: []float32{4}},
			&onnx.Tensor{Name: "two", DataType: onnx.Float, Float32: []float32{2}})
		nodes = append(nodes, nd("Div", []string{q, "four"}, "qd"), nd("Mul", []string{"two", "qd"}, "qs"))
	} else {
		nodes = append(nodes, nd("Mul", []string{q, "scale"}, "qs"))
	}
	k := proj("k", "x", !o.noKBias)
	v := proj("v", "x", true)
	if o.vResidual {
		nodes = append(nodes, nd("Add", []string{v, "x"}, "vres"))
		v = "vres"
	}
	if o.vIsOutput {
		outputs = append(outputs, vinfo(v, onnx.Float, b, s, e))
	}
	q3, k3, v3 := split("qs", "q"), split(k, "k"), split(v, "v")
	nodes = append(nodes,
		nd("Transpose", []string{k3}, "kT", attrInts("perm", 0, 2, 1)),
		nd("MatMul", []string{q3, "kT"}, "scores"))
	scores := "scores"
	if o.mask {
		if o.keyMask {
			inputs = append(inputs, vinfo("mask", onnx.Float, b, 1, 1, s))
		} else {
			inputs = append(inputs, vinfo("mask", onnx.Float, b, 1, s, s))
		}
		nodes = append(nodes,
			nd("Reshape", []string{"scores", "scores4"}, "s4"),
			nd("Add", []string{"s4", "mask"}, "s4m"),
			nd("Reshape", []string{"s4m", "scores3"}, "masked"))
		scores = "masked"
	}
	nodes = append(nodes,
		nd("Softmax", []string{scores}, "p", attrInt("axis", -1)),
		nd("MatMul", []string{"p", v3}, "o3"),
		nd("Reshape", []string{"o3", "merged4"}, "o4"),
		nd("Transpose", []string{"o4"}, "ot", attrInts("perm", 0, 2, 1, 3)),
		nd("Reshape", []string{"ot", "merged"}, "y"))
	return &onnx.Model{IRVersion: 8, OpsetImports: []onnx.OpsetImport{{Version: 14}}, Graph: &onnx.Graph{
		Inputs: inputs, Outputs: outputs, Initializers: inits, Nodes: nodes,
	}}
}

// randomFeeds fills every input of m with seeded values in [-1, 1).
func randomFeeds(m *onnx.Model) map[string]*Tensor {
	rng := rand.New(rand.NewSource(3))
	feeds := map[string]*Tensor{}
	for _, in := range m.Graph.Inputs {
		var sh []int
		for _, d := range in.Shape {
			sh = append(sh, int(d.Value))
		}
		t := graph.NewTensor(onnx.Float, sh)
		for i := range t.Float32 {
			t.Float32[i] = float32(rng.Float64()*2 - 1)
		}
		feeds[in.Name] = t
	}
	return feeds
}

// TestQKVFusionMatchesUnfused checks the Q, K, V projection fusion on
// synthetic attention blocks: where it applies, the plan is one Linear of
// triple width feeding a packed attention and the outputs equal the
// unfused graph's; where a projection reads another input, adds a
// residual or its output is needed elsewhere, it does not apply.
func TestQKVFusionMatchesUnfused(t *testing.T) {
	for _, c := range []struct {
		name  string
		opts  attentionOpts
		fuses bool
	}{
		{"biases and mask", attentionOpts{mask: true}, true},
		{"K without bias", attentionOpts{noKBias: true}, true},
		{"padding mask", attentionOpts{mask: true, keyMask: true}, true},
		{"V also an output", attentionOpts{vIsOutput: true}, false},
		{"Q from another input", attentionOpts{qOtherInput: true, mask: true}, false},
		{"V with a residual", attentionOpts{vResidual: true}, false},
		{"int8, K without bias", attentionOpts{quantized: true, noKBias: true, mask: true}, true},
		{"Q scaled by a Div and a Mul", attentionOpts{qDiv: true, mask: true}, true},
	} {
		t.Run(c.name, func(t *testing.T) {
			m := attentionModel(c.opts)
			stats, plan := compareFusion(t, m, randomFeeds(m))
			if stats["Attention"] != 1 {
				t.Fatalf("the attention block was not fused: %v", stats)
			}
			kind, linear, parts := "QKVLinear", graph.OpLinear, graph.NumLinearParts
			if c.opts.quantized {
				kind, linear, parts = "QKVQLinear", graph.OpQLinear, graph.NumQLinearParts
			}
			if got := stats[kind] == 1; got != c.fuses {
				t.Fatalf("%s fusion made: %v, want %v (%v)", kind, got, c.fuses, stats)
			}
			if !c.fuses {
				return
			}
			var ops []string
			for _, s := range plan.Steps {
				ops = append(ops, s.Node.Op)
			}
			if c.opts.quantized {
				ops = ops[1:] // DynamicQuantizeLinear
			}
			if len(ops) != 2 || ops[0] != linear || ops[1] != graph.OpAttention {
				t.Fatalf("fused plan runs %v, want [%s %s]", ops, linear, graph.OpAttention)
			}
			lin, att := plan.Steps[len(plan.Steps)-2], plan.Steps[len(plan.Steps)-1]
			if parts(lin) != 3 || !sameShape(lin.Out[0].Shape, []int{2, 5, 24}) {
				t.Errorf("QKV projection has %d parts and output %v, want 3 and [2 5 24]", parts(lin), lin.Out[0].Shape)
			}
			if att.In[0] != lin.Out[0] || att.In[1] != nil || att.In[2] != nil {
				t.Errorf("attention does not read the packed QKV output: %v", att.In)
			}
		})
	}
}

// patchModel is a patch-embedding Conv (kernel kh×kw, stride sh×sw,
// pads) on x [2, 2, 7, 9], flattened and transposed to tokens, as
// Hugging Face's ViT embeddings export it.
func patchModel(kh, kw, sh, sw int64, pad int64, bias bool) *onnx.Model {
	const b, c, h, w, m = 2, 2, 7, 9, 5
	rng := rand.New(rand.NewSource(11))
	oh, ow := (h+2*pad-kh)/sh+1, (w+2*pad-kw)/sw+1
	inits := []*onnx.Tensor{floats(rng, "W", m, c, kh, kw), ints("flat", b, m, -1)}
	convIn := []string{"x", "W"}
	if bias {
		inits = append(inits, floats(rng, "B", m))
		convIn = append(convIn, "B")
	}
	nodes := []*onnx.Node{
		{Name: "conv", OpType: "Conv", Inputs: convIn, Outputs: []string{"c"}, Attributes: []*onnx.Attribute{
			attrInts("kernel_shape", kh, kw), attrInts("strides", sh, sw), attrInts("pads", pad, pad, pad, pad)}},
		{Name: "flatten", OpType: "Reshape", Inputs: []string{"c", "flat"}, Outputs: []string{"f"}},
		{Name: "tokens", OpType: "Transpose", Inputs: []string{"f"}, Outputs: []string{"y"}, Attributes: []*onnx.Attribute{attrInts("perm", 0, 2, 1)}},
	}
	return &onnx.Model{IRVersion: 8, OpsetImports: []onnx.OpsetImport{{Version: 14}}, Graph: &onnx.Graph{
		Inputs:       []*onnx.ValueInfo{vinfo("x", onnx.Float, b, c, h, w)},
		Outputs:      []*onnx.ValueInfo{vinfo("y", onnx.Float, b, int(oh*ow), m)},
		Initializers: inits, Nodes: nodes,
	}}
}

// TestPatchEmbedFusionMatchesUnfused checks the patch-embedding fusion on
// synthetic Conv → Reshape → Transpose chains: with non-square patches
// that leave pixels over (7×9 in 2×3 patches), with and without a bias,
// it replaces the three steps and matches the unfused graph; overlapping
// or padded convolutions are left alone.
func TestPatchEmbedFusionMatchesUnfused(t *testing.T) {
	for _, c := range []struct {
		name                string
		kh, kw, sh, sw, pad int64
		bias, fuses         bool
	}{
		{"2x3 patches with bias", 2, 3, 2, 3, 0, true, true},
		{"3x3 patches without bias", 3, 3, 3, 3, 0, false, true},
		{"overlapping", 3, 3, 2, 2, 0, true, false},
		{"padded", 2, 3, 2, 3, 1, false, false},
	} {
		t.Run(c.name, func(t *testing.T) {
			m := patchModel(c.kh, c.kw, c.sh, c.sw, c.pad, c.bias)
			stats, plan := compareFusion(t, m, randomFeeds(m))
			if got := stats["PatchEmbed"] == 1; got != c.fuses {
				t.Fatalf("PatchEmbed fusion made: %v, want %v (%v)", got, c.fuses, stats)
			}
			if c.fuses && (len(plan.Steps) != 1 || plan.Steps[0].Node.Op != graph.OpPatchEmbed) {
				t.Fatalf("fused plan has %d steps, want one %s", len(plan.Steps), graph.OpPatchEmbed)
			}
		})
	}
}

// normModel is a LayerNormalization (over the last axis, or the last two)
// of x [2, 5, 8] feeding a MatMul+Add, optionally also a graph output, in
// float32 or (values and weights) float16.
func normModel(lastAxis, normIsOutput bool, dt onnx.DataType) *onnx.Model {
	rng := rand.New(rand.NewSource(5))
	init := floats
	if dt == onnx.Float16 {
		init = halves
	}
	axis := int64(-1)
	scale := init(rng, "gamma", 8)
	beta := init(rng, "beta", 8)
	if !lastAxis {
		axis = -2
		scale, beta = init(rng, "gamma", 5, 8), init(rng, "beta", 5, 8)
	}
	outputs := []*onnx.ValueInfo{vinfo("y", dt, 2, 5, 6)}
	if normIsOutput {
		outputs = append(outputs, vinfo("n", dt, 2, 5, 8))
	}
	return &onnx.Model{IRVersion: 8, OpsetImports: []onnx.OpsetImport{{Version: 17}}, Graph: &onnx.Graph{
		Inputs:       []*onnx.ValueInfo{vinfo("x", dt, 2, 5, 8)},
		Outputs:      outputs,
		Initializers: []*onnx.Tensor{scale, beta, init(rng, "W", 8, 6), init(rng, "b", 6)},
		Nodes: []*onnx.Node{
			{Name: "norm", OpType: "LayerNormalization", Inputs: []string{"x", "gamma", "beta"}, Outputs: []string{"n"},
				Attributes: []*onnx.Attribute{attrInt("axis", axis), {Name: "epsilon", Type: onnx.AttrFloat, F: 1e-3}}},
			{Name: "proj", OpType: "MatMul", Inputs: []string{"n", "W"}, Outputs: []string{"p"}},
			{Name: "bias", OpType: "Add", Inputs: []string{"p", "b"}, Outputs: []string{"y"}},
		},
	}}
}

// TestNormLinearFusionMatchesUnfused checks that a last-axis LayerNorm
// read only by a Linear becomes that Linear's prologue (one step, same
// outputs as the unfused graph), and that one whose output is needed
// elsewhere, or that normalises more than the last axis, stays a step.
func TestNormLinearFusionMatchesUnfused(t *testing.T) {
	for _, c := range []struct {
		name                 string
		lastAxis, out, fuses bool
	}{
		{"last axis", true, false, true},
		{"output also read", true, true, false},
		{"last two axes", false, false, false},
	} {
		t.Run(c.name, func(t *testing.T) {
			m := normModel(c.lastAxis, c.out, onnx.Float)
			stats, plan := compareFusion(t, m, randomFeeds(m))
			if got := stats["NormLinear"] == 1; got != c.fuses {
				t.Fatalf("NormLinear fusion made: %v, want %v (%v)", got, c.fuses, stats)
			}
			if c.fuses && (len(plan.Steps) != 1 || plan.Steps[0].Node.Op != graph.OpLinear || plan.Steps[0].In[0] != plan.Inputs[0]) {
				t.Fatalf("fused plan has %d steps, want one %s reading x", len(plan.Steps), graph.OpLinear)
			}
		})
	}
}

// halves is floats as a float16 initializer.
func halves(rng *rand.Rand, name string, dims ...int64) *onnx.Tensor {
	f := floats(rng, name, dims...)
	t := &onnx.Tensor{Name: name, DataType: onnx.Float16, Dims: dims, Float16: make([]uint16, len(f.Float32))}
	for i, v := range f.Float32 {
		t.Float16[i] = onnx.Float32ToFloat16(v)
	}
	return t
}

// TestNormLinearFloat16 checks the float16 LayerNorm prologue
// (Params.NormHalf) bit for bit: in an _fp16-style graph (float16 input,
// weights and values) the Linear reading its LayerNorm as a prologue gives
// the same y as when the LayerNorm must stay a step (its output is also a
// graph output), whose output the engine stores rounded to float16. A
// prologue that skipped the rounding reads other values and fails.
func TestNormLinearFloat16(t *testing.T) {
	ctx := context.Background()
	x := graph.NewTensor(onnx.Float, []int{2, 5, 8})
	rng := rand.New(rand.NewSource(9))
	for i := range x.Float32 {
		x.Float32[i] = float32(rng.NormFloat64()*3 + 1)
	}
	var ys [2]*Tensor
	for i, normIsOutput := range []bool{false, true} {
		s, err := NewSession(ctx, normModel(true, normIsOutput, onnx.Float16), Options{})
		if err != nil {
			t.Fatal(err)
		}
		out, err := s.Run(ctx, map[string]*Tensor{"x": x}, "y")
		if err != nil {
			t.Fatal(err)
		}
		var plan *graph.Plan
		for _, e := range s.plans {
			plan = e.plan
		}
		s.Close()
		var lin *graph.Step
		for _, st := range plan.Steps {
			if st.Node.Op == graph.OpLinear {
				lin = st
			}
		}
		if lin == nil || lin.P.NormHalf != !normIsOutput || len(plan.Steps) != 1+i {
			t.Fatalf("normIsOutput=%v: %d steps, Linear %v, want the LayerNorm folded with NormHalf only when y alone reads it", normIsOutput, len(plan.Steps), lin)
		}
		ys[i] = out["y"]
	}
	for i, v := range ys[0].Float32 {
		if w := ys[1].Float32[i]; math.Float32bits(v) != math.Float32bits(w) {
			t.Fatalf("y[%d] = %g with the prologue, %g with the LayerNorm step", i, v, w)
		}
	}
}
