package preprocess

import (
	"bytes"
	"path/filepath"
	"strings"
	"testing"

	"github.com/clip-go/clip/pkg/hub"
	"github.com/clip-go/clip/pkg/hub/hubtest"
)

// TestDefaultModelFetchesOnlyPreprocessorConfig: without --model,
// preprocess uses the default catalogue model and fetches only its
// preprocessor_config.json from the hub, never the ONNX graphs; the
// tensor matches Pillow's pixels under the published config.
func TestDefaultModelFetchesOnlyPreprocessorConfig(t *testing.T) {
	e, _ := hub.LookupCatalogue(hub.DefaultModel)
	srv := hubtest.New(false, &hubtest.Repo{ID: e.Repo, Commit: e.Revision, Files: map[string][]byte{
		"onnx/vision_model.onnx":   bytes.Repeat([]byte("v"), 1<<20),
		"onnx/text_model.onnx":     bytes.Repeat([]byte("t"), 1<<20),
		"tokenizer.json":           []byte(`{}`),
		"preprocessor_config.json": []byte(hfConfig),
	}})
	defer srv.Close()
	out := filepath.Join(t.TempDir(), "x.npy")
	env := map[string]string{"CLIP_HOME": t.TempDir(), "HF_ENDPOINT": srv.URL()}
	_, stderr, err := runEnv(t, env, filepath.Join(images, "horse_rgba.png"), "--out", out)
	if err != nil {
		t.Fatalf("preprocess without --model: %v\n%s", err, stderr)
	}
	if e := maxPixelError(t, readTensor(t, out), "horse_rgba.png.crop.npy"); e != 0 {
		t.Errorf("horse_rgba.png: %.3f/255 from Pillow+HF, want exact", e)
	}
	for _, r := range srv.Requests() {
		if r.Kind == "resolve" && r.File != "preprocessor_config.json" || r.Kind == "cdn" {
			t.Errorf("preprocess requested %s %s", r.Method, r.File)
		}
	}
	if !strings.Contains(stderr.String(), "preprocessing config") {
		t.Errorf("the download is not announced: %q", stderr)
	}
}
