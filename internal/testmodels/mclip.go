package testmodels

import (
	"encoding/json"
	"os"
	"path/filepath"
	"testing"
)

// MultilingualGolden is testdata/golden/zeroshot/tiny-mclip.json or
// tiny-nllb.json, written by scripts/fixtures/make_tiny_mclip.py and
// make_tiny_nllb.py without clip: per language, the labels, their ids
// (tiny-mclip: SentencePiece in XLM-R's numbering; tiny-nllb:
// transformers.js on "{code}{label}"), their text embeddings
// (onnxruntime-node, one text per run, padded to 77 as immich pads) and,
// per PNG of testdata/shapes, the probabilities: softmax(100 × cosine)
// over the language's labels (M-CLIP), or each label's
// sigmoid(exp(logit_scale) × cosine + logit_bias) (NLLB).
type MultilingualGolden struct {
	Template   string  `json:"template"`
	LogitScale float64 `json:"logit_scale"` // NLLB: the log value, as config.json has it
	LogitBias  float64 `json:"logit_bias"`
	Images     []struct {
		File    string `json:"file"`
		Label   string `json:"label"`
		HeldOut bool   `json:"held_out"`
	} `json:"images"`
	Languages map[string]struct {
		Code           string      `json:"code"` // NLLB: the FLORES-200 code
		Labels         []string    `json:"labels"`
		IDs            [][]int     `json:"ids"`
		TextEmbeddings [][]float32 `json:"text_embeddings"`
		Probabilities  [][]float64 `json:"probabilities"`
	} `json:"languages"`
}

// TinyMCLIP is testdata/models/tiny-mclip (a multilingual text tower in
// immich's layout) and its golden; missing files skip the test, or fail it
// when CI=true.
func TinyMCLIP(t testing.TB) (string, MultilingualGolden) {
	t.Helper()
	return multilingual(t, "tiny-mclip", "make_tiny_mclip.py")
}

// TinyNLLB is testdata/models/tiny-nllb (NLLB-CLIP-SigLIP in immich's
// layout) and its golden; missing files skip the test, or fail it when
// CI=true.
func TinyNLLB(t testing.TB) (string, MultilingualGolden) {
	t.Helper()
	return multilingual(t, "tiny-nllb", "make_tiny_nllb.py")
}

func multilingual(t testing.TB, name, script string) (string, MultilingualGolden) {
	t.Helper()
	dir := filepath.Join(Root(), "testdata", "models", name)
	b, err := os.ReadFile(filepath.Join(Root(), "testdata", "golden", "zeroshot", name+".json"))
	if err == nil {
		_, err = os.Stat(filepath.Join(dir, "textual", "model.onnx"))
	}
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("%s fixture missing (%v); run scripts/fixtures/%s", name, err, script)
		}
		t.Skipf("%s fixture missing (%v); run scripts/fixtures/%s", name, err, script)
	}
	var g MultilingualGolden
	if err := json.Unmarshal(b, &g); err != nil {
		t.Fatalf("%s.json: %v", name, err)
	}
	return dir, g
}

// ImmichFiles are the files of a model in immich's layout, bar config.json.
var ImmichFiles = []string{"visual/preprocess_cfg.json", "visual/model.onnx", "textual/model.onnx",
	"textual/tokenizer.json", "textual/tokenizer_config.json", "textual/special_tokens_map.json"}

// CopyModel copies files (slash-separated, relative to src) into a new
// temporary directory and returns it, for tests that change a fixture.
func CopyModel(t testing.TB, src string, files ...string) string {
	t.Helper()
	dir := t.TempDir()
	for _, f := range files {
		b, err := os.ReadFile(filepath.Join(src, filepath.FromSlash(f)))
		if err != nil {
			t.Fatal(err)
		}
		dst := filepath.Join(dir, filepath.FromSlash(f))
		if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(dst, b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}
