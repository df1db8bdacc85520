//go:build !unix && !windows

package hub

import (
	"errors"
	"io/fs"
	"os"
	"time"
)

// staleLockAge is when a fallback lock file is assumed to be left over
// from a crashed process. The holder refreshes it (see refresh) so a
// long download does not look stale.
const staleLockAge = 2 * time.Minute

// tryLock is the fallback for systems without flock: exclusive creation
// of the lock file.
func tryLock(p string) (*fileLock, bool, error) {
	f, err := os.OpenFile(p, os.O_RDWR|os.O_CREATE|os.O_EXCL, 0o644)
	if errors.Is(err, fs.ErrExist) {
		if st, serr := os.Stat(p); serr == nil && time.Since(st.ModTime()) > staleLockAge {
			os.Remove(p)
		}
		return nil, false, nil
	}
	if err != nil {
		return nil, false, err
	}
	l := &fileLock{f: f, path: p, stop: make(chan struct{})}
	go l.refresh()
	return l, true, nil
}

func (l *fileLock) refresh() {
	t := time.NewTicker(staleLockAge / 4)
	defer t.Stop()
	for {
		select {
		case <-l.stop:
			return
		case <-t.C:
		}
		now := time.Now()
		if os.Chtimes(l.path, now, now) != nil {
			return
		}
	}
}

func (l *fileLock) release() error {
	close(l.stop)
	l.f.Close()
	return os.Remove(l.path)
}
