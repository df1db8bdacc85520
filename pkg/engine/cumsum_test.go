package engine

import (
	"os"
	"path/filepath"
	"testing"
)

// TestCumSumNodeTests runs ONNX's CumSum node tests (inclusive,
// exclusive, reversed, 2-D along either axis, negative axis), with the
// axis given as a graph input.
func TestCumSumNodeTests(t *testing.T) {
	dirs, _ := filepath.Glob(filepath.Join(nodeTestDir, "test_cumsum_*"))
	if len(dirs) == 0 {
		if os.Getenv("CI") == "true" {
			t.Fatalf("ONNX node tests not installed at %s (apt-get install libonnx-testdata)", nodeTestDir)
		}
		t.Skipf("ONNX node tests not installed at %s (apt-get install libonnx-testdata)", nodeTestDir)
	}
	for _, dir := range dirs {
		r := runNodeTest(dir)
		if r.skipped || r.err != nil {
			t.Errorf("%s: skipped %v, error %v", filepath.Base(dir), r.skipped, r.err)
		}
	}
	if len(dirs) < 7 {
		t.Errorf("found %d CumSum node tests, want the 7 of ONNX 1.12", len(dirs))
	}
}
