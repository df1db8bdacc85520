// Package testmodels finds the model fixtures under testdata/models for
// tests in any package, and assembles the model directories that tests
// need but the repository does not hold as such.
package testmodels

import (
	"os"
	"path/filepath"
	"runtime"
	"testing"
)

// Root is the repository's root directory.
func Root() string {
	_, file, _, _ := runtime.Caller(0)
	return filepath.Join(filepath.Dir(file), "..", "..")
}

// TinyShapes is testdata/models/tiny-shapes (made by `make fixtures`); the
// test is skipped when it is missing, and fails when CI=true.
func TinyShapes(t testing.TB) string {
	t.Helper()
	dir := filepath.Join(Root(), "testdata", "models", "tiny-shapes")
	if _, err := os.Stat(filepath.Join(dir, "onnx", "vision_model.onnx")); err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("tiny-shapes fixture missing (%v); run make fixtures", err)
		}
		t.Skipf("tiny-shapes fixture missing (%v); run make fixtures", err)
	}
	return dir
}

// supportFiles are tiny-shapes' tokenizer, preprocessing and config files.
var supportFiles = []string{"config.json", "merges.txt", "preprocessor_config.json", "special_tokens_map.json",
	"tokenizer.json", "tokenizer_config.json", "vocab.json"}

// TinyShapesWith makes a model directory holding tiny-shapes' support files
// and only the given ONNX files (paths relative to tiny-shapes, symlinked),
// e.g. "onnx/model.onnx" alone.
func TinyShapesWith(t testing.TB, onnxFiles ...string) string {
	t.Helper()
	tiny := TinyShapes(t)
	dir := t.TempDir()
	if err := os.Mkdir(filepath.Join(dir, "onnx"), 0o755); err != nil {
		t.Fatal(err)
	}
	for _, f := range append(append([]string(nil), supportFiles...), onnxFiles...) {
		if err := os.Symlink(filepath.Join(tiny, f), filepath.Join(dir, f)); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

// RuntimeFailure is a model directory whose vision graph loads but fails
// whenever it runs (testdata/models/runtime-failure, made by
// scripts/fixtures/make_runtime_failure_model.py), beside tiny-shapes' text
// model and tokenizer.
func RuntimeFailure(t testing.TB) string {
	t.Helper()
	dir := TinyShapesWith(t, "onnx/text_model.onnx")
	broken := filepath.Join(Root(), "testdata", "models", "runtime-failure", "vision_model.onnx")
	if err := os.Symlink(broken, filepath.Join(dir, "onnx", "vision_model.onnx")); err != nil {
		t.Fatal(err)
	}
	return dir
}

// TinyShapesFiles returns the contents of tiny-shapes' split fp32 export and
// support files by path, as a hub repository would serve them.
func TinyShapesFiles(t testing.TB) map[string][]byte {
	t.Helper()
	tiny := TinyShapes(t)
	files := map[string][]byte{}
	for _, f := range append([]string{"onnx/vision_model.onnx", "onnx/text_model.onnx"}, supportFiles...) {
		b, err := os.ReadFile(filepath.Join(tiny, f))
		if err != nil {
			t.Fatal(err)
		}
		files[f] = b
	}
	return files
}
