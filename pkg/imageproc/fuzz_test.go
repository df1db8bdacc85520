package imageproc

import (
	"os"
	"path/filepath"
	"testing"
)

// FuzzDecodePreprocess feeds arbitrary bytes through the whole path a user
// file takes: it must return an error or a tensor, never panic. Seeds are the
// small test images (every format and the broken ones); the corpus found by
// `go test -fuzz` lives in testdata/fuzz/FuzzDecodePreprocess.
func FuzzDecodePreprocess(f *testing.F) {
	entries, err := os.ReadDir(imagesDir)
	if err != nil {
		f.Fatal(err)
	}
	for _, e := range entries {
		info, err := e.Info()
		if err != nil || info.Size() > 64<<10 || filepath.Ext(e.Name()) == ".md" {
			continue
		}
		b, err := os.ReadFile(filepath.Join(imagesDir, e.Name()))
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b, false)
	}
	hf := OpenAIConfig()
	squash := OpenAIConfig()
	squash.ShortestEdge, squash.Height, squash.Width, squash.DoCenterCrop = 0, 17, 9, false
	squash.Resample = Bilinear
	f.Fuzz(func(t *testing.T, data []byte, openai bool) {
		// Our JPEG decoder runs under a recover() in DecodeBytes; call it
		// bare here so that its panics are found, not hidden.
		if len(data) > 2 && data[0] == 0xFF && data[1] == 0xD8 {
			// A 1-row ring: slot reuse on every input; the scale (reduced
			// IDCTs, scaled upsampling) varies with the input.
			decodeJPEGRing(data, 4e6, 1, [4]int{1, 2, 4, 8}[len(data)%4])
		}
		// A small cap keeps each input's allocation bounded while fuzzing.
		img, err := DecodeBytes(data, DecodeOptions{MaxMegapixels: 4})
		if err != nil {
			return
		}
		b := img.Bounds()
		if b.Dx() <= 0 || b.Dy() <= 0 || len(img.Pix) != 3*b.Dx()*b.Dy() {
			t.Fatalf("decoded %v with %d bytes", b, len(img.Pix))
		}
		c := hf
		if openai {
			c.CropRounding = CropOpenAI
		}
		dst := make([]float32, 3*224*224)
		if err := c.Preprocess(img, dst); err != nil {
			t.Fatalf("preprocess of a decoded %v image: %v", b, err)
		}
		if err := squash.Preprocess(img, make([]float32, 3*17*9)); err != nil {
			t.Fatalf("squash preprocess: %v", err)
		}
	})
}
