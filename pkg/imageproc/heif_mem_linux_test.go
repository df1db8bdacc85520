package imageproc

import (
	"os"
	"path/filepath"
	"runtime/metrics"
	"testing"
)

func heapAllocs() uint64 {
	s := []metrics.Sample{{Name: "/gc/heap/allocs:bytes"}}
	metrics.Read(s)
	return s[0].Value.Uint64()
}

// A HEIC decoder's WebAssembly memory lives outside the Go heap (and goes
// back to the system when the decode ends): decoding allocates on the heap
// little more than the file, the planes copied out and the RGB image,
// not the MB libheif and libde265 use inside. The counter is the whole
// process's, so the fewest bytes of three decodes count (other goroutines
// only add): 1.75-1.9 MB here with the memory outside, 7.0-7.2 MB with it
// on the heap; the bound sits between.
func TestHEIFMemoryOutsideGoHeap(t *testing.T) {
	b, err := os.ReadFile(filepath.Join(heifDir, "grid.heic"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := DecodeBytes(b, DecodeOptions{}); err != nil { // compiles
		t.Fatal(err)
	}
	var got, pixels uint64
	for i := range 3 {
		a0 := heapAllocs()
		img, err := DecodeBytes(b, DecodeOptions{})
		if err != nil {
			t.Fatal(err)
		}
		n := heapAllocs() - a0
		if i == 0 || n < got {
			got = n
		}
		pixels = uint64(len(img.Pix))
		t.Logf("heap allocations %d bytes for a %dx%d image (%d bytes of RGB)", n, img.Rect.Dx(), img.Rect.Dy(), pixels)
	}
	if limit := 4*pixels + uint64(len(b)) + 5<<19; got > limit {
		t.Errorf("decoding allocated at least %d bytes on the Go heap (limit %d) for %d bytes of pixels: the WebAssembly memory is on the heap", got, limit, pixels)
	}
}
