package engine

import (
	"bufio"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"unsafe"
)

// fileMapping is one file-backed region of /proc/self/maps.
type fileMapping struct {
	start, end uintptr
	path       string
}

// fileMappings lists the process's mappings of path.
func fileMappings(path string) []fileMapping {
	f, err := os.Open("/proc/self/maps")
	if err != nil {
		return nil
	}
	defer f.Close()
	var out []fileMapping
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		// start-end perms offset dev inode pathname
		fields := strings.Fields(sc.Text())
		if len(fields) < 6 || fields[5] != path {
			continue
		}
		se := strings.SplitN(fields[0], "-", 2)
		if len(se) != 2 {
			continue
		}
		s, err1 := strconv.ParseUint(se[0], 16, 64)
		e, err2 := strconv.ParseUint(se[1], 16, 64)
		if err1 == nil && err2 == nil {
			out = append(out, fileMapping{uintptr(s), uintptr(e), path})
		}
	}
	return out
}

// newPageReleaser returns a function that tells the kernel the pages of
// the model file under a weight matrix are not needed any more (the
// matrix has been packed into the GEMM's own layout), or nil when the
// file is not mapped. Only whole pages inside a mapping of the model file
// itself are released, never heap memory; the engine never writes to
// weights, so a later read just faults the page back in from the file.
// This keeps a session's resident memory near one copy of the weights
// instead of two.
func newPageReleaser(modelPath string) func(b []byte) {
	if modelPath == "" {
		return nil
	}
	abs, err := filepath.Abs(modelPath)
	if err != nil {
		return nil
	}
	if real, err := filepath.EvalSymlinks(abs); err == nil {
		abs = real
	}
	maps := fileMappings(abs)
	if len(maps) == 0 {
		return nil
	}
	page := uintptr(os.Getpagesize())
	return func(b []byte) {
		if len(b) == 0 {
			return
		}
		lo := uintptr(unsafe.Pointer(&b[0]))
		hi := lo + uintptr(len(b))
		inside := false
		for _, m := range maps {
			if lo >= m.start && hi <= m.end {
				inside = true
				break
			}
		}
		if !inside {
			return
		}
		start := (lo + page - 1) &^ (page - 1)
		end := hi &^ (page - 1)
		if end > start {
			_, _, _ = syscall.Syscall(syscall.SYS_MADVISE, start, end-start, syscall.MADV_DONTNEED)
		}
	}
}
