//go:build !unix

package index

import "os"

// mapFile reads the file where there is no mmap.
func mapFile(f *os.File, size int64) ([]byte, func() error, error) { return readFile(f, size) }

func willNeed([]byte) {}
