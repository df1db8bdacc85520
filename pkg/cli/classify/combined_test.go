package classify_test

import (
	"math"
	"testing"

	"github.com/clip-go/clip/internal/testmodels"
)

// A model directory with only the combined export (onnx/model.onnx), as the
// README allows, classifies as the split export does.
func TestClassifyCombinedExportAlone(t *testing.T) {
	combined := testmodels.TinyShapesWith(t, "onnx/model.onnx")
	imgs := shapeImages(t)[:4]
	args := append([]string{"classify", "--labels", "red circle,blue square,green cross", "--format", "jsonl"}, imgs...)
	got := run(t, t.TempDir(), "", append([]string{"--model", combined}, args...)...)
	want := run(t, t.TempDir(), "", append([]string{"--model", tinyModel(t)}, args...)...)
	if got.code != 0 || want.code != 0 {
		t.Fatalf("exit %d (combined), %d (split)\nstderr: %s", got.code, want.code, got.stderr)
	}
	g, w := records(t, got.stdout), records(t, want.stdout)
	if len(g) != len(imgs) || len(w) != len(imgs) {
		t.Fatalf("%d and %d records, want %d", len(g), len(w), len(imgs))
	}
	for i := range w {
		if g[i].Label != w[i].Label {
			t.Errorf("%s: label %q, split export gives %q", w[i].File, g[i].Label, w[i].Label)
		}
		for j := range w[i].Labels {
			if d := math.Abs(g[i].Labels[j].Probability - w[i].Labels[j].Probability); !(d <= 1e-5) {
				t.Errorf("%s: %s probability %g, split export gives %g", w[i].File, w[i].Labels[j].Label, g[i].Labels[j].Probability, w[i].Labels[j].Probability)
			}
		}
	}
}
