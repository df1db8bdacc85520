package main

import (
	"fmt"
	"math"
	"path/filepath"
	"slices"
	"strings"
)

// patternExporters describes each exporter pattern of
// scripts/fixtures/make_exporter_patterns.py by its file-name prefix.
var patternExporters = []struct{ prefix, short, how string }{
	{"fp16", "float16", "float16 (`_fp16.onnx`): our export converted as transformers.js makes its fp16 files (onnxconverter-common's convert_float_to_float16 with keep_io_types: float16 weights and values, Casts at the inputs and outputs), against our float32 export"},
	{"hf4d", "HF 4-D eager", "Hugging Face ≥ 4.48 eager: 4-D q·kᵀ on [batch, heads, tokens, dim] (text: causal mask built from the input's shape, added to the scores; symbolic sequence length), opset 14"},
	{"openclip", "OpenCLIP", "OpenCLIP: nn.MultiheadAttention (packed in_proj, sequence-first), erf GELU, opset 17 LayerNormalization"},
	{"nopattern", "no pattern", "no pattern fusion matches: our export with only the generic fusions (`--fusion generic`: elementwise chains), as a graph no pattern recognises runs"},
	{"uint8", "uint8 weights", "uint8 weights (`_uint8.onnx`; transformers.js's q8 `_quantized.onnx` of any graph with a Conv, CLIP's vision tower among them): our export quantized with QUInt8 weights, per column, reduce_range ([0, 127]), asymmetric, against our int8 (QInt8) export"},
	{"q4", "4-bit q4", "4-bit weights (`_q4.onnx`): our export as transformers.js makes its q4 files (onnxruntime's MatMul4BitsQuantizer: MatMulNBits, blocks of 32, symmetric; Conv and Gather stay float32), against our float32 export"},
	{"q4f16", "4-bit q4f16", "4-bit weights, float16 (`_q4f16.onnx`): the q4 file converted to float16 as transformers.js does, against our float32 export"},
	{"bnb4", "4-bit bnb4", "bitsandbytes NF4 weights (`_bnb4.onnx`): our export as transformers.js makes its bnb4 files (MatMulBnb4, NF4, blocks of 64), against our float32 export"},
	{"sdpa", "torch 2.x SDPA", "torch ≥ 2.0 scaled_dot_product_attention decomposition (√scale on q and k; text: scale given, float causal mask added), opset 14"},
}

// patternRuns lists the exporter-pattern comparisons run.sh made
// (onnx/pattern_<stem>_b8.{ours,ort}.R.json), sorted, as their names
// without the "pattern_" prefix and batch suffix.
func (r *report) patternRuns() []string {
	files, _ := filepath.Glob(filepath.Join(r.dir, "onnx", "pattern_*.json"))
	var stems []string
	for _, f := range files {
		name, _, _ := strings.Cut(filepath.Base(f), ".")
		stem := strings.TrimSuffix(strings.TrimPrefix(name, "pattern_"), "_b8")
		if !slices.Contains(stems, stem) {
			stems = append(stems, stem)
		}
	}
	slices.Sort(stems)
	return stems
}

// patternLabel names a pattern export's exporter (with how it writes the
// graph, or a short name) and tower from its stem (e.g.
// openclip_text_model).
func patternLabel(stem string, short bool) (exporter, tower string) {
	tower = "vision"
	if strings.Contains(stem, "_text_") {
		tower = "text (77 tokens)"
	}
	if strings.HasSuffix(stem, "_quantized") {
		tower += ", int8"
	}
	for _, p := range patternExporters {
		if strings.HasPrefix(stem, p.prefix+"_") && short {
			return p.short, tower
		}
		if strings.HasPrefix(stem, p.prefix+"_") {
			return p.how, tower
		}
	}
	return stem, tower
}

// patterns is the exporter-pattern section (issue 20): each other
// exporter's full-size export against onnxruntime on the same file, and
// against our own export's row of the same tower in the same run (time
// and Go allocations; the targets are ≥ 1.0× onnxruntime, within 5% of our
// export's time and 1.2× its allocations).
func (r *report) patterns() {
	stems := r.patternRuns()
	if len(stems) == 0 {
		return
	}
	r.p("## Exporter patterns: other exporters' graphs vs onnxruntime\n\n")
	r.p("Full-size random-weight ViT-B/32 towers written the way other exporters write them "+
		"(`scripts/fixtures/make_exporter_patterns.py --full`, in `%s`; int8: its `--quantize` files), batch 8, each timed like the table above "+
		"(same inputs for both runtimes, alternating rounds). **vs onnxruntime** = onnxruntime's ms/item ÷ ours on that file, "+
		"the median of the rounds' ratios (each round times both back to back); **best vs onnxruntime** likewise with each side's fastest run; "+
		"**time vs our export** = ours on the pattern ÷ ours on `make bench-models`' export of the same tower "+
		"(int8 against our int8 export; 1.00 = as fast), timed just before it in each round, median over rounds "+
		"(runs without those rounds: against our export's row above); **best vs our export** likewise with the fastest single runs "+
		"of those rounds, which other jobs on the machine disturb least; allocs against our export's row.\n\n", orDash(r.env["pattern_dir"]))
	r.p("| exporter | tower | ours ms/item | onnxruntime ms/item | vs onnxruntime | best vs onnxruntime | ours GFLOP/s | ours Go allocs/run | time vs our export | best vs our export | allocs vs our export |\n")
	r.p("|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n")
	for _, stem := range stems {
		s := r.onnxSummary("pattern_" + stem + "_b8")
		if s == nil {
			continue
		}
		exporter, tower := patternLabel(stem, false)
		// The same tower of our export, int8 for an int8 pattern.
		baseName := "vision"
		if strings.HasPrefix(tower, "text") {
			baseName = "text"
		}
		if strings.HasSuffix(stem, "_quantized") {
			baseName += "_quantized"
		}
		base := r.onnxSummary(baseName + "_b8")
		var baseMs, baseMin, baseAllocs float64
		if base != nil {
			baseMs, baseMin, baseAllocs = base.oursMs, base.oursMin, base.allocs
		}
		timeRatio, bestRatio := ratio(s.oursMs, baseMs, "%.2f"), ratio(s.oursMin, baseMin, "%.2f")
		// Ours on the pattern ÷ ours on our export timed just before it.
		if q, best := r.roundRatio("pattern_"+stem+"_b8", "ours", "own"); q > 0 {
			timeRatio, bestRatio = num(q, "%.2f"), num(best, "%.2f")
		}
		oursG := 0.0
		if s.oursMs > 0 {
			oursG = s.gflops / (s.oursMs / 1000)
		}
		vsOrt, bestOrt := ratio(s.ortMs, s.oursMs, "**%.2f×**"), ratio(s.ortMin, s.oursMin, "%.2f×")
		if q, best := r.roundRatio("pattern_"+stem+"_b8", "ort", "ours"); q > 0 {
			vsOrt, bestOrt = num(q, "**%.2f×**"), num(best, "%.2f×")
		}
		r.p("| %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s |\n", exporter, tower, num(s.oursMs, "%.1f"), num(s.ortMs, "%.1f"),
			vsOrt, bestOrt, num(oursG, "%.1f"), num(s.allocs, "%.0f"),
			timeRatio, bestRatio, ratio(s.allocs, baseAllocs, "%.2f"))
	}
	r.p("\n")
	r.sameFloatWork(stems)
}

// sameFloatWork follows the patterns table with the int8 patterns that
// run.sh also timed against our export with the same float work
// (<name>.same.R.json: our *_floatproj_quantized.onnx, beside the OpenCLIP
// int8 files), as the median of the rounds' ratios and the fastest runs'.
func (r *report) sameFloatWork(stems []string) {
	var lines []string
	for _, stem := range stems {
		q, best := r.roundRatio("pattern_"+stem+"_b8", "ours", "same")
		if q <= 0 {
			continue
		}
		exporter, tower := patternLabel(stem, true)
		lines = append(lines, fmt.Sprintf("- %s %s: **%.2f** (fastest runs %.2f)", exporter, tower, q, best))
	}
	if len(lines) == 0 {
		return
	}
	r.p("OpenCLIP's nn.MultiheadAttention writes each attention output projection as a `Gemm`, and onnxruntime's quantize_dynamic " +
		"quantizes only MatMul and Conv, so OpenCLIP's int8 files keep those projections (one per encoder layer, 12 in ViT-B/32) in float32, " +
		"where our int8 export, whose out_proj is a MatMul, quantizes them: part of their time against our int8 export above is that float work. " +
		"Against our `*_floatproj_quantized.onnx` export (`make_bench_models.py --quantize`: our int8 export with the same projections left float), " +
		"timed in the same rounds, ours on the OpenCLIP file ÷ ours on it (median of the rounds' ratios; 1.00 = as fast):\n\n")
	r.p("%s\n\n", strings.Join(lines, "\n"))
}

// roundRatio pairs the runs of <name>.<a>.R.json with <name>.<b>.R.json
// of the same round R (run.sh's onnx_pair runs them back to back) and
// returns the median over rounds of a's median time ÷ b's, and a's
// fastest run over those rounds ÷ b's fastest; 0, 0 without such pairs.
// The load of a shared machine moves between the sections of a run, much
// less within a round, so a ratio of one round's pair moves less than
// one side's median over all rounds divided by the other's.
func (r *report) roundRatio(name, a, b string) (median, best float64) {
	as, _ := filepath.Glob(filepath.Join(r.dir, "onnx", name+"."+a+".*.json"))
	var ratios []float64
	aMin, bMin := math.Inf(1), math.Inf(1)
	for _, f := range as {
		round := strings.TrimSuffix(strings.TrimPrefix(filepath.Base(f), name+"."+a+"."), ".json")
		x := readJSONs[onnxResult](f)
		y := readJSONs[onnxResult](filepath.Join(r.dir, "onnx", name+"."+b+"."+round+".json"))
		if len(x) == 1 && len(y) == 1 && x[0].MedianMs > 0 && y[0].MedianMs > 0 && x[0].MinMs > 0 && y[0].MinMs > 0 &&
			x[0].Batch == y[0].Batch {
			ratios = append(ratios, x[0].MedianMs/y[0].MedianMs)
			aMin, bMin = min(aMin, x[0].MinMs), min(bMin, y[0].MinMs)
		}
	}
	if len(ratios) == 0 {
		return 0, 0
	}
	return med(ratios), aMin / bMin
}
