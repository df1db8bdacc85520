package embed_test

import (
	"math"
	"path/filepath"
	"strings"
	"testing"

	"github.com/clip-go/clip/internal/testmodels"
)

// An engine failure exits 4 with the engine's message, whatever
// --max-errors says, instead of one error record per image.
func TestEmbedEngineFailureExits4(t *testing.T) {
	model := testmodels.RuntimeFailure(t)
	img := filepath.Join(testmodels.Root(), "testdata", "shapes", "blue-circle-1.png")
	code, out, errOut := run(t, "embed", "--model", model, "--max-errors", "1000", "--format", "jsonl", img)
	if code != 4 || !strings.Contains(errOut, "Reshape") {
		t.Errorf("exit %d, want 4 with the engine's message\nstderr: %s", code, errOut)
	}
	if strings.Contains(out, `"error"`) {
		t.Errorf("an error record blames the image:\n%s", out)
	}
}

// A model directory with only the combined export embeds images and texts.
func TestEmbedCombinedExportAlone(t *testing.T) {
	combined := testmodels.TinyShapesWith(t, "onnx/model.onnx")
	img := filepath.Join(testmodels.Root(), "testdata", "shapes", "blue-circle-1.png")
	for _, args := range [][]string{{img}, {"--text", "a blue circle."}} {
		code, got, errOut := run(t, append([]string{"embed", "--model", combined, "--format", "jsonl"}, args...)...)
		_, want, _ := run(t, append([]string{"embed", "--model", tinyModel(t), "--format", "jsonl"}, args...)...)
		if code != 0 {
			t.Fatalf("%v: exit %d\nstderr: %s", args, code, errOut)
		}
		g, w := decode(t, got), decode(t, want)
		if len(g) != 1 || len(w) != 1 || len(g[0].Embedding) != len(w[0].Embedding) {
			t.Fatalf("%v: got %+v, want %+v", args, g, w)
		}
		for j := range w[0].Embedding {
			if d := math.Abs(float64(g[0].Embedding[j] - w[0].Embedding[j])); !(d <= 1e-5) {
				t.Fatalf("%v: dimension %d is %g, split export gives %g", args, j, g[0].Embedding[j], w[0].Embedding[j])
			}
		}
	}
}
