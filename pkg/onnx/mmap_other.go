//go:build !(linux || darwin || freebsd || netbsd || openbsd || dragonfly)

package onnx

import (
	"fmt"
	"io"
	"os"
)

// mapFile reads the whole file where memory mapping is not wired up.
func mapFile(f *os.File, size int64) (mapping, error) {
	if int64(int(size)) != size {
		return mapping{}, fmt.Errorf("file of %d bytes is too large to read", size)
	}
	b := make([]byte, size)
	if _, err := io.ReadFull(f, b); err != nil {
		return mapping{}, err
	}
	return mapping{data: b}, nil
}

func unmap(mapping) error { return nil }
