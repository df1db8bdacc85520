package imageproc

import (
	"os"
	"path/filepath"
	"testing"
)

// Goldens from scripts/jpeg_draft_golden.py: Pillow's Image.draft, i.e.
// libjpeg-turbo decoding at 1/2, 1/4 and 1/8 scale.
const draftGoldenDir = "../../testdata/golden/draft"

type draftManifest struct {
	Decoded map[string]struct {
		Image string `json:"image"`
		Scale int    `json:"scale"`
	} `json:"decoded"`
	Crops map[string]struct {
		Image        string `json:"image"`
		ShortestEdge int    `json:"shortest_edge"`
		Scale        int    `json:"scale"`
		DraftWidth   int    `json:"draft_width"`
		DraftHeight  int    `json:"draft_height"`
	} `json:"crops"`
}

func loadDraftManifest(t *testing.T) draftManifest {
	t.Helper()
	var m draftManifest
	readManifest(t, draftGoldenDir, "scripts/jpeg_draft_golden.py", &m)
	return m
}

// The reduced decode (reduced IDCTs, chroma scaled by the IDCT or by
// libjpeg-turbo's upsampling rules for that scale) gives Pillow's pixels.
func TestJPEGScaledDecodeMatchesPillowDraft(t *testing.T) {
	m := loadDraftManifest(t)
	if len(m.Decoded) < 30 {
		t.Fatalf("only %d decoded goldens", len(m.Decoded))
	}
	for name, e := range m.Decoded {
		b, err := os.ReadFile(filepath.Join(imagesDir, e.Image))
		if err != nil {
			t.Fatal(err)
		}
		for _, ring := range []int{streamRingRows, 1} {
			img, err := decodeJPEGRing(b, 1e9, ring, e.Scale)
			if err != nil {
				t.Fatalf("%s: %v", name, err)
			}
			if o := scanJPEGMarkers(b).orientation; o > 1 {
				img = orient(img, o)
			}
			want := mustNPYIn(t, draftGoldenDir, name)
			if img.Rect.Dy() != want.shape[0] || img.Rect.Dx() != want.shape[1] {
				t.Fatalf("%s: %dx%d, Pillow %dx%d", name, img.Rect.Dx(), img.Rect.Dy(), want.shape[1], want.shape[0])
			}
			if maxd, mean, n := diffStats(img.Pix, want.u8); n != 0 {
				t.Errorf("%s (ring %d): %d bytes differ from Pillow's draft, max %d, mean %.4f", name, ring, n, maxd, mean)
			}
		}
	}
}

// DecodeBytes with DraftSize then Preprocess is Pillow's draft followed by
// CLIPImageProcessor, the default path of every command.
func TestDraftPreprocessMatchesPillow(t *testing.T) {
	m := loadDraftManifest(t)
	for name, e := range m.Crops {
		c := OpenAIConfig()
		c.ShortestEdge, c.CropHeight, c.CropWidth = e.ShortestEdge, e.ShortestEdge, e.ShortestEdge
		b, err := os.ReadFile(filepath.Join(imagesDir, e.Image))
		if err != nil {
			t.Fatal(err)
		}
		img, err := DecodeBytes(b, DecodeOptions{DraftSize: c.DraftSize()})
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if w, h := img.Rect.Dx(), img.Rect.Dy(); w != e.DraftWidth && w != e.DraftHeight || w*h != e.DraftWidth*e.DraftHeight {
			t.Fatalf("%s: decoded %dx%d, Pillow's draft %dx%d", name, w, h, e.DraftWidth, e.DraftHeight)
		}
		got := make([]float32, 3*e.ShortestEdge*e.ShortestEdge)
		if err := c.Preprocess(img, got); err != nil {
			t.Fatal(err)
		}
		if maxd, mean := pixelSpaceError(c, got, mustNPYIn(t, draftGoldenDir, name).u8); maxd > 1e-3 {
			t.Errorf("%s (1/%d): max %.3f/255, mean %.4f/255 from Pillow draft + CLIPImageProcessor", name, e.Scale, maxd, mean)
		}
	}
}

func TestDraftScaleAsPillow(t *testing.T) {
	for _, c := range []struct{ w, h, size, want int }{
		{4000, 3000, 448, 4}, // 3000/448 = 6
		{3000, 4000, 448, 4},
		{4000, 3600, 448, 8},
		{1411, 1411, 448, 2},
		{895, 4000, 448, 1},
		{896, 4000, 448, 2},
		{4000, 3000, 0, 1},
		{100, 100, 448, 1},
	} {
		if got := draftScale(c.w, c.h, c.size); got != c.want {
			t.Errorf("draftScale(%d, %d, %d) = %d, want %d", c.w, c.h, c.size, got, c.want)
		}
	}
}
