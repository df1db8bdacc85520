package server

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"image"
	"image/color"
	"image/png"
	"math"
	"strings"
	"sync"

	"github.com/clip-go/clip/pkg/clip"
)

// fakeModel is a CLIP stand-in whose answers are known by construction:
// an image's embedding is its mean colour (r, g, b), and a prompt's is the
// colour it names, so a solid red image is "red" with certainty.
type fakeModel struct {
	maxPixels int // PrepareImage refuses larger images (the megapixel cap)

	mu         sync.Mutex
	batches    []int // sizes of EncodeImages calls
	textCalls  int
	textPrompt int
	gate       chan struct{} // when set, EncodeImages waits for a value per call
	entered    chan struct{} // when set, EncodeImages signals entry
	failImages error
	// When set, PrepareImage signals entry on prepared and waits on
	// prepareGate.
	prepared    chan struct{}
	prepareGate chan struct{}
}

func (f *fakeModel) InputSize() (int, int)      { return 4, 4 }
func (f *fakeModel) Scoring() clip.Scoring      { return clip.SoftmaxScoring(100) }
func (f *fakeModel) Family() clip.Family        { return clip.FamilyCLIP }
func (f *fakeModel) DefaultTemplates() []string { return []string{clip.DefaultTemplate} }

func (f *fakeModel) PrepareImage(data []byte, name string, dst []float32) error {
	if f.prepared != nil {
		f.prepared <- struct{}{}
		<-f.prepareGate
	}
	cfg, _, err := image.DecodeConfig(bytes.NewReader(data))
	if err != nil {
		return fmt.Errorf("%s: %w", name, err)
	}
	if f.maxPixels > 0 && cfg.Width*cfg.Height > f.maxPixels {
		return fmt.Errorf("%s: image too large", name)
	}
	img, _, err := image.Decode(bytes.NewReader(data))
	if err != nil {
		return fmt.Errorf("%s: %w", name, err)
	}
	var sum [3]float64
	b := img.Bounds()
	for y := b.Min.Y; y < b.Max.Y; y++ {
		for x := b.Min.X; x < b.Max.X; x++ {
			r, g, bl, _ := img.At(x, y).RGBA()
			sum[0] += float64(r)
			sum[1] += float64(g)
			sum[2] += float64(bl)
		}
	}
	n := float64(b.Dx() * b.Dy() * 65535)
	for c := 0; c < 3; c++ {
		for i := 0; i < 16; i++ {
			dst[c*16+i] = float32(sum[c] / n)
		}
	}
	return nil
}

func (f *fakeModel) EncodeImages(ctx context.Context, pixels []float32, n int) ([][]float32, error) {
	if f.entered != nil {
		f.entered <- struct{}{}
	}
	if f.gate != nil {
		<-f.gate
	}
	f.mu.Lock()
	f.batches = append(f.batches, n)
	f.mu.Unlock()
	if f.failImages != nil {
		return nil, f.failImages
	}
	if len(pixels) != n*48 {
		return nil, errors.New("fake: wrong pixel count")
	}
	out := make([][]float32, n)
	for i := range out {
		p := pixels[i*48:]
		out[i] = unit([]float32{p[0], p[16], p[32]})
	}
	return out, nil
}

func (f *fakeModel) EncodeTexts(ctx context.Context, texts []string) ([][]float32, error) {
	f.mu.Lock()
	f.textCalls++
	f.textPrompt += len(texts)
	f.mu.Unlock()
	out := make([][]float32, len(texts))
	for i, t := range texts {
		switch {
		case strings.Contains(t, "red"):
			out[i] = unit([]float32{1, 0, 0})
		case strings.Contains(t, "green"):
			out[i] = unit([]float32{0, 1, 0})
		case strings.Contains(t, "blue"):
			out[i] = unit([]float32{0, 0, 1})
		default:
			out[i] = unit([]float32{1, 1, float32(len(t) % 7)})
		}
	}
	return out, nil
}

func (f *fakeModel) stats() (batches []int, textPrompts int) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]int(nil), f.batches...), f.textPrompt
}

func unit(v []float32) []float32 {
	var ss float64
	for _, x := range v {
		ss += float64(x) * float64(x)
	}
	for i := range v {
		v[i] = float32(float64(v[i]) / math.Sqrt(ss))
	}
	return v
}

// solidPNG is a w×h PNG of one colour.
func solidPNG(c color.Color, w, h int) []byte {
	img := image.NewRGBA(image.Rect(0, 0, w, h))
	for y := 0; y < h; y++ {
		for x := 0; x < w; x++ {
			img.Set(x, y, c)
		}
	}
	var buf bytes.Buffer
	_ = png.Encode(&buf, img)
	return buf.Bytes()
}

var (
	red   = color.RGBA{255, 0, 0, 255}
	green = color.RGBA{0, 255, 0, 255}
	blue  = color.RGBA{0, 0, 255, 255}
)
