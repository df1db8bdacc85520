package tokenize

import (
	"bytes"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/clip-go/clip/pkg/hub"
	"github.com/clip-go/clip/pkg/hub/hubtest"
)

// TestDefaultModelFetchesOnlyTokenizerFiles: without --model, tokenize
// uses the default catalogue model, and from the hub it fetches the
// tokenizer files only, never the ONNX graphs. The fake hub serves the
// tiny-shapes tokenizer under the default model's name; the ids are
// checked against transformers.js's for that tokenizer.
func TestDefaultModelFetchesOnlyTokenizerFiles(t *testing.T) {
	const model = "../../../testdata/models/tiny-shapes"
	files := map[string][]byte{
		"onnx/vision_model.onnx": bytes.Repeat([]byte("v"), 1<<20),
		"onnx/text_model.onnx":   bytes.Repeat([]byte("t"), 1<<20),
	}
	for _, f := range []string{"tokenizer.json", "tokenizer_config.json", "special_tokens_map.json", "vocab.json", "merges.txt", "config.json", "preprocessor_config.json"} {
		b, err := os.ReadFile(filepath.Join(model, f))
		if err != nil {
			t.Skipf("no %s (made by make fixtures): %v", model, err)
		}
		files[f] = b
	}
	corpus, golden := tinyShapesGolden(t)
	e, _ := hub.LookupCatalogue(hub.DefaultModel)
	srv := hubtest.New(false, &hubtest.Repo{ID: e.Repo, Commit: e.Revision, Files: files})
	defer srv.Close()
	env := map[string]string{"CLIP_HOME": t.TempDir(), "HF_ENDPOINT": srv.URL()}

	out, stderr, err := runEnv(t, "", env, "--format", "jsonl", corpus.Texts[0])
	if err != nil {
		t.Fatalf("tokenize without --model: %v\n%s", err, stderr)
	}
	recs := decodeJSONL(t, out.String())
	if len(recs) != 1 || !slices.Equal(recs[0].IDs, golden.IDs[0]) {
		t.Errorf("ids %v, transformers.js %v", recs, golden.IDs[0])
	}
	for _, r := range srv.Requests() {
		if strings.HasSuffix(r.File, ".onnx") || r.File == "preprocessor_config.json" {
			t.Errorf("tokenize requested %s %s", r.Method, r.File)
		}
	}
	if srv.Count("GET", "resolve", "tokenizer.json") != 1 {
		t.Errorf("tokenizer.json was not fetched")
	}
	if !strings.Contains(stderr.String(), "tokenizer files") {
		t.Errorf("the download is not announced: %q", stderr)
	}
}
