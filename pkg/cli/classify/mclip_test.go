package classify_test

import (
	"math"
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
