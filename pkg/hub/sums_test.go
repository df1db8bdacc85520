package hub

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"os"
	"path/filepath"
	"runtime"
	"testing"
	"time"
)

// TestLocalSHA256Cache: sums of a local directory's files are those of
// their bytes; a second run takes them from the cache (shown by planting a
// wrong sum there); rewriting a file with the same size and the old mtime
// changes its ctime, so it is hashed again; recent files are not cached.
func TestLocalSHA256Cache(t *testing.T) {
	if runtime.GOOS != "linux" && runtime.GOOS != "darwin" {
		t.Skip("no file identity to cache by on " + runtime.GOOS)
	}
	dir := t.TempDir()
	content := []byte("weights, version one")
	p := filepath.Join(dir, "model.onnx")
	if err := os.WriteFile(p, content, 0o644); err != nil {
		t.Fatal(err)
	}
	old := time.Now().Add(-time.Hour)
	if err := os.Chtimes(p, old, old); err != nil {
		t.Fatal(err)
	}
	want := func(b []byte) string { h := sha256.Sum256(b); return hex.EncodeToString(h[:]) }
	model := func() *LocalModel { return &LocalModel{Dir: dir, Files: []FileInfo{{Path: "model.onnx"}}} }
	ctx := context.Background()

	s, err := NewStore(StoreOptions{Root: t.TempDir(), Offline: true})
	if err != nil {
		t.Fatal(err)
	}
	// Recent files (ctime is now: Chtimes just changed it) are not cached.
	m := model()
	if err := s.LocalSHA256(ctx, m); err != nil {
		t.Fatal(err)
	}
	if m.Files[0].SHA256 != want(content) || m.Files[0].Size != int64(len(content)) {
		t.Fatalf("sum %s size %d, want %s %d", m.Files[0].SHA256, m.Files[0].Size, want(content), len(content))
	}
	if entries, _ := os.ReadDir(filepath.Join(s.Root(), "sums")); len(entries) != 0 {
		t.Fatalf("a file changed just now was cached: %d entries", len(entries))
	}

	zero := time.Duration(0)
	s.sumsRacyWindow = &zero
	if err := s.LocalSHA256(ctx, model()); err != nil {
		t.Fatal(err)
	}
	key, ok := s.sumKey(p)
	if !ok {
		t.Fatal("no cache key")
	}
	planted := want([]byte("planted"))
	if err := os.WriteFile(s.sumPath(key), []byte(planted+" 20\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	m = model()
	if err := s.LocalSHA256(ctx, m); err != nil {
		t.Fatal(err)
	}
	if m.Files[0].SHA256 != planted {
		t.Fatalf("second run hashed the file again (%s) instead of reading the cache", m.Files[0].SHA256)
	}

	// Same size, mtime put back: only ctime (and the bytes) differ.
	changed := []byte("weights, version two")
	if err := os.WriteFile(p, changed, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Chtimes(p, old, old); err != nil {
		t.Fatal(err)
	}
	m = model()
	if err := s.LocalSHA256(ctx, m); err != nil {
		t.Fatal(err)
	}
	if m.Files[0].SHA256 != want(changed) {
		t.Fatalf("a rewritten file (same size and mtime) got %s, want %s", m.Files[0].SHA256, want(changed))
	}

	// A damaged entry is ignored, not trusted.
	key, _ = s.sumKey(p)
	if err := os.WriteFile(s.sumPath(key), []byte("not a sum"), 0o644); err != nil {
		t.Fatal(err)
	}
	m = model()
	if err := s.LocalSHA256(ctx, m); err != nil || m.Files[0].SHA256 != want(changed) {
		t.Fatalf("damaged entry: %s, %v", m.Files[0].SHA256, err)
	}
}
