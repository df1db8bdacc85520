package modelload_test

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/clip-go/clip/internal/testmodels"
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

// An NLLB text tower embeds the same label differently in each --language
// (the code goes in front of the text), so each language has its own key;
// a bad --language is a usage error before anything loads.
func TestCacheKeyIncludesLanguage(t *testing.T) {
	model, _ := testmodels.TinyNLLB(t)
	key := func(lang string) string {
		ios, _, _, _ := iostreams.Test()
		env := map[string]string{"CLIP_HOME": t.TempDir()}
		f := &cmdutil.Factory{IOStreams: ios, Version: "test", Globals: &cmdutil.GlobalOptions{Model: model, Offline: true},
			Getenv: func(k string) string { return env[k] }}
		m, err := modelload.Open(context.Background(), f, modelload.Options{Language: lang})
		if err != nil {
			t.Fatal(err)
		}
		defer m.Close()
		return m.CacheKey()
	}
	keys := map[string]string{}
	for _, lang := range []string{"auto", "de", "ru"} {
		k := key(lang)
		if other, ok := keys[k]; ok {
			t.Errorf("languages %s and %s share the cache key %s", other, lang, k)
		}
		keys[k] = lang
	}
	if key("") != key("auto") || key("deu_Latn") != key("de") {
		t.Error("the same language spelled two ways has two cache keys")
	}
	ios, _, _, _ := iostreams.Test()
	f := &cmdutil.Factory{IOStreams: ios, Globals: &cmdutil.GlobalOptions{Model: model, Offline: true}, Getenv: func(string) string { return "" }}
	if _, err := modelload.Open(context.Background(), f, modelload.Options{Language: "xx"}); cmdutil.ExitCode(err) != 2 {
		t.Errorf("--language xx: %v (exit %d), want a usage error", err, cmdutil.ExitCode(err))
	}
}
