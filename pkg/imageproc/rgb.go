// Package imageproc turns image files into the exact float32 tensor a CLIP
// vision model expects: decoding (standard library + golang.org/x/image),
// Pillow-compatible conversion to RGB, EXIF orientation, Pillow-identical
// resampling, center crop, rescale and normalisation, configured from a
// model directory's preprocessor_config.json (Hugging Face) or
// preprocess_cfg.json (open_clip / immich).
//
// The reference is Hugging Face's CLIPImageProcessor on Pillow: images are
// converted with Image.convert("RGB") BEFORE resizing, which drops alpha
// (the colour stored under transparent pixels is used as is; nothing is
// composited on a background), turns grayscale into equal R=G=B, looks up
// palettes, clips 16-bit grayscale at 255 (Pillow's I→L rule, no scaling)
// and takes the high byte of 16-bit colour samples.
//
// Every decoded pixel equals Pillow 9.4's (Debian 12) for the test images:
// JPEG goes through this package's libjpeg-compatible decoder (islow IDCT,
// fancy chroma upsampling, libjpeg's colour tables; Go's image/jpeg is only
// a fallback, within 4/255), lossy WebP through libwebp's upsampling and
// YUV formulas on top of x/image/webp, the rest through the standard
// decoders. EXIF orientation is applied to JPEG, PNG (eXIf) and WebP files
// (as transformers' load_image does with ImageOps.exif_transpose);
// arithmetic-coded and lossless JPEGs are refused with a clear error, and
// damaged progressive JPEGs whose later scans are missing differ slightly
// (libjpeg's block smoothing is not reproduced).
package imageproc

import (
	"image"
	"image/color"
)

// RGB is an 8-bit RGB image with 3 interleaved bytes per pixel, the layout
// Pillow's mode "RGB" pixels have once read out. Decode returns *RGB.
type RGB struct {
	Pix    []uint8
	Stride int
	Rect   image.Rectangle
}

// NewRGB allocates a w×h RGB image.
func NewRGB(w, h int) *RGB {
	return &RGB{Pix: make([]uint8, 3*w*h), Stride: 3 * w, Rect: image.Rect(0, 0, w, h)}
}

// ColorModel implements image.Image.
func (m *RGB) ColorModel() color.Model { return color.RGBAModel }

// Bounds implements image.Image.
func (m *RGB) Bounds() image.Rectangle { return m.Rect }

// At implements image.Image (slow path; internal code reads Pix).
func (m *RGB) At(x, y int) color.Color {
	if !(image.Point{x, y}.In(m.Rect)) {
		return color.RGBA{}
	}
	i := (y-m.Rect.Min.Y)*m.Stride + 3*(x-m.Rect.Min.X)
	return color.RGBA{m.Pix[i], m.Pix[i+1], m.Pix[i+2], 255}
}

// row returns the bytes of row y (0-based from Rect.Min.Y).
func (m *RGB) row(y int) []uint8 {
	w := m.Rect.Dx()
	return m.Pix[y*m.Stride : y*m.Stride+3*w]
}
