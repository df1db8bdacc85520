//go:build unix

package index

import (
	"os"
	"unsafe"

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
	return data, func() error { return unix.Munmap(data) }, nil
}

// willNeed asks for b's pages ahead of the scan, which reads each once, in
// order.
func willNeed(b []byte) { advise(b, unix.MADV_WILLNEED) }

// advise applies madvise to the pages b spans.
func advise(b []byte, advice int) {
	if len(b) > 0 {
		off := uintptr(unsafe.Pointer(&b[0])) & (uintptr(os.Getpagesize()) - 1)
		_ = unix.Madvise(unsafe.Slice((*byte)(unsafe.Add(unsafe.Pointer(&b[0]), -int(off))), len(b)+int(off)), advice)
	}
}
