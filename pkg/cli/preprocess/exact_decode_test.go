package preprocess

import (
	"path/filepath"
	"testing"
)

// A 1411×1411 JPEG is decoded at 1/2 by default (Pillow's draft for shortest
// edge 224 asks for 448); --exact-decode decodes every pixel, as plain Pillow.
func TestExactDecodeFlag(t *testing.T) {
	dir := modelDir(t)
	tmp := t.TempDir()
	img := filepath.Join(images, "retina_2mp.jpg")
	exact, reduced := filepath.Join(tmp, "exact.npy"), filepath.Join(tmp, "reduced.npy")
	if _, _, err := run(t, img, "--model", dir, "--out", exact, "--exact-decode"); err != nil {
		t.Fatal(err)
	}
	if _, _, err := run(t, img, "--model", dir, "--out", reduced); err != nil {
		t.Fatal(err)
	}
	if e := maxPixelError(t, readTensor(t, exact), "retina_2mp.jpg.crop.npy"); e != 0 {
		t.Errorf("--exact-decode: %.3f/255 from plain Pillow + HF, want exact", e)
	}
	// The reduced path's own Pillow reference is in pkg/imageproc's tests;
	// here: it was taken (its resampling differs most at this image's sharp
	// rim: 35/255 at one pixel).
	if e := maxPixelError(t, readTensor(t, reduced), "retina_2mp.jpg.crop.npy"); e == 0 || e > 64 {
		t.Errorf("default decode: %.3f/255 from the full decode, want a nonzero difference", e)
	}
}
