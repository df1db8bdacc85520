package hub

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"time"
)

// lockPoll is how often a waiting process retries a held lock. Waiting by
// polling (instead of a blocking flock) lets the wait end with ctx.
const lockPoll = 50 * time.Millisecond

// fileLock is an exclusive lock between processes (and between goroutines
// that each open the lock file) on one model revision.
type fileLock struct {
	f    *os.File
	path string
	stop chan struct{} // ends the fallback lock's refresher; nil elsewhere
}

// acquireLock waits until it holds the lock at p or ctx ends. onWait is
// called once if the lock is busy, so the caller can say why it waits.
func acquireLock(ctx context.Context, p string, onWait func()) (*fileLock, error) {
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		return nil, fmt.Errorf("creating lock directory: %w", err)
	}
	waited := false
	for {
		l, ok, err := tryLock(p)
		if err != nil {
			return nil, fmt.Errorf("locking %s: %w", p, err)
		}
		if ok {
			return l, nil
		}
		if !waited && onWait != nil {
			onWait()
		}
		waited = true
		select {
		case <-ctx.Done():
			return nil, fmt.Errorf("waiting for lock %s (another clip is downloading this model): %w", p, ctx.Err())
		case <-time.After(lockPoll):
		}
	}
}
