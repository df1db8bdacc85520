package classify_test

import (
	"encoding/json"
	"math"
	"os"
	"path/filepath"
	"testing"
)

// siglipGolden is testdata/golden/zeroshot/tiny-siglip.json, written by
// scripts/fixtures/make_tiny_siglip.py: Pillow squash preprocessing,
// SentencePiece ids padded with </s> to 64, onnxruntime-node on the
// combined onnx/model.onnx, probability = sigmoid(logits_per_image).
type siglipGolden struct {
	Labels   []string `json:"labels"`
	Template string   `json:"template"`
	Images   []struct {
		File          string    `json:"file"`
		Label         string    `json:"label"`
		HeldOut       bool      `json:"held_out"`
		Top1          string    `json:"top1"`
		Probabilities []float64 `json:"probabilities"`
	} `json:"images"`
}

func tinySiglip(t *testing.T) (string, siglipGolden) {
	t.Helper()
	dir := filepath.Join(repoRoot, "testdata", "models", "tiny-siglip")
	b, err := os.ReadFile(filepath.Join(repoRoot, "testdata", "golden", "zeroshot", "tiny-siglip.json"))
	if err != nil {
		t.Fatalf("golden: %v (run scripts/fixtures/make_tiny_siglip.py)", err)
	}
	var g siglipGolden
	if err := json.Unmarshal(b, &g); err != nil {
		t.Fatal(err)
	}
	return dir, g
}

// SigLIP end to end: the family, its default prompt ("This is a photo of
// {}."), fixed-length padding, squash preprocessing and per-label sigmoid
// scoring together reproduce onnxruntime's probabilities within 1e-5.
func TestClassifySiglipMatchesReference(t *testing.T) {
	model, g := tinySiglip(t)
	var files []string
	for _, im := range g.Images {
		files = append(files, im.File)
	}
	recs := classifyShapes(t, model, g.Labels, files)
	var maxDiff float64
	correct := map[bool][2]int{}
	for i, im := range g.Images {
		rec := recs[i]
		got := map[string]float64{}
		for _, s := range rec.Labels {
			got[s.Label] = s.Probability
		}
		for j, l := range g.Labels {
			d := math.Abs(got[l] - im.Probabilities[j])
			maxDiff = math.Max(maxDiff, d)
			if d > 1e-5 {
				t.Errorf("%s: P(%s) = %.7f, onnxruntime %.7f", im.File, l, got[l], im.Probabilities[j])
			}
		}
		if rec.Label != im.Top1 {
			t.Errorf("%s: best %q, onnxruntime's %q", im.File, rec.Label, im.Top1)
		}
		if rec.Probability == nil || *rec.Probability != rec.Labels[0].Probability {
			t.Errorf("%s: record probability is not the best label's own sigmoid probability", im.File)
		}
		c := correct[im.HeldOut]
		c[1]++
		if rec.Label == im.Label {
			c[0]++
		}
		correct[im.HeldOut] = c
	}
	t.Logf("max |P - P_onnxruntime| %.2g; top-1 seen %d/%d, held-out %d/%d", maxDiff,
		correct[false][0], correct[false][1], correct[true][0], correct[true][1])
}

// Each label's probability is its own: classifying against two of the
// labels gives those two the probabilities they had among all of them,
// and --threshold, --min-score and --top-k work on them.
func TestClassifySiglipLabelsIndependent(t *testing.T) {
	model, g := tinySiglip(t)
	im := g.Images[0]
	a, b := g.Labels[0], g.Labels[len(g.Labels)-1]
	file := filepath.Join(repoRoot, "testdata", "shapes", im.File)
	r := run(t, t.TempDir(), "", "classify", "--model", model, "--offline", "-q", "--no-cache",
		"--labels", a+","+b, "--top-k", "1", file)
	if r.code != 0 {
		t.Fatalf("exit %d: %s", r.code, r.stderr)
	}
	rec := records(t, r.stdout)[0]
	want := map[string]float64{a: im.Probabilities[0], b: im.Probabilities[len(g.Labels)-1]}
	if len(rec.Labels) != 1 || math.Abs(rec.Labels[0].Probability-want[rec.Labels[0].Label]) > 1e-5 {
		t.Fatalf("top-1 of two labels %+v, want the probability it has among all labels (%v)", rec.Labels, want)
	}
	best := rec.Labels[0].Probability
	r = run(t, t.TempDir(), "", "classify", "--model", model, "--offline", "-q", "--no-cache",
		"--labels", a+","+b, "--threshold", "0.9999999", "--min-score", "0.9999999", file)
	if rec := records(t, r.stdout)[0]; best < 0.9999999 && (rec.Label != "unknown" || r.code != 1) {
		t.Errorf("best probability %.6f below --threshold/--min-score: label %q, exit %d; want unknown, 1", best, rec.Label, r.code)
	}
}
