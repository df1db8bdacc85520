package clip

import (
	"context"
	"os"
	"path/filepath"
	"testing"
)

// TestTextCacheUnwritableDirIsRefusedAtOpen: a cache directory that cannot
// be created is reported by OpenTextCache, not by the first encoding, so
// callers can warn and run without the cache. The directory is a dangling
// symlink: the cache file is simply absent (as under an unwritable
// CLIP_HOME), and mkdir fails even for root.
func TestTextCacheUnwritableDirIsRefusedAtOpen(t *testing.T) {
	tmp := t.TempDir()
	dir := filepath.Join(tmp, "text-cache")
	if err := os.Symlink(filepath.Join(tmp, "gone", "cache"), dir); err != nil {
		t.Skipf("no symlinks here: %v", err)
	}
	c, err := OpenTextCache(dir, "m")
	if err == nil {
		t.Fatalf("OpenTextCache in a directory that cannot be created succeeded (%s); want an error at open", c.Path())
	}
}

// TestTextCacheWriteFailureKeepsEncoding: when appending fails after the
// cache was opened, the prompts are still encoded and returned, the
// failure is reported once, and later lookups still answer from memory.
func TestTextCacheWriteFailureKeepsEncoding(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "cache")
	c, err := OpenTextCache(dir, "m")
	if err != nil {
		t.Fatal(err)
	}
	var reported []error
	c.OnWriteError = func(err error) { reported = append(reported, err) }
	// The directory turns into a file: every append now fails.
	if err := os.RemoveAll(dir); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(dir, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	enc := &mapEncoder{vecs: map[string][]float32{"a": {1, 0, 0}, "b": {0, 1, 0}}}
	cached := c.Wrap(enc)
	for _, texts := range [][]string{{"a"}, {"b"}, {"a", "b"}} {
		embs, err := cached.EncodeTexts(context.Background(), texts)
		if err != nil {
			t.Fatalf("EncodeTexts(%q) with an unwritable cache: %v", texts, err)
		}
		if len(embs) != len(texts) {
			t.Fatalf("EncodeTexts(%q): %d embeddings", texts, len(embs))
		}
	}
	if len(reported) != 1 {
		t.Errorf("write failure reported %d times, want once: %v", len(reported), reported)
	}
	if enc.calls != 2 {
		t.Errorf("encoder asked for %d prompts, want 2 (the third call is answered from memory)", enc.calls)
	}
}
