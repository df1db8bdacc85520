package testmodels

import (
	"encoding/json"
	"os"
	"path/filepath"
	"testing"
)

// MCLIPGolden is testdata/golden/zeroshot/tiny-mclip.json, written by
// scripts/fixtures/make_tiny_mclip.py without clip: per language, the
// labels, their ids (SentencePiece in XLM-R's numbering, padded to 77 with
// <pad> as immich pads), their text embeddings (onnxruntime-node, one text
// per run) and, per PNG of testdata/shapes, softmax(100 × cosine) over the
// language's labels.
type MCLIPGolden struct {
	Template string `json:"template"`
	Images   []struct {
		File    string `json:"file"`
		Label   string `json:"label"`
		HeldOut bool   `json:"held_out"`
	} `json:"images"`
	Languages map[string]struct {
		Labels         []string    `json:"labels"`
		IDs            [][]int     `json:"ids"`
		TextEmbeddings [][]float32 `json:"text_embeddings"`
		Probabilities  [][]float64 `json:"probabilities"`
	} `json:"languages"`
}

// TinyMCLIP is testdata/models/tiny-mclip (a multilingual text tower in
// immich's layout) and its golden; missing files skip the test, or fail it
// when CI=true.
func TinyMCLIP(t testing.TB) (string, MCLIPGolden) {
	t.Helper()
	dir := filepath.Join(Root(), "testdata", "models", "tiny-mclip")
	b, err := os.ReadFile(filepath.Join(Root(), "testdata", "golden", "zeroshot", "tiny-mclip.json"))
	if err == nil {
		_, err = os.Stat(filepath.Join(dir, "textual", "model.onnx"))
	}
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("tiny-mclip fixture missing (%v); run scripts/fixtures/make_tiny_mclip.py", err)
		}
		t.Skipf("tiny-mclip fixture missing (%v); run scripts/fixtures/make_tiny_mclip.py", err)
	}
	var g MCLIPGolden
	if err := json.Unmarshal(b, &g); err != nil {
		t.Fatalf("tiny-mclip.json: %v", err)
	}
	return dir, g
}
