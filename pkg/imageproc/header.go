package imageproc

import (
	"bytes"
	"errors"
	"fmt"
	"image"
	"math"
)

// bytesPerPixelBound is the most bytes a pixel may take in an image file:
// 16-bit RGBA stored uncompressed (TIFF, PNG without compression), the
// worst case among the formats Decode takes.
const bytesPerPixelBound = 8

// metadataSlack is what a file may hold beside its pixels (EXIF, ICC
// profiles, thumbnails) before it counts as too large.
const metadataSlack = 16 << 20

// MaxFileBytes is the largest image file these options accept:
// bytesPerPixelBound bytes per pixel of the megapixel cap, plus
// metadataSlack. A larger file cannot hold an image under the cap, so it is
// refused before it is read. It is 0 (no limit) when the cap is off.
func (o DecodeOptions) MaxFileBytes() int64 {
	mp := o.MaxMegapixels
	if mp == 0 {
		mp = DefaultMaxMegapixels
	}
	if mp < 0 {
		return 0
	}
	n := mp*1e6*bytesPerPixelBound + metadataSlack
	if n >= math.MaxInt64/2 {
		return 0
	}
	return int64(n)
}

// Sniff reports the format whose magic bytes start b ("" if none), so a
// caller can tell image data from other bytes (e.g. on stdin).
func Sniff(b []byte) string {
	if ft := sniffFormat(b); ft != nil {
		return ft.name
	}
	return sniffHEIF(b)
}

func sniffFormat(b []byte) *format {
	for i := range formats {
		if formats[i].magic(b) {
			return &formats[i]
		}
	}
	return nil
}

// CheckHeader looks at the first bytes of an image file and refuses it
// early when its header declares more pixels than the megapixel cap.
// Anything it cannot judge from prefix (a format it does not know, a
// header longer than prefix) is not an error here: Decode judges the whole
// file. Callers use it to avoid reading a huge body (a sparse file
// declaring 60000×60000) at all.
func CheckHeader(prefix []byte, opt DecodeOptions) error {
	cfg, name, err := DecodeHeader(prefix)
	if err != nil {
		return nil
	}
	return checkPixels(name, cfg, opt)
}

var errNotImage = errors.New("not a supported image (want " + SupportedFormats + ")")

// checkPixels refuses header sizes that are invalid or over the cap.
func checkPixels(name string, cfg image.Config, opt DecodeOptions) error {
	if cfg.Width <= 0 || cfg.Height <= 0 {
		return fmt.Errorf("invalid %s header: size %dx%d", name, cfg.Width, cfg.Height)
	}
	maxMP := opt.MaxMegapixels
	if maxMP == 0 {
		maxMP = DefaultMaxMegapixels
	}
	if mp := float64(cfg.Width) * float64(cfg.Height) / 1e6; maxMP > 0 && mp > maxMP {
		return fmt.Errorf("%w: header says %dx%d (%.1f MP), over the %g MP limit (--max-megapixels)",
			ErrTooLarge, cfg.Width, cfg.Height, mp, maxMP)
	}
	return nil
}

// DecodeHeader reads an image file's header only: its format ("jpeg",
// "png", …) and its size and colour model, as DecodeBytes would find
// them, without decoding a pixel. Callers use it to budget the memory a
// decode will take before starting it.
func DecodeHeader(b []byte) (image.Config, string, error) {
	ft := sniffFormat(b)
	if ft == nil {
		return image.Config{}, "", errNotImage
	}
	cfg, err := guard(ft.name, func() (image.Config, error) { return ft.decodeConfig(bytes.NewReader(b)) })
	return cfg, ft.name, err
}
