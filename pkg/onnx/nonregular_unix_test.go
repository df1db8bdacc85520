//go:build linux || darwin || freebsd || netbsd || openbsd || dragonfly

package onnx

import (
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
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
	if err := syscall.Mkfifo(filepath.Join(dir, "weights", "data.bin"), 0o644); err != nil {
		t.Skipf("mkfifo: %v", err)
	}
	done := make(chan error, 1)
	go func() {
		m, err := Load(filepath.Join(dir, "model.onnx"))
		if err == nil {
			m.Close()
		}
		done <- err
	}()
	select {
	case err := <-done:
		if err == nil || !strings.Contains(err.Error(), "not a regular file") || !strings.Contains(err.Error(), "data.bin") {
			t.Errorf("Load with a FIFO as external data: err = %v, want a refusal naming data.bin", err)
		}
	case <-time.After(20 * time.Second):
		// Unblock the goroutine's open so the test binary can exit.
		if f, err := os.OpenFile(filepath.Join(dir, "weights", "data.bin"), os.O_WRONLY|syscall.O_NONBLOCK, 0); err == nil {
			f.Close()
		}
		t.Fatal("Load blocked on a FIFO named by external data")
	}
}
