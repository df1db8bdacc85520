package engine

import (
	"os"
	"path/filepath"
	"testing"
)

// Relu (NLLB's feed-forward activation) against ONNX's own node test.
func TestReluNodeTest(t *testing.T) {
	dir := filepath.Join(nodeTestDir, "test_relu")
	if _, err := os.Stat(dir); err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("ONNX node test missing at %s (apt-get install libonnx-testdata)", dir)
		}
		t.Skipf("ONNX node test missing at %s (apt-get install libonnx-testdata)", dir)
	}
	if r := runNodeTest(dir); r.err != nil || r.skipped {
		t.Fatalf("test_relu: %v (skipped %v)", r.err, r.skipped)
	}
}
