package imageproc

import (
	"context"
	"fmt"
	"image"
)

// Preprocess turns img into the model input, float32 CHW (one image of the
// NCHW batch), written into dst, which must hold 3*H*W values for
// (H, W) = OutputSize(img). img is first converted to RGB as Pillow's
// convert("RGB") does (Decode already returns RGB).
func (c Config) Preprocess(img image.Image, dst []float32) error {
	if img == nil {
		return fmt.Errorf("preprocess: nil image")
	}
	src := ToRGB(img)
	sw, sh := src.Rect.Dx(), src.Rect.Dy()
	if sw <= 0 || sh <= 0 {
		return fmt.Errorf("preprocess: empty image %dx%d", sw, sh)
	}
	if err := c.validate(); err != nil {
		return fmt.Errorf("preprocess config: %w", err)
	}
	oh, ow := c.OutputSize(sw, sh)
	if int64(oh)*int64(ow) > maxOutputPixels {
		return fmt.Errorf("preprocess: output %dx%d is too large (no center crop in the config?)", ow, oh)
	}
	if len(dst) != 3*oh*ow {
		return fmt.Errorf("preprocess: dst holds %d values, want 3×%d×%d = %d", len(dst), oh, ow, 3*oh*ow)
	}
	rw, rh := c.ResizedSize(sw, sh)
	if rw <= 0 || rh <= 0 {
		return fmt.Errorf("preprocess: %dx%d image resizes to %dx%d", sw, sh, rw, rh)
	}

	// The crop window in resized coordinates; parts outside the resized
	// image are zero padding (HF's center_crop pads small images with 0).
	top, left := 0, 0
	if c.DoCenterCrop {
		top = cropOffset(rh, oh, c.CropRounding)
		left = cropOffset(rw, ow, c.CropRounding)
	}
	window := image.Rect(left, top, left+ow, top+oh)
	var pix *RGB
	if c.DoResize && (rw != sw || rh != sh) {
		var err error
		if pix, err = resizeRegion(src, rw, rh, c.Resample, window); err != nil {
			return fmt.Errorf("preprocess: %w", err)
		}
	} else {
		pix = cropRGB(src, window)
	}
	// pix holds window ∩ resized image; place it at its offset in the output.
	inter := window.Intersect(image.Rect(0, 0, rw, rh))
	offX, offY := inter.Min.X-window.Min.X, inter.Min.Y-window.Min.Y

	var lut [3][256]float32
	for ch := 0; ch < 3; ch++ {
		for v := 0; v < 256; v++ {
			lut[ch][v] = c.pixelValue(ch, uint8(v))
		}
	}
	plane := oh * ow
	for ch := 0; ch < 3; ch++ {
		zero := lut[ch][0]
		p := dst[ch*plane : (ch+1)*plane]
		for i := range p {
			p[i] = zero
		}
	}
	iw := inter.Dx()
	parallelRows(inter.Dy(), func(a, e int) {
		for y := a; y < e; y++ {
			row := pix.row(y)
			base := (y+offY)*ow + offX
			r := dst[base : base+iw]
			g := dst[plane+base : plane+base+iw]
			b := dst[2*plane+base : 2*plane+base+iw]
			for x := 0; x < iw; x++ {
				r[x] = lut[0][row[3*x]]
				g[x] = lut[1][row[3*x+1]]
				b[x] = lut[2][row[3*x+2]]
			}
		}
	})
	return nil
}

// maxOutputPixels bounds the tensor of a config without a crop, where the
// size follows the image (a 1×N image resized to shortest edge 224 would
// otherwise ask for gigabytes).
const maxOutputPixels = 1 << 24

// pixelValue is one 8-bit sample after rescale and normalise, in HF's
// arithmetic: float32(float64(v) * factor), then (x - mean) / std in float32.
func (c Config) pixelValue(ch int, v uint8) float32 {
	var x float32
	switch {
	case c.DoRescale && c.RescaleDivisor > 0:
		x = float32(v) / c.RescaleDivisor
	case c.DoRescale:
		x = float32(float64(v) * c.RescaleFactor)
	default:
		x = float32(v)
	}
	if c.DoNormalize {
		x = float32(x-c.Mean[ch]) / c.Std[ch]
	}
	return x
}

// PixelValue exposes pixelValue for callers that need to map between
// 8-bit pixels and tensor values (tests, debugging tools).
func (c Config) PixelValue(ch int, v uint8) float32 { return c.pixelValue(ch, v) }

// cropOffset is the top (or left) of a center crop of size crop in size,
// in the image's coordinates; negative when the crop is larger, the
// uncovered part being zero padding. HF pads with ceil(margin/2) before
// the image and indexes the padded array at offset+pad, which is the same
// window as (size-crop)//2 unpadded. torchvision pads margin//2 before.
func cropOffset(size, crop int, r CropRounding) int {
	d := size - crop
	if r == CropOpenAI {
		if d < 0 {
			return -((-d) / 2)
		}
		// round(d / 2.0) with Python's half-to-even.
		q := floorDiv(d, 2)
		if d%2 != 0 && q%2 != 0 { // exactly .5 and the floor is odd: round up
			q++
		}
		return q
	}
	return floorDiv(d, 2) // Python's //
}

func floorDiv(a, b int) int {
	q := a / b
	if (a%b != 0) && ((a < 0) != (b < 0)) {
		q--
	}
	return q
}

// cropRGB copies the part of window inside src.
func cropRGB(src *RGB, window image.Rectangle) *RGB {
	r := window.Intersect(image.Rect(0, 0, src.Rect.Dx(), src.Rect.Dy()))
	out := NewRGB(r.Dx(), r.Dy())
	for y := 0; y < r.Dy(); y++ {
		copy(out.row(y), src.row(r.Min.Y + y)[3*r.Min.X:3*r.Max.X])
	}
	return out
}

// PreprocessBatch fills dst, a preallocated [N,3,H,W] float32 slice, with
// the N images (all must give the model's fixed InputSize).
func (c Config) PreprocessBatch(ctx context.Context, imgs []image.Image, dst []float32) error {
	h, w := c.InputSize()
	if h == 0 || w == 0 {
		return fmt.Errorf("preprocess batch: the config gives image-dependent sizes (no crop), batch needs a fixed size")
	}
	per := 3 * h * w
	if len(dst) != per*len(imgs) {
		return fmt.Errorf("preprocess batch: dst holds %d values, want %d×3×%d×%d = %d", len(dst), len(imgs), h, w, per*len(imgs))
	}
	for i, img := range imgs {
		if err := ctx.Err(); err != nil {
			return err
		}
		if err := c.Preprocess(img, dst[i*per:(i+1)*per]); err != nil {
			return fmt.Errorf("image %d: %w", i, err)
		}
	}
	return nil
}

// PrepareBytes decodes an image file's bytes and writes the model input
// (3×H×W, H×W = InputSize) into dst: what a classify pipeline's worker
// does per file. Errors name the file.
func (c Config) PrepareBytes(data []byte, name string, opt DecodeOptions, dst []float32) error {
	img, err := DecodeBytes(data, opt)
	if err != nil {
		return fmt.Errorf("%s: %w", name, err)
	}
	if err := c.Preprocess(img, dst); err != nil {
		return fmt.Errorf("%s: %w", name, err)
	}
	return nil
}
