package imageproc

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"
)

// decodeWith decodes testdata's plain.heic with d and closes d's
// runtimes when the test ends.
func decodeWith(t *testing.T, d *HEIFDecoders) *RGB {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(heifDir, "plain.heic"))
	if err != nil {
		t.Fatal(err)
	}
	img, err := DecodeBytes(b, DecodeOptions{HEIF: d})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if d.heif.rt != nil {
			_ = d.heif.rt.Close(context.Background())
		}
	})
	return img
}

// wasmCacheState is the cache file's identity, to tell a rewrite.
func wasmCacheState(t *testing.T, dir string) (string, os.FileInfo) {
	t.Helper()
	paths, _ := filepath.Glob(filepath.Join(dir, "libheif-*.wasmcache"))
	if len(paths) != 1 {
		t.Fatalf("cache directory holds %d libheif cache files, want 1", len(paths))
	}
	st, err := os.Stat(paths[0])
	if err != nil {
		t.Fatal(err)
	}
	return paths[0], st
}

// The compiled libheif is kept in the cache directory: a second decoder
// with the same directory loads it (wazero writes no entry, so it did not
// compile, and the cache file is left as it was) and decodes the same
// pixels; a damaged cache file, or one whose entry wazero refuses, is
// ignored (compiled afresh and replaced); a directory that cannot be made
// means no cache, not an error.
func TestHEIFDecodersCompilationCache(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "wasm-cache")
	first := NewHEIFDecoders(dir)
	want := decodeWith(t, first)
	if first.heif.cached {
		t.Fatal("the first decoder says its code came from an empty cache")
	}
	path, st := wasmCacheState(t, dir)
	if leftovers, _ := filepath.Glob(filepath.Join(dir, "compile-*")); len(leftovers) > 0 {
		t.Errorf("compile directories left behind: %v", leftovers)
	}

	// A compile directory a killed process left an hour ago goes; one
	// that may be another process's compile stays.
	stale, live := filepath.Join(dir, "compile-stale"), filepath.Join(dir, "compile-live")
	for _, p := range []string{stale, live} {
		if err := os.Mkdir(p, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	old := time.Now().Add(-2 * staleCompileAge)
	if err := os.Chtimes(stale, old, old); err != nil {
		t.Fatal(err)
	}

	second := NewHEIFDecoders(dir)
	if got := decodeWith(t, second); !bytes.Equal(got.Pix, want.Pix) {
		t.Fatal("the decoder loaded from the cache decodes other pixels")
	}
	if _, err := os.Stat(stale); err == nil {
		t.Error("a stale compile directory was left")
	}
	if err := os.Remove(live); err != nil {
		t.Errorf("a recent compile directory was removed: %v", err)
	}
	if !second.heif.cached {
		t.Error("the second decoder compiled libheif again")
	}
	if _, st2 := wasmCacheState(t, dir); !os.SameFile(st, st2) || !st.ModTime().Equal(st2.ModTime()) {
		t.Error("the cache file was rewritten by a decoder that should have loaded it")
	}

	good, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	damaged := map[string]func() error{
		"flipped byte": func() error {
			b := bytes.Clone(good)
			b[len(b)/2] ^= 0x40
			return os.WriteFile(path, b, 0o644)
		},
		"truncated": func() error { return os.WriteFile(path, good[:len(good)/3], 0o644) },
		"sealed junk": func() error {
			files, err := readWasmCache(path)
			if err != nil {
				return err
			}
			for i := range files {
				files[i].data = bytes.Repeat([]byte("junk"), 100)
			}
			return writeWasmCache(path, files)
		},
	}
	for name, damage := range damaged {
		t.Run(name, func(t *testing.T) {
			if err := damage(); err != nil {
				t.Fatal(err)
			}
			d := NewHEIFDecoders(dir)
			if got := decodeWith(t, d); !bytes.Equal(got.Pix, want.Pix) {
				t.Fatal("decoded other pixels after a damaged cache")
			}
			if d.heif.cached {
				t.Error("a damaged cache entry was used")
			}
			if _, err := readWasmCache(path); err != nil {
				t.Errorf("the damaged cache file was not replaced: %v", err)
			}
		})
	}

	t.Run("unwritable", func(t *testing.T) {
		// A path below a regular file can be neither made nor written,
		// whoever runs the test.
		d := NewHEIFDecoders(filepath.Join(path, "below-a-file"))
		if got := decodeWith(t, d); !bytes.Equal(got.Pix, want.Pix) {
			t.Fatal("decoded other pixels without a usable cache")
		}
	})
}

// Two decoders (as two processes would) compiling into one empty cache
// directory at once both work, and leave one valid cache file and no
// partial ones.
func TestHEIFDecodersShareACacheDirectory(t *testing.T) {
	dir := t.TempDir()
	ds := []*HEIFDecoders{NewHEIFDecoders(dir), NewHEIFDecoders(dir)}
	imgs := make([]*RGB, len(ds))
	var wg sync.WaitGroup
	for i, d := range ds {
		wg.Add(1)
		go func() {
			defer wg.Done()
			b, err := os.ReadFile(filepath.Join(heifDir, "plain.heic"))
			if err == nil {
				imgs[i], err = DecodeBytes(b, DecodeOptions{HEIF: d})
			}
			if err != nil {
				t.Error(err)
			}
		}()
	}
	wg.Wait()
	for _, d := range ds {
		if d.heif.rt != nil {
			_ = d.heif.rt.Close(context.Background())
		}
	}
	if t.Failed() {
		return
	}
	if !bytes.Equal(imgs[0].Pix, imgs[1].Pix) {
		t.Error("the two decoders decode other pixels")
	}
	path, _ := wasmCacheState(t, dir)
	if _, err := readWasmCache(path); err != nil {
		t.Errorf("cache file after two concurrent writers: %v", err)
	}
	entries, _ := os.ReadDir(dir)
	if len(entries) != 1 {
		var names []string
		for _, e := range entries {
			names = append(names, e.Name())
		}
		t.Errorf("cache directory holds %v, want the cache file alone", names)
	}
}
