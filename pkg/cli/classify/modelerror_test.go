package classify_test

import (
	"strings"
	"testing"

	"github.com/clip-go/clip/internal/testmodels"
)

// An engine failure is the model's, not the images': exit 4 with the
// engine's message, whatever --max-errors says, and no error record per image.
func TestClassifyEngineFailureExits4(t *testing.T) {
	model := testmodels.RuntimeFailure(t)
	imgs := shapeImages(t)[:3]
	for _, extra := range [][]string{nil, {"--max-errors", "1000", "--expect", "a"}} {
		args := append([]string{"classify", "--model", model, "--labels", "a,b", "--format", "jsonl"}, extra...)
		r := run(t, t.TempDir(), "", append(args, imgs...)...)
		if r.code != 4 {
			t.Errorf("%v: exit %d, want 4\nstderr: %s", extra, r.code, r.stderr)
		}
		if !strings.Contains(r.stderr, "vision_model.onnx") || !strings.Contains(r.stderr, "Reshape") {
			t.Errorf("%v: stderr does not name the model file and the failing op:\n%s", extra, r.stderr)
		}
		if n := len(records(t, r.stdout)); n != 0 {
			t.Errorf("%v: %d records written, want none (no image was at fault)\n%s", extra, n, r.stdout)
		}
	}
}
