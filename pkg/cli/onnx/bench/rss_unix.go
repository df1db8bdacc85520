//go:build unix

package bench

import (
	"runtime"
	"syscall"
)

// maxRSSBytes is getrusage's ru_maxrss, which Darwin reports in bytes and
// the other Unixes in KiB.
func maxRSSBytes() int64 {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	if runtime.GOOS == "darwin" || runtime.GOOS == "ios" {
		return int64(ru.Maxrss)
	}
	return int64(ru.Maxrss) * 1024
}
