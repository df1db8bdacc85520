package classify_test

import (
	"bytes"
	"math"
	"os"
	"path/filepath"
	"testing"

	"github.com/clip-go/clip/internal/testmodels"
)

// M-CLIP in immich's layout end to end, with labels in English, German,
// Russian, Chinese and Japanese: the family's default template (the label
// alone), the XLM-R tokenizer, padding to the graph's fixed 77 and its
// batch of one reproduce onnxruntime's probabilities within 1e-5, and the
// best label is the reference's.
func TestClassifyMCLIPMatchesReference(t *testing.T) {
	model, g := testmodels.TinyMCLIP(t)
	var files []string
	for _, im := range g.Images {
		files = append(files, im.File)
	}
	for _, lang := range []string{"en", "de", "ru", "zh", "ja"} {
		ref, ok := g.Languages[lang]
		if !ok {
			t.Fatalf("golden has no %s labels", lang)
		}
		t.Run(lang, func(t *testing.T) {
			recs := classifyShapes(t, model, ref.Labels, files)
			var maxDiff float64
			correct := 0
			for i, im := range g.Images {
				got := map[string]float64{}
				for _, s := range recs[i].Labels {
					got[s.Label] = s.Probability
				}
				best := 0
				for j, l := range ref.Labels {
					p := ref.Probabilities[i][j]
					if p > ref.Probabilities[i][best] {
						best = j
					}
					d := math.Abs(got[l] - p)
					maxDiff = math.Max(maxDiff, d)
					if d > 1e-5 {
						t.Errorf("%s: P(%s) = %.7f, onnxruntime %.7f", im.File, l, got[l], p)
					}
				}
				if recs[i].Label != ref.Labels[best] {
					t.Errorf("%s: best %q, reference %q", im.File, recs[i].Label, ref.Labels[best])
				}
				if recs[i].Label == ref.Labels[indexOf(g.Languages["en"].Labels, im.Label)] {
					correct++
				}
			}
			t.Logf("%s: max |P - P_onnxruntime| %.2g; top-1 %d/%d", lang, maxDiff, correct, len(g.Images))
		})
	}
}

func indexOf(xs []string, x string) int {
	for i, v := range xs {
		if v == x {
			return i
		}
	}
	return 0
}

// A graph that declares a fixed batch of two (the tiny M-CLIP's vision
// tower with its input and output shapes rewritten from [1, …] to [2, …])
// runs in chunks of exactly two, the last one filled up, whatever
// --batch-size asks: the probabilities stay onnxruntime's.
func TestClassifyFixedBatchTwo(t *testing.T) {
	src, g := testmodels.TinyMCLIP(t)
	dir := t.TempDir()
	for _, f := range []string{"config.json", "visual/preprocess_cfg.json", "visual/model.onnx", "textual/model.onnx",
		"textual/tokenizer.json", "textual/tokenizer_config.json", "textual/special_tokens_map.json"} {
		b, err := os.ReadFile(filepath.Join(src, f))
		if err != nil {
			t.Fatal(err)
		}
		if f == "visual/model.onnx" {
			// TensorShapeProto dims as protobuf writes them: field 1, length
			// 2, dim_value varint. Batch 1 → 2 in the input [1,3,32,32] and
			// the output [1,32]; each pattern occurs once.
			for _, dims := range [][]byte{{1, 3, 32, 32}, {1, 32}} {
				var from, to []byte
				for i, d := range dims {
					v := d
					if i == 0 {
						v = 2
					}
					from = append(from, 0x0a, 2, 8, d)
					to = append(to, 0x0a, 2, 8, v)
				}
				if bytes.Count(b, from) != 1 {
					t.Fatalf("shape %v occurs %d times in %s", dims, bytes.Count(b, from), f)
				}
				b = bytes.Replace(b, from, to, 1)
			}
		}
		if err := os.MkdirAll(filepath.Dir(filepath.Join(dir, f)), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, f), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	ref := g.Languages["en"]
	var files []string
	for _, im := range g.Images[:7] { // 7 images in batches of 3: chunks 2+1(+filler), 2+1, 1(+filler)
		files = append(files, im.File)
	}
	recs := classifyShapes(t, dir, ref.Labels, files, "--batch-size", "3")
	for i, im := range g.Images[:7] {
		got := map[string]float64{}
		for _, s := range recs[i].Labels {
			got[s.Label] = s.Probability
		}
		for j, l := range ref.Labels {
			if d := math.Abs(got[l] - ref.Probabilities[i][j]); d > 1e-5 {
				t.Errorf("%s: P(%s) = %.7f, onnxruntime %.7f", im.File, l, got[l], ref.Probabilities[i][j])
			}
		}
	}
}
