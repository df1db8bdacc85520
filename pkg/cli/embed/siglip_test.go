package embed_test

import (
	"encoding/json"
	"math"
	"path/filepath"
	"strings"
	"testing"
)

// SigLIP's text tower pools the last position, so a text's embedding must
// not depend on what it is batched with: every text is padded to the
// tokenizer's fixed length (64), never to the batch's longest.
func TestEmbedSiglipTextIndependentOfBatch(t *testing.T) {
	model := filepath.Join(repoRoot, "testdata", "models", "tiny-siglip")
	short := "a red circle."
	long := strings.Repeat("a very long description of a purple triangle ", 3)
	embed := func(texts ...string) map[string][]float64 {
		code, out, errOut := run(t, append([]string{"embed", "--model", model, "--offline", "--text"}, texts...)...)
		if code != 0 {
			t.Fatalf("exit %d: %s", code, errOut)
		}
		got := map[string][]float64{}
		for _, line := range strings.Split(strings.TrimSpace(out), "\n") {
			var r struct {
				Text      string    `json:"text"`
				Embedding []float64 `json:"embedding"`
			}
			if err := json.Unmarshal([]byte(line), &r); err != nil {
				t.Fatalf("%v: %s", err, line)
			}
			got[r.Text] = r.Embedding
		}
		return got
	}
	alone := embed(short)[short]
	batched := embed(short, long)[short]
	if len(alone) == 0 || len(alone) != len(batched) {
		t.Fatalf("embeddings of %d and %d dimensions", len(alone), len(batched))
	}
	for i := range alone {
		// Kernels may sum in another order for another batch size; a
		// different padding moves the embedding by far more.
		if math.Abs(alone[i]-batched[i]) > 1e-5 {
			t.Fatalf("dimension %d: %v alone, %v batched with a longer text", i, alone[i], batched[i])
		}
	}
}
