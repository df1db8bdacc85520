package imageproc

import (
	"bytes"
	"image"
	"image/jpeg"
	"math"
	"os"
	"path/filepath"
	"testing"
	"time"
)

// benchJPEGPath is where the 12 MP benchmark JPEG is written, so that
// scripts/bench_pillow.py times Pillow on the very same file
// (override with CLIP_BENCH_JPEG; an existing file there is read instead,
// e.g. a photo from scripts/make_phone_jpegs.py).
func benchJPEGPath() string {
	if p := os.Getenv("CLIP_BENCH_JPEG"); p != "" {
		return p
	}
	return filepath.Join(os.TempDir(), "clip-bench-12mp.jpg")
}

// make12MPJPEG encodes a deterministic 4000×3000 photo-like picture
// (smooth colour fields plus texture) at quality 90, 4:2:0.
func make12MPJPEG(b *testing.B) []byte {
	b.Helper()
	if p := os.Getenv("CLIP_BENCH_JPEG"); p != "" {
		if data, err := os.ReadFile(p); err == nil {
			return data
		}
	}
	const w, h = 4000, 3000
	img := image.NewYCbCr(image.Rect(0, 0, w, h), image.YCbCrSubsampleRatio420)
	for y := 0; y < h; y++ {
		for x := 0; x < w; x++ {
			fx, fy := float64(x)/w, float64(y)/h
			v := 128 + 70*math.Sin(6*fx+3*fy) + 30*math.Sin(float64(x*y%977)/50) + float64((x*7919+y*104729)%23)
			img.Y[y*img.YStride+x] = uint8(math.Max(0, math.Min(255, v)))
		}
	}
	for y := 0; y < h/2; y++ {
		for x := 0; x < w/2; x++ {
			img.Cb[y*img.CStride+x] = uint8(128 + 60*math.Sin(float64(x)/300))
			img.Cr[y*img.CStride+x] = uint8(128 + 60*math.Cos(float64(y)/200))
		}
	}
	var buf bytes.Buffer
	if err := jpeg.Encode(&buf, img, &jpeg.Options{Quality: 90}); err != nil {
		b.Fatal(err)
	}
	if err := os.WriteFile(benchJPEGPath(), buf.Bytes(), 0o644); err != nil {
		b.Logf("cannot write %s for the Pillow comparison: %v", benchJPEGPath(), err)
	}
	return buf.Bytes()
}

// reportCPU adds cpu-ms/op, the process's CPU time per iteration of the
// timed loop (all threads), beside the wall-clock ns/op.
func reportCPU(b *testing.B, start time.Duration) {
	b.ReportMetric(float64(processCPU(b)-start)/1e6/float64(b.N), "cpu-ms/op")
}

// BenchmarkDecodePreprocess12MP is the whole per-image path of
// `clip classify` for a phone photo: JPEG decode, Pillow-exact conversion,
// resize to shortest edge 224, crop, normalise. Compare with
// scripts/bench_pillow.py on the same file.
func BenchmarkDecodePreprocess12MP(b *testing.B) {
	data := make12MPJPEG(b)
	c := OpenAIConfig()
	dst := make([]float32, 3*224*224)
	b.SetBytes(int64(len(data)))
	b.ResetTimer()
	defer reportCPU(b, processCPU(b))
	for i := 0; i < b.N; i++ {
		img, err := DecodeBytes(data, DecodeOptions{})
		if err != nil {
			b.Fatal(err)
		}
		if err := c.Preprocess(img, dst); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkDecodePreprocess12MPReduced is the default path: the JPEG is
// decoded at 1/4 in the DCT domain (Pillow's draft), then preprocessed.
// Compare with scripts/bench_pillow.py's draft timing.
func BenchmarkDecodePreprocess12MPReduced(b *testing.B) {
	data := make12MPJPEG(b)
	c := OpenAIConfig()
	opt := DecodeOptions{DraftSize: c.DraftSize()}
	dst := make([]float32, 3*224*224)
	b.SetBytes(int64(len(data)))
	b.ResetTimer()
	defer reportCPU(b, processCPU(b))
	for i := 0; i < b.N; i++ {
		if err := c.PrepareBytes(data, "bench.jpg", opt, dst); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkDecode12MP is the decode + RGB conversion part alone.
func BenchmarkDecode12MP(b *testing.B) {
	data := make12MPJPEG(b)
	b.ResetTimer()
	defer reportCPU(b, processCPU(b))
	for i := 0; i < b.N; i++ {
		if _, err := DecodeBytes(data, DecodeOptions{}); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkPreprocess12MP is resize + crop + normalise of a decoded image.
func BenchmarkPreprocess12MP(b *testing.B) {
	img, err := DecodeBytes(make12MPJPEG(b), DecodeOptions{})
	if err != nil {
		b.Fatal(err)
	}
	c := OpenAIConfig()
	dst := make([]float32, 3*224*224)
	b.ResetTimer()
	defer reportCPU(b, processCPU(b))
	for i := 0; i < b.N; i++ {
		if err := c.Preprocess(img, dst); err != nil {
			b.Fatal(err)
		}
	}
}
