//go:build linux || darwin

package hub

import (
	"fmt"
	"io/fs"
	"syscall"
	"time"
)

// fileIdentity is what tells one version of a file from another without
// reading it: device, inode, size, mtime and ctime (returned too).
func fileIdentity(fi fs.FileInfo) (id string, changed time.Time, ok bool) {
	st, ok := fi.Sys().(*syscall.Stat_t)
	if !ok {
		return "", time.Time{}, false
	}
	ctime := statCtime(st)
	return fmt.Sprintf("%d:%d:%d:%d:%d", st.Dev, st.Ino, fi.Size(), fi.ModTime().UnixNano(), ctime.UnixNano()), ctime, true
}
