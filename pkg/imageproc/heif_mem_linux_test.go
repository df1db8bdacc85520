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
// not the tens of MB libheif and libde265 use inside.
func TestHEIFMemoryOutsideGoHeap(t *testing.T) {
	b, err := os.ReadFile(filepath.Join(heifDir, "grid.heic"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := DecodeBytes(b, DecodeOptions{}); err != nil { // compiles
		t.Fatal(err)
	}
	a0 := heapAllocs()
	img, err := DecodeBytes(b, DecodeOptions{})
	if err != nil {
		t.Fatal(err)
	}
	got := heapAllocs() - a0
	pixels := uint64(len(img.Pix))
	t.Logf("heap allocations %d bytes for a %dx%d image (%d bytes of RGB)", got, img.Rect.Dx(), img.Rect.Dy(), pixels)
	if got > 4*pixels+uint64(len(b))+1<<20 {
		t.Errorf("decoding allocated %d bytes on the Go heap for %d bytes of pixels: the WebAssembly memory is on the heap", got, pixels)
	}
}
