package engine

import (
	"context"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"
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
// fusion passes (LayerNorm, QuickGELU, Linear, Attention) and requires the
// same outputs within 1e-5 (relative to the output's scale; 4 half-
// precision ulps for the _fp16 files), and that the float32 towers did get
// fused.
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
				if strings.Contains(filepath.Base(f), "_fp16") {
					// The fused steps round to half precision once where
					// the op-by-op graph rounded after every op: allow 4
					// half-precision ulps (4·2⁻¹⁰) of the output's scale.
					tol = 4.0 / 1024
				}
				if d > tol*math.Max(scale, 1) {
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
		})
	}
}
