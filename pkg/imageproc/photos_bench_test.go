package imageproc

import (
	"context"
	"os"
	"path/filepath"
	"sort"
	"testing"
)

// The photos section of `make bench` (scripts/bench/photos.sh) points
// CLIP_BENCH_PHOTOS at scripts/bench/make_photos.py's folder: 12 MP JPEGs,
// and HEICs under heic/. One op is one photo, the files taken in turn.
func benchPhotos(b *testing.B, pattern string) [][]byte {
	dir := os.Getenv("CLIP_BENCH_PHOTOS")
	if dir == "" {
		b.Skip("CLIP_BENCH_PHOTOS not set (scripts/bench/make_photos.py makes the folder)")
	}
	paths, _ := filepath.Glob(filepath.Join(dir, pattern))
	sort.Strings(paths)
	if len(paths) == 0 {
		b.Skipf("no %s in %s", pattern, dir)
	}
	var files [][]byte
	for _, p := range paths {
		data, err := os.ReadFile(p)
		if err != nil {
			b.Fatal(err)
		}
		files = append(files, data)
	}
	return files
}

// benchDecodePreprocess times c.PrepareBytes (decode + CLIP preprocessing,
// as classify does) per file; draft selects the default reduced-size JPEG
// decode, as against --exact-decode's full decode.
func benchDecodePreprocess(b *testing.B, files [][]byte, draft bool) {
	c := OpenAIConfig()
	opt := DecodeOptions{}
	if draft {
		opt.DraftSize = c.DraftSize()
	}
	dst := make([]float32, 3*224*224)
	run := func(data []byte) {
		if err := c.PrepareBytes(data, "photo", opt, dst); err != nil {
			b.Fatal(err)
		}
	}
	run(files[0]) // a HEIC's first decode compiles the WebAssembly
	b.ResetTimer()
	defer reportCPU(b, processCPU(b))
	for i := 0; i < b.N; i++ {
		run(files[i%len(files)])
	}
}

// BenchmarkDecodePreprocessPhotos: decode + CLIP preprocessing per 12 MP
// JPEG in the default mode (reduced-size decode, Pillow's draft).
func BenchmarkDecodePreprocessPhotos(b *testing.B) {
	benchDecodePreprocess(b, benchPhotos(b, "*.jpg"), true)
}

// BenchmarkDecodePreprocessPhotosExact: the same with --exact-decode's
// full-size decode (plain Pillow's pixels).
func BenchmarkDecodePreprocessPhotosExact(b *testing.B) {
	benchDecodePreprocess(b, benchPhotos(b, "*.jpg"), false)
}

// BenchmarkDecodePreprocessHEIC: the same per 12 MP HEIC (libheif in
// WebAssembly), to set against heif-convert's time on the same files.
func BenchmarkDecodePreprocessHEIC(b *testing.B) {
	benchDecodePreprocess(b, benchPhotos(b, "heic/*.heic"), true)
}

// BenchmarkHEIFCompile is the one-off cost the first HEIC of a run pays:
// decompressing and compiling libheif's WebAssembly.
func BenchmarkHEIFCompile(b *testing.B) {
	for i := 0; i < b.N; i++ {
		c := &wasmCodec{name: "libheif", gz: &heifWasmGz}
		if err := c.compile(); err != nil {
			b.Fatal(err)
		}
		_ = c.rt.Close(context.Background())
	}
}

// BenchmarkHEIFCompileCached is that cost for every later process once a
// cache directory holds the compiled code (NewHEIFDecoders): reading and
// verifying the cache file and loading it.
func BenchmarkHEIFCompileCached(b *testing.B) {
	dir := b.TempDir()
	warm := &wasmCodec{name: "libheif", gz: &heifWasmGz, cacheDir: dir}
	if err := warm.compile(); err != nil {
		b.Fatal(err)
	}
	_ = warm.rt.Close(context.Background())
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		c := &wasmCodec{name: "libheif", gz: &heifWasmGz, cacheDir: dir}
		if err := c.compile(); err != nil {
			b.Fatal(err)
		}
		if !c.cached {
			b.Fatal("compiled instead of loading the cache")
		}
		_ = c.rt.Close(context.Background())
	}
}
