package classify_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestClassifyWithUnusableCacheHome: with a text cache that cannot be
// created, classify with a local model warns once that the text cache is
// unavailable and classifies anyway. The cache directory is a dangling
// symlink: opening the cache file finds nothing (as under an unwritable
// CLIP_HOME) and creating the directory fails, even for root.
func TestClassifyWithUnusableCacheHome(t *testing.T) {
	model := tinyModel(t)
	imgs := shapeImages(t)[:2]
	home := t.TempDir()
	if err := os.Symlink(filepath.Join(home, "gone", "cache"), filepath.Join(home, "text-cache")); err != nil {
		t.Skipf("no symlinks here: %v", err)
	}
	r := run(t, home, "", append([]string{"classify", "--model", model, "--offline", "--labels", labels, "--format", "jsonl"}, imgs...)...)
	if r.code != 0 {
		t.Fatalf("exit %d with an unusable CLIP_HOME, want 0: %s", r.code, r.stderr)
	}
	if got := len(records(t, r.stdout)); got != len(imgs) {
		t.Errorf("%d records, want %d", got, len(imgs))
	}
	if n := strings.Count(r.stderr, "warning: text cache"); n != 1 {
		t.Errorf("stderr mentions the text cache %d times, want one warning:\n%s", n, r.stderr)
	}
}
