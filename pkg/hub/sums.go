package hub

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"
)

// LocalSHA256 fills in the sha256 (and size) of every file of m that lacks
// one, through a cache in the store (sums/): a local model directory's
// files are hashed once, not at every run that needs their sums (classify --summary, index, search, serve). Hashing a
// ViT-B/32 directory reads ~600 MB, a third of a cold `clip search`.
//
// A cached sum is used only while the file keeps its identity: device,
// inode, size, modification time and status-change time (ctime, which no
// tool can set back, unlike mtime: `touch -d` or a copy that keeps times
// changes it). That is git's index check. A file changed within
// racyWindow of being hashed is not cached, since a write in the same
// clock tick would leave its times unchanged. Where the identity is not
// available (Windows), nothing is cached.
func (s *Store) LocalSHA256(ctx context.Context, m *LocalModel) error {
	for i := range m.Files {
		f := &m.Files[i]
		if f.SHA256 != "" {
			continue
		}
		p := filepath.Join(m.Dir, filepath.FromSlash(f.Path))
		key, ok := s.sumKey(p)
		if ok {
			if sum, size, ok := s.cachedSum(key); ok {
				f.SHA256, f.Size = sum, size
				continue
			}
		}
		sum, size, err := hashFile(ctx, p)
		if err != nil {
			return err
		}
		f.SHA256, f.Size = sum, size
		// The key is taken again after hashing: a file written meanwhile
		// changes it, and its (possibly torn) sum is not remembered.
		if after, ok2 := s.sumKey(p); ok && ok2 && after == key {
			s.rememberSum(key, sum, size)
		}
	}
	return nil
}

// racyWindow: files whose mtime or ctime is this recent are not cached.
const racyWindow = 2 * time.Second

// sumKey names the cache entry of the file at p by its absolute path and
// identity; false when there is none to trust (no identity, racy times).
func (s *Store) sumKey(p string) (string, bool) {
	abs, err := filepath.Abs(p)
	if err != nil {
		return "", false
	}
	fi, err := os.Stat(abs)
	if err != nil || !fi.Mode().IsRegular() {
		return "", false
	}
	id, changed, ok := fileIdentity(fi)
	if !ok {
		return "", false
	}
	now, racy := time.Now(), racyWindow
	if s.sumsRacyWindow != nil {
		racy = *s.sumsRacyWindow
	}
	if now.Sub(fi.ModTime()) < racy || now.Sub(changed) < racy {
		return "", false
	}
	h := sha256.Sum256([]byte(abs + "\x00" + id))
	return hex.EncodeToString(h[:16]), true
}

func (s *Store) sumPath(key string) string { return filepath.Join(s.root, "sums", key) }

// cachedSum reads an entry: "sha256 size\n".
func (s *Store) cachedSum(key string) (string, int64, bool) {
	b, err := os.ReadFile(s.sumPath(key))
	if err != nil {
		return "", 0, false
	}
	var sum string
	var size int64
	if n, err := fmt.Sscanf(strings.TrimSpace(string(b)), "%64s %d", &sum, &size); err != nil || n != 2 || len(sum) != 64 {
		return "", 0, false
	}
	if _, err := hex.DecodeString(sum); err != nil {
		return "", 0, false
	}
	return sum, size, true
}

// rememberSum writes an entry atomically; a cache that cannot be written
// (read-only CLIP_HOME) only means hashing again next time.
func (s *Store) rememberSum(key, sum string, size int64) {
	dir := filepath.Join(s.root, "sums")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return
	}
	tmp, err := os.CreateTemp(dir, key+".*.part")
	if err != nil {
		return
	}
	_, werr := fmt.Fprintf(tmp, "%s %d\n", sum, size)
	if cerr := tmp.Close(); werr != nil || cerr != nil {
		os.Remove(tmp.Name())
		return
	}
	if err := os.Rename(tmp.Name(), s.sumPath(key)); err != nil {
		os.Remove(tmp.Name())
	}
}
