package imageproc

import (
	"bytes"
	"errors"
	"fmt"
	"image"
	"image/color"
	"image/gif"
	"image/jpeg"
	"image/png"
	"io"
	"math"
	"os"

	"golang.org/x/image/bmp"
	"golang.org/x/image/tiff"
	"golang.org/x/image/webp"
)

// DefaultMaxMegapixels is the default cap on width×height claimed by a
// file's header; larger images are refused before any pixel is decoded
// (decompression bombs).
const DefaultMaxMegapixels = 100

// DecodeOptions control Decode.
type DecodeOptions struct {
	// NoEXIFRotate disables applying the EXIF orientation of JPEG, PNG
	// (eXIf) and WebP files (applied by default, as
	// transformers.image_utils.load_image does with ImageOps.exif_transpose).
	NoEXIFRotate bool
	// MaxMegapixels caps width×height from the header; 0 means
	// DefaultMaxMegapixels, negative means no cap.
	MaxMegapixels float64
	// DraftSize > 0 lets a JPEG decode at 1/2, 1/4 or 1/8 of its size in
	// the DCT domain when both sides stay at least DraftSize, exactly as
	// Pillow's Image.draft("RGB", (DraftSize, DraftSize)) does (see
	// Config.DraftSize). 0 decodes every pixel.
	DraftSize int
	// HEIF decodes HEIC and AVIF files; nil means decoders shared by the
	// process and compiled once in it (see NewHEIFDecoders for caching
	// the compiled code across processes).
	HEIF *HEIFDecoders
}

// draftScale is the reduction Pillow's JpegImageFile.draft picks for a
// requested size: the largest of 8, 4, 2 not above min(w/size, h/size).
func draftScale(w, h, size int) int {
	if size <= 0 {
		return 1
	}
	s := min(w/size, h/size)
	for _, n := range []int{8, 4, 2} {
		if s >= n {
			return n
		}
	}
	return 1
}

// ErrTooLarge is wrapped by errors for images over the megapixel cap.
var ErrTooLarge = errors.New("image too large")

type format struct {
	name         string
	magic        func([]byte) bool
	decode       func(io.Reader) (image.Image, error)
	decodeConfig func(io.Reader) (image.Config, error)
}

// Formats are tried by their magic bytes; we keep our own table rather than
// image.RegisterFormat so that nothing global changes.
var formats = []format{
	{"jpeg", func(b []byte) bool { return bytes.HasPrefix(b, []byte{0xFF, 0xD8}) }, jpeg.Decode, jpeg.DecodeConfig},
	{"png", func(b []byte) bool { return bytes.HasPrefix(b, []byte("\x89PNG\r\n\x1a\n")) }, png.Decode, png.DecodeConfig},
	{"gif", func(b []byte) bool { return bytes.HasPrefix(b, []byte("GIF8")) }, gif.Decode, gif.DecodeConfig},
	{"bmp", func(b []byte) bool { return bytes.HasPrefix(b, []byte("BM")) }, bmp.Decode, bmp.DecodeConfig},
	{"tiff", func(b []byte) bool {
		return bytes.HasPrefix(b, []byte("II*\x00")) || bytes.HasPrefix(b, []byte("MM\x00*"))
	}, tiff.Decode, tiff.DecodeConfig},
	{"webp", func(b []byte) bool {
		return len(b) >= 12 && string(b[:4]) == "RIFF" && string(b[8:12]) == "WEBP"
	}, webp.Decode, webp.DecodeConfig},
}

// Decode reads an image file and returns it as *RGB, converted as Pillow's
// convert("RGB") would, with EXIF orientation applied (see DecodeOptions).
// Errors name the file.
//
// Only a regular file is opened (a FIFO would block the open, a device
// never end), and one larger than opt.MaxFileBytes is refused unread.
func Decode(path string, opt DecodeOptions) (image.Image, error) {
	st, err := os.Stat(path)
	if err != nil {
		return nil, err // *PathError already names the file
	}
	if !st.Mode().IsRegular() {
		return nil, fmt.Errorf("%s: not a regular file (a pipe, device or socket)", path)
	}
	if max := opt.MaxFileBytes(); max > 0 && st.Size() > max {
		return nil, fmt.Errorf("%s: %w: file is %d bytes, more than any image under the megapixel limit (%d)", path, ErrTooLarge, st.Size(), max)
	}
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return DecodeReader(f, path, opt)
}

// DecodeReader is Decode for an open stream; name is used in errors. It
// reads at most opt.MaxFileBytes.
func DecodeReader(r io.Reader, name string, opt DecodeOptions) (image.Image, error) {
	if max := opt.MaxFileBytes(); max > 0 {
		r = io.LimitReader(r, max+1)
	}
	b, err := io.ReadAll(r)
	if err != nil {
		return nil, fmt.Errorf("%s: reading: %w", name, err)
	}
	if max := opt.MaxFileBytes(); max > 0 && int64(len(b)) > max {
		return nil, fmt.Errorf("%s: %w: more than %d bytes, more than any image under the megapixel limit", name, ErrTooLarge, max)
	}
	img, err := DecodeBytes(b, opt)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	return img, nil
}

// DecodeBytes decodes an in-memory file (errors do not carry a name).
func DecodeBytes(b []byte, opt DecodeOptions) (*RGB, error) {
	if len(b) == 0 {
		return nil, errors.New("empty file (0 bytes)")
	}
	ft := sniffFormat(b)
	if ft == nil {
		switch sniffHEIF(b) {
		case "heif":
			return decodeHEIFFile(b, opt, "heif", opt.heifDecoders().decodeHEIF)
		case "avif":
			return decodeHEIFFile(b, opt, "avif", opt.heifDecoders().decodeAVIF)
		}
		return nil, errNotImage
	}
	cfg, err := guard(ft.name, func() (image.Config, error) { return ft.decodeConfig(bytes.NewReader(b)) })
	if err != nil {
		if ft.name == "jpeg" {
			if sof := scanJPEGMarkers(b).sof; sof >= 0xC9 {
				return nil, fmt.Errorf("arithmetic-coded JPEG (SOF%d) is not supported", sof-0xC0)
			} else if sof == 0xC3 || sof >= 0xC5 {
				return nil, fmt.Errorf("lossless or hierarchical JPEG (SOF%d) is not supported", sof-0xC0)
			}
		}
		return nil, fmt.Errorf("invalid %s header: %w", ft.name, err)
	}
	if err := checkPixels(ft.name, cfg, opt); err != nil {
		return nil, err
	}
	maxPixels := pixelCap(opt)
	if ft.name == "jpeg" {
		markers := scanJPEGMarkers(b)
		// Our libjpeg-compatible decoder gives Pillow's exact pixels; Go's
		// image/jpeg is the fallback for what ours does not handle (and
		// the judge of files ours refuses).
		// A reduced decode that ours cannot do falls back to image/jpeg at
		// full size (rare files: arithmetic coding, odd sampling).
		scale := draftScale(cfg.Width, cfg.Height, opt.DraftSize)
		img, err := guard("jpeg", func() (*RGB, error) { return decodeJPEGScaled(b, maxPixels, scale) })
		if errors.Is(err, errTooManyScans) {
			return nil, err
		}
		if err != nil || img.Rect.Dx() != ceilDiv(cfg.Width, scale) || img.Rect.Dy() != ceilDiv(cfg.Height, scale) {
			src, err := decodeStd(ft, b, cfg)
			if err != nil {
				return nil, err
			}
			img = jpegToRGB(src, markers.adobe)
		}
		if !opt.NoEXIFRotate && markers.orientation > 1 {
			img = orient(img, markers.orientation)
		}
		return img, nil
	}
	if ft.name == "webp" {
		if frame, canvas, off, ok := webpFirstFrame(b); ok {
			return decodeWebPAnimation(frame, canvas, off, opt, b)
		}
	}
	src, err := decodeStd(ft, b, cfg)
	if err != nil {
		return nil, err
	}
	var img *RGB
	orientation := 0
	switch ft.name {
	case "webp":
		img, orientation = webpToRGB(src), webpOrientation(b)
	case "gif":
		img = gifToRGB(src, b, cfg)
	case "png":
		img, orientation = ToRGB(src), pngOrientation(b)
	default:
		// TIFF orientation is left alone: Pillow 9.4 applies it while
		// loading and exif_transpose then applies it a second time, a
		// behaviour not worth copying.
		img = ToRGB(src)
	}
	if !opt.NoEXIFRotate && orientation > 1 {
		img = orient(img, orientation)
	}
	return img, nil
}

// SupportedFormats names the image formats Decode reads, for messages.
const SupportedFormats = "JPEG, PNG, GIF, BMP, TIFF, WebP, HEIC/HEIF or AVIF"

// pixelCap is opt's megapixel cap in pixels (MaxInt64 when it is off).
func pixelCap(opt DecodeOptions) int64 {
	maxMP := opt.MaxMegapixels
	if maxMP == 0 {
		maxMP = DefaultMaxMegapixels
	}
	if maxMP <= 0 {
		return math.MaxInt64
	}
	return int64(maxMP * 1e6)
}

// decodeHEIFFile runs a WebAssembly HEIF/AVIF decoder, which reports the
// header's size to check before it decodes any pixel.
func decodeHEIFFile(b []byte, opt DecodeOptions, name string, dec func([]byte, func(w, h int) error) (*RGB, error)) (*RGB, error) {
	img, err := dec(b, func(w, h int) error {
		if w <= 0 || h <= 0 {
			return fmt.Errorf("invalid %s header: size %dx%d", name, w, h)
		}
		return checkPixels(name, image.Config{Width: w, Height: h}, opt)
	})
	if err != nil {
		if errors.Is(err, ErrTooLarge) || errors.Is(err, errWasmSetup) {
			return nil, err
		}
		return nil, fmt.Errorf("corrupt or truncated %s: %w", name, err)
	}
	return img, nil
}

// decodeWebPAnimation renders the first frame of an animated WebP as
// libwebp's WebPAnimDecoder does for Pillow: a transparent-black canvas
// with the frame decoded into it at its offset, then alpha dropped.
func decodeWebPAnimation(frame []byte, canvas, off image.Point, opt DecodeOptions, whole []byte) (*RGB, error) {
	// The frame's own header is not covered by the canvas size the
	// megapixel cap checked: a frame larger than its canvas is corrupt.
	fc, err := guard("webp", func() (image.Config, error) { return webp.DecodeConfig(bytes.NewReader(frame)) })
	if err != nil {
		return nil, fmt.Errorf("corrupt animated webp (first frame): %w", err)
	}
	if fc.Width > canvas.X || fc.Height > canvas.Y {
		return nil, fmt.Errorf("corrupt animated webp: first frame %dx%d larger than the %dx%d canvas", fc.Width, fc.Height, canvas.X, canvas.Y)
	}
	src, err := guard("webp", func() (image.Image, error) { return webp.Decode(bytes.NewReader(frame)) })
	if err != nil {
		return nil, fmt.Errorf("corrupt animated webp (first frame): %w", err)
	}
	fr := webpToRGB(src)
	dst := NewRGB(canvas.X, canvas.Y)
	r := image.Rectangle{off, off.Add(fr.Rect.Size())}.Intersect(dst.Rect)
	for y := r.Min.Y; y < r.Max.Y; y++ {
		copy(dst.row(y)[3*r.Min.X:3*r.Max.X], fr.row(y - off.Y)[3*(r.Min.X-off.X):3*(r.Max.X-off.X)])
	}
	if o := webpOrientation(whole); !opt.NoEXIFRotate && o > 1 {
		dst = orient(dst, o)
	}
	return dst, nil
}

// decodeStd runs the standard-library / x/image decoder of a format.
func decodeStd(ft *format, b []byte, cfg image.Config) (image.Image, error) {
	src, err := guard(ft.name, func() (image.Image, error) { return ft.decode(bytes.NewReader(b)) })
	if err != nil {
		return nil, fmt.Errorf("corrupt or truncated %s: %w", ft.name, err)
	}
	// A GIF's first frame may be smaller than the logical screen (gifToRGB
	// places it on a screen-sized canvas); other formats must agree.
	if ft.name != "gif" && (src.Bounds().Dx() != cfg.Width || src.Bounds().Dy() != cfg.Height) {
		return nil, fmt.Errorf("corrupt %s: header says %dx%d, data %dx%d", ft.name, cfg.Width, cfg.Height, src.Bounds().Dx(), src.Bounds().Dy())
	}
	return src, nil
}

// guard runs a third-party decoder, which is not guaranteed panic-free on
// hostile input: a panic becomes an error, never a crash. Only the decoder
// calls are guarded, so our own code's bugs still surface in fuzzing.
func guard[T any](format string, fn func() (T, error)) (v T, err error) {
	defer func() {
		if p := recover(); p != nil {
			var zero T
			v, err = zero, fmt.Errorf("corrupt %s data (decoder panic: %v)", format, p)
		}
	}()
	return fn()
}

// ToRGB converts any image.Image to *RGB following Pillow's
// convert("RGB"): alpha dropped (non-premultiplied colour kept), gray
// replicated, 16-bit gray clipped at 255, 16-bit colour reduced to its
// high byte. An *RGB is returned as is.
func ToRGB(src image.Image) *RGB {
	if m, ok := src.(*RGB); ok {
		return m
	}
	b := src.Bounds()
	w, h := b.Dx(), b.Dy()
	dst := NewRGB(w, h)
	switch s := src.(type) {
	case *image.YCbCr:
		ycbcrToRGBNearest(s, dst)
	case *image.RGBA:
		// Opaque decodes (JPEG Adobe RGB, BMP, TIFF, opaque PNG) land here;
		// for translucent pixels this is un-premultiplied below instead.
		parallelRows(h, func(a, e int) {
			for y := a; y < e; y++ {
				in := s.Pix[(y)*s.Stride : (y)*s.Stride+4*w]
				o := dst.row(y)
				for x := 0; x < w; x++ {
					p := in[4*x : 4*x+4]
					if p[3] == 255 || p[3] == 0 {
						o[3*x], o[3*x+1], o[3*x+2] = p[0], p[1], p[2]
					} else {
						c := color.NRGBAModel.Convert(color.RGBA{p[0], p[1], p[2], p[3]}).(color.NRGBA)
						o[3*x], o[3*x+1], o[3*x+2] = c.R, c.G, c.B
					}
				}
			}
		})
	case *image.NRGBA:
		parallelRows(h, func(a, e int) {
			for y := a; y < e; y++ {
				in := s.Pix[y*s.Stride : y*s.Stride+4*w]
				o := dst.row(y)
				for x := 0; x < w; x++ {
					o[3*x], o[3*x+1], o[3*x+2] = in[4*x], in[4*x+1], in[4*x+2]
				}
			}
		})
	case *image.Gray:
		for y := 0; y < h; y++ {
			in := s.Pix[y*s.Stride : y*s.Stride+w]
			o := dst.row(y)
			for x, v := range in {
				o[3*x], o[3*x+1], o[3*x+2] = v, v, v
			}
		}
	case *image.Gray16:
		// Pillow opens 16-bit gray as mode I and I→RGB clips to 0..255.
		for y := 0; y < h; y++ {
			in := s.Pix[y*s.Stride : y*s.Stride+2*w]
			o := dst.row(y)
			for x := 0; x < w; x++ {
				v := uint16(in[2*x])<<8 | uint16(in[2*x+1])
				c := uint8(min(v, 255))
				o[3*x], o[3*x+1], o[3*x+2] = c, c, c
			}
		}
	case *image.NRGBA64:
		for y := 0; y < h; y++ {
			in := s.Pix[y*s.Stride : y*s.Stride+8*w]
			o := dst.row(y)
			for x := 0; x < w; x++ {
				o[3*x], o[3*x+1], o[3*x+2] = in[8*x], in[8*x+2], in[8*x+4]
			}
		}
	case *image.Paletted:
		pal := make([][3]uint8, 256)
		for i, c := range s.Palette {
			if i >= 256 {
				break
			}
			pal[i] = nrgb(c)
		}
		for y := 0; y < h; y++ {
			in := s.Pix[y*s.Stride : y*s.Stride+w]
			o := dst.row(y)
			for x, idx := range in {
				p := pal[idx]
				o[3*x], o[3*x+1], o[3*x+2] = p[0], p[1], p[2]
			}
		}
	case *image.CMYK:
		cmykToRGB(s, dst, false)
	default:
		for y := 0; y < h; y++ {
			o := dst.row(y)
			for x := 0; x < w; x++ {
				p := nrgb(src.At(b.Min.X+x, b.Min.Y+y))
				o[3*x], o[3*x+1], o[3*x+2] = p[0], p[1], p[2]
			}
		}
	}
	return dst
}

// nrgb is a colour's non-premultiplied 8-bit RGB (high bytes of 16-bit).
func nrgb(c color.Color) [3]uint8 {
	switch v := c.(type) {
	case color.NRGBA:
		return [3]uint8{v.R, v.G, v.B}
	case color.RGBA:
		if v.A == 255 || v.A == 0 {
			return [3]uint8{v.R, v.G, v.B}
		}
	case color.Gray:
		return [3]uint8{v.Y, v.Y, v.Y}
	case color.Gray16:
		g := uint8(min(v.Y, 255))
		return [3]uint8{g, g, g}
	}
	n := color.NRGBA64Model.Convert(c).(color.NRGBA64)
	return [3]uint8{uint8(n.R >> 8), uint8(n.G >> 8), uint8(n.B >> 8)}
}

// cmykToRGB is Pillow's cmyk2rgb: with nk = 255-K, R = nk - round(C*nk/255)
// (MULDIV255). Go's decoder hands back ink values (it inverts Adobe data);
// when the file has no Adobe marker Pillow does not invert, so the raw
// samples are taken as ink instead (notAdobe).
func cmykToRGB(s *image.CMYK, dst *RGB, notAdobe bool) {
	w, h := s.Rect.Dx(), s.Rect.Dy()
	mul := func(a, b int) int { t := a*b + 128; return ((t >> 8) + t) >> 8 }
	parallelRows(h, func(a, e int) {
		for y := a; y < e; y++ {
			in := s.Pix[y*s.Stride : y*s.Stride+4*w]
			o := dst.row(y)
			for x := 0; x < w; x++ {
				c, m, yy, k := int(in[4*x]), int(in[4*x+1]), int(in[4*x+2]), int(in[4*x+3])
				if notAdobe {
					c, m, yy, k = 255-c, 255-m, 255-yy, 255-k
				}
				nk := 255 - k
				o[3*x] = clampU8(nk - mul(c, nk))
				o[3*x+1] = clampU8(nk - mul(m, nk))
				o[3*x+2] = clampU8(nk - mul(yy, nk))
			}
		}
	})
}

func clampU8(v int) uint8 {
	if v < 0 {
		return 0
	}
	if v > 255 {
		return 255
	}
	return uint8(v)
}

// ycbcrToRGBNearest converts with Go's own full-range JFIF formula and
// nearest-neighbour chroma (used for YCbCr images not known to be JPEG).
func ycbcrToRGBNearest(s *image.YCbCr, dst *RGB) {
	b := s.Rect
	parallelRows(b.Dy(), func(a, e int) {
		for y := a; y < e; y++ {
			o := dst.row(y)
			for x := 0; x < b.Dx(); x++ {
				yi := s.YOffset(b.Min.X+x, b.Min.Y+y)
				ci := s.COffset(b.Min.X+x, b.Min.Y+y)
				r, g, bb := color.YCbCrToRGB(s.Y[yi], s.Cb[ci], s.Cr[ci])
				o[3*x], o[3*x+1], o[3*x+2] = r, g, bb
			}
		}
	})
}
