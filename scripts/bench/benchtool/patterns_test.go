package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// newResultDir makes a results directory as run.sh leaves it: env.txt
// holding env, and an empty onnx/.
func newResultDir(t *testing.T, env string) string {
	t.Helper()
	dir := t.TempDir()
	if err := os.MkdirAll(filepath.Join(dir, "onnx"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "env.txt"), []byte(env), 0o644); err != nil {
		t.Fatal(err)
	}
	return dir
}

func writeResult(t *testing.T, dir, name, body string) {
	t.Helper()
	if err := os.WriteFile(filepath.Join(dir, "onnx", name), []byte(body), 0o644); err != nil {
		t.Fatal(err)
	}
}

// TestPatternsSection checks the exporter-pattern rows against numbers
// worked out by hand from the result files: per-item medians over rounds,
// the ratio to onnxruntime, and the time and allocation ratios to our own
// export's row of the same tower (the fastest runs' too), or for the
// time, when our export was timed in the pattern's own rounds, the median
// of the rounds' ratios and the ratio of the fastest runs of those rounds.
func TestPatternsSection(t *testing.T) {
	dir := newResultDir(t, "pattern_dir=bench-models/exporter-patterns-b32\n")
	// Our export: 50 ms/item (400 ms for 8), 250 allocs.
	writeResult(t, dir, "vision_b8.ours.1.json", `{"batch":8,"median_ms":400,"min_ms":390,"allocs_per_run":250,"gflops":8.8}`)
	// The OpenCLIP vision export: rounds of 52 and 58 ms/item (median 55),
	// 300 allocs; onnxruntime 66 ms/item, timed in round 1 only: paired
	// with that round, 66/52 = 1.27× (the medians' ratio, 66/55, would say
	// 1.20×); fastest runs 520 against 410, 1.27×.
	writeResult(t, dir, "pattern_openclip_vision_model_b8.ours.1.json", `{"batch":8,"median_ms":416,"min_ms":410,"allocs_per_run":300,"gflops":8.8}`)
	writeResult(t, dir, "pattern_openclip_vision_model_b8.ours.2.json", `{"batch":8,"median_ms":464,"min_ms":450,"allocs_per_run":300,"gflops":8.8}`)
	writeResult(t, dir, "pattern_openclip_vision_model_b8.ort.1.json", `{"batch":8,"median_ms":528,"min_ms":520}`)
	// An int8 pattern is compared with our int8 export (25 ms/item, 500
	// allocs), not the fp32 one: 27.5 ms/item, 550 allocs; onnxruntime 30
	// (1.09×; fastest runs 230 against 210, 1.10×).
	writeResult(t, dir, "vision_quantized_b8.ours.1.json", `{"batch":8,"median_ms":200,"min_ms":190,"allocs_per_run":500,"gflops":8.8}`)
	writeResult(t, dir, "pattern_hf4d_vision_model_quantized_b8.ours.1.json", `{"batch":8,"median_ms":220,"min_ms":210,"allocs_per_run":550,"gflops":8.8}`)
	writeResult(t, dir, "pattern_hf4d_vision_model_quantized_b8.ort.1.json", `{"batch":8,"median_ms":240,"min_ms":230}`)
	// A text pattern with no text row of our export: no ratios to it.
	writeResult(t, dir, "pattern_openclip_text_model_b8.ours.1.json", `{"batch":8,"median_ms":240,"min_ms":230,"allocs_per_run":100,"gflops":5.8}`)
	// The SDPA export with our export timed in the same rounds: 1.05,
	// 0.99 and 1.02 of it (median 1.02), where our export's row above
	// (50 ms/item) would give 57.375/50 = 1.15; fastest runs 400 against
	// 380 (1.05).
	for i, pair := range [][2]string{{"400", "420"}, {"500", "495"}, {"450", "459"}} {
		round := string(rune('1' + i))
		writeResult(t, dir, "pattern_sdpa_vision_model_b8.own."+round+".json", `{"batch":8,"median_ms":`+pair[0]+`,"min_ms":380,"allocs_per_run":250,"gflops":8.8}`)
		writeResult(t, dir, "pattern_sdpa_vision_model_b8.ours."+round+".json", `{"batch":8,"median_ms":`+pair[1]+`,"min_ms":400,"allocs_per_run":250,"gflops":8.8}`)
	}

	out, err := buildReport(dir)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{
		"## Exporter patterns: other exporters' graphs vs onnxruntime",
		"| vision | 55.0 | 66.0 | **1.27×** | 1.27× | 160.0 | 300 | 1.10 | 1.05 | 1.20 |",
		"| text (77 tokens) | 30.0 | — | — | — | 193.3 | 100 | — | — | — |",
		"| vision, int8 | 27.5 | 30.0 | **1.09×** | 1.10× | 320.0 | 550 | 1.10 | 1.11 | 1.10 |",
		"text: scale given, float causal mask added), opset 14 | vision | 57.4 | — | — | — | 153.4 | 250 | 1.02 | 1.05 | 1.00 |",
		"| OpenCLIP vision | 8 | 52.0, 58.0 | 66.0 |",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("report lacks %q:\n%s", want, out)
		}
	}

	// Without pattern results the section is left out.
	for _, f := range []string{"pattern_openclip_vision_model_b8.ours.1.json", "pattern_openclip_vision_model_b8.ours.2.json",
		"pattern_openclip_vision_model_b8.ort.1.json", "pattern_openclip_text_model_b8.ours.1.json",
		"pattern_hf4d_vision_model_quantized_b8.ours.1.json", "pattern_hf4d_vision_model_quantized_b8.ort.1.json"} {
		os.Remove(filepath.Join(dir, "onnx", f))
	}
	sdpa, _ := filepath.Glob(filepath.Join(dir, "onnx", "pattern_sdpa_*.json"))
	for _, f := range sdpa {
		os.Remove(f)
	}
	out, err = buildReport(dir)
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(out, "Exporter patterns") {
		t.Errorf("report has an exporter-pattern section without results:\n%s", out)
	}
}

// TestPatternsSameFloatWork checks the paragraph after the patterns table:
// ours on an OpenCLIP int8 file ÷ ours on our int8 export with the same
// float work (NAME.same.R.json), timed in the same rounds, from numbers
// worked out by hand.
func TestPatternsSameFloatWork(t *testing.T) {
	dir := newResultDir(t, "pattern_dir=bench-models/exporter-patterns-b32\n")
	// Vision, three rounds: 210/200 = 1.05, 220/220 = 1.00, 204/200 = 1.02,
	// median 1.02; fastest runs 198 (round 3) against 190 (round 1): 1.04.
	for i, x := range [][4]string{{"200", "190", "210", "200"}, {"220", "195", "220", "205"}, {"200", "192", "204", "198"}} {
		round := string(rune('1' + i))
		writeResult(t, dir, "pattern_openclip_vision_model_quantized_b8.own."+round+".json", `{"batch":8,"median_ms":180,"min_ms":175,"allocs_per_run":500,"gflops":8.8}`)
		writeResult(t, dir, "pattern_openclip_vision_model_quantized_b8.same."+round+".json", `{"batch":8,"median_ms":`+x[0]+`,"min_ms":`+x[1]+`,"allocs_per_run":500,"gflops":8.8}`)
		writeResult(t, dir, "pattern_openclip_vision_model_quantized_b8.ours."+round+".json", `{"batch":8,"median_ms":`+x[2]+`,"min_ms":`+x[3]+`,"allocs_per_run":500,"gflops":8.8}`)
	}
	// Text, one round: 168/160 = 1.05; fastest runs 160 against 150: 1.07.
	writeResult(t, dir, "pattern_openclip_text_model_quantized_b8.same.1.json", `{"batch":8,"median_ms":160,"min_ms":150,"allocs_per_run":400,"gflops":5.8}`)
	writeResult(t, dir, "pattern_openclip_text_model_quantized_b8.ours.1.json", `{"batch":8,"median_ms":168,"min_ms":160,"allocs_per_run":400,"gflops":5.8}`)
	// An int8 pattern without such runs has no line.
	writeResult(t, dir, "pattern_hf4d_vision_model_quantized_b8.ours.1.json", `{"batch":8,"median_ms":220,"min_ms":210,"allocs_per_run":550,"gflops":8.8}`)

	out, err := buildReport(dir)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{
		"quantizes only MatMul and Conv",
		"- OpenCLIP text (77 tokens), int8: **1.05** (fastest runs 1.07)\n- OpenCLIP vision, int8: **1.02** (fastest runs 1.04)\n",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("report lacks %q:\n%s", want, out)
		}
	}
	if strings.Contains(out, "HF 4-D eager vision, int8:") {
		t.Errorf("report has a same-float-work line for a pattern without such runs:\n%s", out)
	}

	// Without .same. results the paragraph is left out.
	same, _ := filepath.Glob(filepath.Join(dir, "onnx", "*.same.*.json"))
	for _, f := range same {
		os.Remove(f)
	}
	out, err = buildReport(dir)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out, "Exporter patterns") || strings.Contains(out, "quantizes only MatMul and Conv") {
		t.Errorf("report without .same. results: want the patterns section without the paragraph:\n%s", out)
	}
}

// TestSiglipRows checks that run.sh's siglip section lands in the ONNX table
// with its ratio to onnxruntime and in the per-round list, from numbers
// worked out by hand: vision 1600/8 = 200 ms/item vs 1760/8 = 220 (1.10×),
// text 400/8 = 50 vs 40 (0.80×).
func TestSiglipRows(t *testing.T) {
	dir := newResultDir(t, "threads=2\n")
	writeResult(t, dir, "siglip_vision_b8.ours.1.json", `{"batch":8,"median_ms":1600,"min_ms":1580,"gflops":35.2}`)
	writeResult(t, dir, "siglip_vision_b8.ort.1.json", `{"batch":8,"median_ms":1760,"min_ms":1740}`)
	writeResult(t, dir, "siglip_text_b8.ours.1.json", `{"batch":8,"median_ms":400,"min_ms":390,"gflops":10.9}`)
	writeResult(t, dir, "siglip_text_b8.ort.1.json", `{"batch":8,"median_ms":320,"min_ms":312}`)
	out, err := buildReport(dir)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{
		"| SigLIP base/16 vision fp32 (224 px) | 8 | 200.0 | 220.0 | **1.10×** |",
		"| SigLIP base/16 text fp32 (64 tokens) | 8 | 50.0 | 40.0 | **0.80×** |",
		"| SigLIP base/16 text fp32 (64 tokens) | 8 | 50.0 | 40.0 |\n",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("report lacks %q:\n%s", want, out)
		}
	}
}
