package imageproc

import (
	"errors"
	"fmt"
	"image"
)

// This file is a JPEG decoder written to give the same pixels as
// libjpeg-turbo (what Pillow uses): Huffman baseline and progressive,
// libjpeg's "islow" integer IDCT, then the fancy upsampling and colour
// tables of jpeg.go. Go's image/jpeg uses a different IDCT, which moves
// pixels by up to 3 levels. It also decodes at 1/2, 1/4 or 1/8 scale as
// libjpeg-turbo does for Pillow's Image.draft (decodeJPEGScaled): the
// reduced IDCTs of jidctred.c, chroma scaled up by its IDCT where the
// sampling allows, libjpeg-turbo's upsampling rules for that scale.
// Anything this decoder does not handle
// (arithmetic coding, 12-bit, lossless, unusual sampling) returns
// errUnsupportedJPEG and the caller falls back to image/jpeg.
//
// The decoder is split by concern: jpeg_markers.go (segments), jpeg_huffman.go
// (bit reader and sequential/first-pass block decoding), jpeg_scan.go (a
// scan's MCU walk), jpeg_progressive.go (refinement), jpeg_idct.go and
// jpeg_pipeline.go (IDCT + colour conversion overlapping entropy decoding).

var errUnsupportedJPEG = errors.New("jpeg feature not handled by the libjpeg-compatible decoder")

// maxScans bounds the work a tiny file can ask for: every scan walks all
// blocks, so thousands of empty progressive scans over a large frame would
// take minutes (libjpeg-turbo's TurboJPEG refuses more than 500 too).
const maxScans = 500

// errTooManyScans is final: the caller must not retry with image/jpeg.
var errTooManyScans = fmt.Errorf("more than %d scans in a progressive JPEG (refused: decompression bomb)", maxScans)

type jcomp struct {
	id, h, v, tq int
	bw, bh       int // blocks per line / column, padded to whole MCUs
	cw, ch       int // blocks actually covering the component (non-interleaved scans)
	coefs        []int16
	ring         int // > 0: coefs holds only this many block rows, reused (streaming)
	ss           int // IDCT output size of a block: 8, or 4/2/1 when decoding reduced
	dcPred       int32
	td, ta       int
}

type jpegDecoder struct {
	b   []byte
	pos int

	width, height int
	scale         int // 1, or 2/4/8: decode at 1/scale in the DCT domain
	ow, oh        int // output size: ceil(width/scale) × ceil(height/scale)
	progressive   bool
	comps         []jcomp
	maxH, maxV    int
	mcux, mcuy    int
	qt            [4][64]int32 // natural order
	qtSet         [4]bool
	dc, ac        [4]*huffTable
	restart       int
	adobe         bool
	adobeXform    int
	jfif          bool
	frameSeen     bool
	maxPixels     int64
	ringRows      int // MCU rows of coefficients kept when streaming

	// bit reader
	acc     uint64
	nbits   int
	hitMark bool
	// padBits counts the zero bits fed after a marker ended the data;
	// once the decoder reads into them the data is insufficient and, as in
	// libjpeg, the rest of the segment's MCUs are left untouched (gray).
	padBits      int
	insufficient bool
	eobrun       int32
	sawScans     bool
	nscans       int
	streamed     *RGB // set when a single interleaved baseline scan was converted on the fly
}

// decodeJPEGLibjpeg decodes b to RGB (or returns an error; callers fall
// back to image/jpeg). Frames over maxPixels are refused before allocating.
func decodeJPEGLibjpeg(b []byte, maxPixels int64) (*RGB, error) {
	return decodeJPEGRing(b, maxPixels, streamRingRows, 1)
}

// decodeJPEGScaled decodes b at 1/scale (1, 2, 4 or 8) as libjpeg-turbo
// does with scale_num/scale_denom = 1/scale: reduced IDCTs, no full-size
// pixels ever made; the result is ceil(width/scale) × ceil(height/scale).
func decodeJPEGScaled(b []byte, maxPixels int64, scale int) (*RGB, error) {
	return decodeJPEGRing(b, maxPixels, streamRingRows, scale)
}

// decodeJPEGRing is decodeJPEGScaled with the streaming ring size chosen
// (tests use tiny rings so small images exercise slot reuse).
func decodeJPEGRing(b []byte, maxPixels int64, ringRows, scale int) (*RGB, error) {
	if scale != 1 && scale != 2 && scale != 4 && scale != 8 {
		return nil, fmt.Errorf("jpeg decode scale 1/%d (want 1, 2, 4 or 8)", scale)
	}
	d := &jpegDecoder{b: b, pos: 2, maxPixels: maxPixels, ringRows: ringRows, scale: scale}
	if len(b) < 4 || b[0] != 0xFF || b[1] != 0xD8 {
		return nil, errors.New("missing SOI")
	}
	for {
		marker, err := d.nextMarker()
		if err != nil {
			return nil, err
		}
		if marker == 0xD9 { // EOI
			break
		}
		if marker >= 0xD0 && marker <= 0xD7 || marker == 0x01 {
			continue
		}
		if d.pos+2 > len(b) {
			return nil, errors.New("truncated segment")
		}
		n := int(b[d.pos])<<8 | int(b[d.pos+1])
		if n < 2 || d.pos+n > len(b) {
			return nil, errors.New("truncated segment")
		}
		seg := b[d.pos+2 : d.pos+n]
		d.pos += n
		switch {
		case marker == 0xC0 || marker == 0xC1 || marker == 0xC2:
			if err := d.readSOF(seg, marker == 0xC2); err != nil {
				return nil, err
			}
		case marker >= 0xC3 && marker <= 0xCF && marker != 0xC4 && marker != 0xC8 && marker != 0xCC:
			return nil, errUnsupportedJPEG // lossless, hierarchical, arithmetic
		case marker == 0xC4:
			if err := d.readDHT(seg); err != nil {
				return nil, err
			}
		case marker == 0xDB:
			if err := d.readDQT(seg); err != nil {
				return nil, err
			}
		case marker == 0xDD:
			if len(seg) < 2 {
				return nil, errors.New("bad DRI")
			}
			d.restart = int(seg[0])<<8 | int(seg[1])
		case marker == 0xDA:
			if d.nscans++; d.nscans > maxScans {
				return nil, errTooManyScans
			}
			if err := d.readScan(seg); err != nil {
				return nil, err
			}
			d.sawScans = true
		case marker == 0xE0:
			if len(seg) >= 5 && string(seg[:5]) == "JFIF\x00" {
				d.jfif = true
			}
		case marker == 0xEE:
			if len(seg) >= 12 && string(seg[:5]) == "Adobe" {
				d.adobe = true
				d.adobeXform = int(seg[11])
			}
		}
	}
	if !d.frameSeen || !d.sawScans {
		return nil, errors.New("no image data")
	}
	return d.finish()
}

func (d *jpegDecoder) allocPlanes() ([][]uint8, error) {
	planes := make([][]uint8, len(d.comps))
	for i, c := range d.comps {
		if !d.qtSet[c.tq] {
			return nil, errors.New("undefined quantisation table")
		}
		planes[i] = make([]uint8, c.bw*c.ss*c.bh*c.ss)
	}
	return planes, nil
}

// finish runs the IDCT on every block and converts to RGB (unless the
// single baseline scan was already streamed to RGB).
func (d *jpegDecoder) finish() (*RGB, error) {
	if d.streamed != nil {
		return d.streamed, nil
	}
	planes, err := d.allocPlanes()
	if err != nil {
		return nil, err
	}
	for i := range d.comps {
		parallelRows(d.comps[i].bh, func(a, e int) { d.idctBlockRows(planes[i], i, a, e) })
	}
	w, h := d.ow, d.oh
	switch len(d.comps) {
	case 1:
		g := &image.Gray{Pix: planes[0], Stride: d.comps[0].bw * d.comps[0].ss, Rect: image.Rect(0, 0, w, h)}
		return ToRGB(g), nil
	case 3:
		c0, c1, c2 := d.comps[0], d.comps[1], d.comps[2]
		if d.rgbTransform() {
			if c0.h != c1.h || c0.h != c2.h || c0.v != c1.v || c0.v != c2.v {
				return nil, errUnsupportedJPEG
			}
			out := NewRGB(w, h)
			st := c0.bw * c0.ss
			for y := 0; y < h; y++ {
				o := out.row(y)
				for x := 0; x < w; x++ {
					o[3*x], o[3*x+1], o[3*x+2] = planes[0][y*st+x], planes[1][y*st+x], planes[2][y*st+x]
				}
			}
			return out, nil
		}
		y, box := d.ycbcrImage(planes)
		if y == nil {
			return nil, errUnsupportedJPEG
		}
		out := NewRGB(w, h)
		ycbcrUpsampleRows(y, out, newYCCTables(), 0, h, box)
		return out, nil
	case 4:
		for _, c := range d.comps {
			if c.h != d.comps[0].h || c.v != d.comps[0].v {
				return nil, errUnsupportedJPEG
			}
		}
		return d.cmyk(planes), nil
	}
	return nil, errUnsupportedJPEG
}

// cmyk turns 4-component planes into RGB as libjpeg + Pillow do: YCCK
// (Adobe transform 2) through libjpeg's ycck→cmyk, then Pillow's inverted
// "CMYK;I" reading when an Adobe marker is present, then cmyk2rgb.
func (d *jpegDecoder) cmyk(planes [][]uint8) *RGB {
	w, h := d.ow, d.oh
	st := d.comps[0].bw * d.comps[0].ss
	m := image.NewCMYK(image.Rect(0, 0, w, h))
	t := newYCCTables()
	for y := 0; y < h; y++ {
		for x := 0; x < w; x++ {
			i := y*st + x
			c, mm, yy, k := planes[0][i], planes[1][i], planes[2][i], planes[3][i]
			if d.adobe && d.adobeXform == 2 {
				Y := int32(c)
				cb, cr := mm, yy
				c = 255 - clamp32(Y+t.crR[cr])
				mm = 255 - clamp32(Y+(t.cbG[cb]+t.crG[cr])>>16)
				yy = 255 - clamp32(Y+t.cbB[cb])
			}
			o := m.Pix[y*m.Stride+4*x:]
			if d.adobe {
				o[0], o[1], o[2], o[3] = 255-c, 255-mm, 255-yy, 255-k
			} else {
				o[0], o[1], o[2], o[3] = c, mm, yy, k
			}
		}
	}
	out := NewRGB(w, h)
	cmykToRGB(m, out, false)
	return out
}
