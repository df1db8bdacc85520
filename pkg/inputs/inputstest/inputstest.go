//go:build linux || darwin || freebsd || netbsd || openbsd || dragonfly

// Package inputstest makes the hostile inputs the readers of files are
// tested against (FIFOs), and bounds a call that must not block.
package inputstest

import (
	"os"
	"syscall"
	"testing"
	"time"
)

// Mkfifo makes a named pipe at path, or skips the test where that is not
// possible. At cleanup a writer is opened and closed, so that code which
// wrongly opened the FIFO for reading (and blocks there) is let go and the
// test binary can end.
func Mkfifo(t testing.TB, path string) {
	t.Helper()
	if err := syscall.Mkfifo(path, 0o644); err != nil {
		t.Skipf("mkfifo: %v", err)
	}
	t.Cleanup(func() {
		if f, err := os.OpenFile(path, os.O_WRONLY|syscall.O_NONBLOCK, 0); err == nil {
			f.Close()
		}
	})
}

// NoHang runs fn and fails the test if it has not returned within a
// minute. What it guards against is blocking forever (a read of a FIFO
// nobody writes to), not slowness: the bound is far above any honest run.
func NoHang(t testing.TB, what string, fn func()) {
	t.Helper()
	done := make(chan struct{})
	go func() { defer close(done); fn() }()
	select {
	case <-done:
	case <-time.After(time.Minute):
		t.Fatalf("%s blocked", what)
	}
}
