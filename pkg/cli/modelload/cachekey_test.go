package modelload_test

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/clip-go/clip/pkg/cli/cmdutil"
	"github.com/clip-go/clip/pkg/cli/iostreams"
	"github.com/clip-go/clip/pkg/cli/modelload"
)

// The text cache key covers the family: the same text graph and tokenizer
// read as SigLIP (texts padded to 64) and as CLIP (padded to the longest)
// give different embeddings, so they must not share cached ones.
func TestCacheKeyIncludesFamily(t *testing.T) {
	src := filepath.Join("..", "..", "..", "testdata", "models", "tiny-siglip")
	dir := t.TempDir()
	for _, name := range []string{"config.json", "preprocessor_config.json", "tokenizer.json", "tokenizer_config.json",
		"special_tokens_map.json", "onnx/vision_model.onnx", "onnx/text_model.onnx", "onnx/model.onnx"} {
		b, err := os.ReadFile(filepath.Join(src, name))
		if err != nil {
			t.Fatal(err)
		}
		os.MkdirAll(filepath.Dir(filepath.Join(dir, name)), 0o755)
		if err := os.WriteFile(filepath.Join(dir, name), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	key := func() (string, string) {
		ios, _, _, _ := iostreams.Test()
		env := map[string]string{"CLIP_HOME": t.TempDir()}
		f := &cmdutil.Factory{IOStreams: ios, Version: "test", Globals: &cmdutil.GlobalOptions{Model: dir, Offline: true},
			Getenv: func(k string) string { return env[k] }}
		m, err := modelload.Open(context.Background(), f, modelload.Options{})
		if err != nil {
			t.Fatal(err)
		}
		defer m.Close()
		return m.CacheKey(), string(m.Family())
	}
	sigKey, fam := key()
	if fam != "siglip" {
		t.Fatalf("family %q, want siglip", fam)
	}
	if err := os.WriteFile(filepath.Join(dir, "config.json"), []byte(`{"model_type": "clip"}`), 0o644); err != nil {
		t.Fatal(err)
	}
	clipKey, fam := key()
	if fam != "clip" || clipKey == sigKey {
		t.Errorf("read as %s the cache key is %s, as SigLIP %s: want different keys", fam, clipKey, sigKey)
	}
}
