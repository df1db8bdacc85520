//go:build linux || darwin || freebsd || netbsd || openbsd || dragonfly

package onnx

import (
	"fmt"
	"os"
	"syscall"
)

// mapFile maps the whole file privately. Pages are writable copy-on-write
// so that a caller who (wrongly) writes into a weight slice gets a private
// copy of the page instead of a SIGSEGV, and the file is never modified.
func mapFile(f *os.File, size int64) (mapping, error) {
	if size == 0 {
		return mapping{data: []byte{}}, nil
	}
	if int64(int(size)) != size {
		return mapping{}, fmt.Errorf("file of %d bytes is too large to map", size)
	}
	b, err := syscall.Mmap(int(f.Fd()), 0, int(size), syscall.PROT_READ|syscall.PROT_WRITE, syscall.MAP_PRIVATE)
	if err != nil {
		return mapping{}, fmt.Errorf("mmap: %w", err)
	}
	return mapping{data: b, mapped: true}, nil
}

func unmap(m mapping) error {
	if !m.mapped {
		return nil
	}
	return syscall.Munmap(m.data)
}
