//go:build linux || darwin || freebsd || netbsd || openbsd || dragonfly

package onnx

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/clip-go/clip/pkg/inputs/inputstest"
)

// TestExternalDataFIFOIsRefused: external data naming a FIFO must be
// refused, not opened (an open blocks until a writer comes, forever).
func TestExternalDataFIFOIsRefused(t *testing.T) {
	dir := t.TempDir()
	model, err := os.ReadFile(filepath.Join("testdata", "ext", "model.onnx"))
	if err != nil {
		t.Fatal(err)
	}
	whole, err := os.ReadFile(filepath.Join("testdata", "ext", "whole.bin"))
	if err != nil {
		t.Fatal(err)
	}
	os.WriteFile(filepath.Join(dir, "model.onnx"), model, 0o644)
	os.WriteFile(filepath.Join(dir, "whole.bin"), whole, 0o644)
	os.Mkdir(filepath.Join(dir, "weights"), 0o755)
	inputstest.Mkfifo(t, filepath.Join(dir, "weights", "data.bin"))
	inputstest.NoHang(t, "Load", func() {
		m, err := Load(filepath.Join(dir, "model.onnx"))
		if err == nil {
			m.Close()
		}
		if err == nil || !strings.Contains(err.Error(), "not a regular file") || !strings.Contains(err.Error(), "data.bin") {
			t.Errorf("Load with a FIFO as external data: err = %v, want a refusal naming data.bin", err)
		}
	})
}
