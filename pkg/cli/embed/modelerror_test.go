package embed_test

import (
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
