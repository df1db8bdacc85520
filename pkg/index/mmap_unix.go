//go:build unix

package index

import (
	"os"

	"golang.org/x/sys/unix"
)

// mapFile maps size bytes of f read-only; unmap releases them. Pages come
// from the page cache on first touch, so a warm search copies nothing.
func mapFile(f *os.File, size int64) (data []byte, unmap func() error, err error) {
	if size == 0 {
		return nil, func() error { return nil }, nil
	}
	data, err = unix.Mmap(int(f.Fd()), 0, int(size), unix.PROT_READ, unix.MAP_SHARED)
	if err != nil {
		return readFile(f, size)
	}
	// The scan reads every page once, in order.
	_ = unix.Madvise(data, unix.MADV_WILLNEED)
	return data, func() error { return unix.Munmap(data) }, nil
}
