package imageproc

import (
	"encoding/binary"
	"image"
)

// jpegMarkers is what we need from a JPEG's header segments.
type jpegMarkers struct {
	adobe       bool // an APP14 "Adobe" segment is present
	orientation int  // EXIF orientation 1..8, 0 if absent
	sof         byte // the frame marker (0xC0 baseline, 0xC2 progressive, ...)
}

// scanJPEGMarkers walks the marker segments before the first SOS, reading
// the EXIF orientation (first APP1 "Exif" segment) and whether an Adobe
// APP14 segment exists. Malformed segments are ignored, never trusted.
func scanJPEGMarkers(b []byte) jpegMarkers {
	var m jpegMarkers
	seenExif := false
	i := 2
	for i+4 <= len(b) {
		if b[i] != 0xFF {
			return m
		}
		marker := b[i+1]
		if marker == 0xFF { // fill byte
			i++
			continue
		}
		if marker == 0xD8 || (marker >= 0xD0 && marker <= 0xD7) || marker == 0x01 {
			i += 2
			continue
		}
		if marker == 0xDA || marker == 0xD9 { // SOS / EOI: header done
			return m
		}
		n := int(binary.BigEndian.Uint16(b[i+2:]))
		if n < 2 || i+2+n > len(b) {
			return m
		}
		seg := b[i+4 : i+2+n]
		if marker >= 0xC0 && marker <= 0xCF && marker != 0xC4 && marker != 0xC8 && marker != 0xCC && m.sof == 0 {
			m.sof = marker
		}
		switch marker {
		case 0xE1:
			if !seenExif && len(seg) >= 6 && string(seg[:6]) == "Exif\x00\x00" {
				seenExif = true
				m.orientation = exifOrientation(seg[6:])
			}
		case 0xEE:
			if len(seg) >= 5 && string(seg[:5]) == "Adobe" {
				m.adobe = true
			}
		}
		i += 2 + n
	}
	return m
}

// exifOrientation reads tag 0x0112 from IFD0 of a TIFF-structured EXIF
// block; 0 when absent or invalid.
func exifOrientation(t []byte) int {
	if len(t) < 8 {
		return 0
	}
	var bo binary.ByteOrder
	switch string(t[:2]) {
	case "II":
		bo = binary.LittleEndian
	case "MM":
		bo = binary.BigEndian
	default:
		return 0
	}
	if bo.Uint16(t[2:]) != 42 {
		return 0
	}
	off := int(bo.Uint32(t[4:]))
	if off < 8 || off+2 > len(t) {
		return 0
	}
	n := int(bo.Uint16(t[off:]))
	for e := 0; e < n; e++ {
		p := off + 2 + 12*e
		if p+12 > len(t) {
			return 0
		}
		if bo.Uint16(t[p:]) != 0x0112 {
			continue
		}
		typ, count := bo.Uint16(t[p+2:]), bo.Uint32(t[p+4:])
		var v int
		switch {
		case typ == 3 && count >= 1: // SHORT
			v = int(bo.Uint16(t[p+8:]))
		case typ == 4 && count >= 1: // LONG
			v = int(bo.Uint32(t[p+8:]))
		default:
			return 0
		}
		if v >= 1 && v <= 8 {
			return v
		}
		return 0
	}
	return 0
}

// orient returns the image as displayed for EXIF orientation o, the same
// transposition Pillow's ImageOps.exif_transpose applies.
func orient(s *RGB, o int) *RGB {
	sw, sh := s.Rect.Dx(), s.Rect.Dy()
	dw, dh := sw, sh
	if o >= 5 {
		dw, dh = sh, sw
	}
	d := NewRGB(dw, dh)
	// src maps a displayed pixel to the stored one.
	var src func(x, y int) (int, int)
	switch o {
	case 2: // FLIP_LEFT_RIGHT
		src = func(x, y int) (int, int) { return sw - 1 - x, y }
	case 3: // ROTATE_180
		src = func(x, y int) (int, int) { return sw - 1 - x, sh - 1 - y }
	case 4: // FLIP_TOP_BOTTOM
		src = func(x, y int) (int, int) { return x, sh - 1 - y }
	case 5: // TRANSPOSE
		src = func(x, y int) (int, int) { return y, x }
	case 6: // ROTATE_270 (90° clockwise)
		src = func(x, y int) (int, int) { return y, sh - 1 - x }
	case 7: // TRANSVERSE
		src = func(x, y int) (int, int) { return sw - 1 - y, sh - 1 - x }
	case 8: // ROTATE_90 (90° counter-clockwise)
		src = func(x, y int) (int, int) { return sw - 1 - y, x }
	default:
		return s
	}
	parallelRows(dh, func(a, e int) {
		for y := a; y < e; y++ {
			o := d.row(y)
			for x := 0; x < dw; x++ {
				sx, sy := src(x, y)
				i := sy*s.Stride + 3*sx
				o[3*x], o[3*x+1], o[3*x+2] = s.Pix[i], s.Pix[i+1], s.Pix[i+2]
			}
		}
	})
	return d
}

// jpegToRGB converts what image/jpeg returns into the pixels libjpeg-turbo
// gives Pillow: "fancy" (triangular) chroma upsampling and libjpeg's
// fixed-point YCbCr→RGB tables; Pillow's CMYK→RGB for 4-component files.
// The remaining differences come from the IDCT (Go's vs libjpeg's islow).
func jpegToRGB(src image.Image, adobe bool) *RGB {
	switch s := src.(type) {
	case *image.YCbCr:
		if s.Rect.Min == (image.Point{}) {
			return ycbcrFancy(s)
		}
	case *image.CMYK:
		dst := NewRGB(s.Rect.Dx(), s.Rect.Dy())
		cmykToRGB(s, dst, !adobe)
		return dst
	}
	return ToRGB(src)
}

// libjpeg's jdcolor.c tables (SCALEBITS 16), built once per conversion.
type yccTables struct {
	crR, cbB, crG, cbG [256]int32
	// limit[v+limitOffset] is v clamped to 0..255 (libjpeg's range_limit):
	// a lookup instead of two branches per sample.
	limit [1024]uint8
}

// limitOffset centres yccTables.limit: converted values lie in -227..482.
const limitOffset = 384

func newYCCTables() *yccTables {
	const scale = 16
	const half = 1 << (scale - 1)
	fix := func(x float64) int32 { return int32(x*(1<<scale) + 0.5) }
	t := &yccTables{}
	for i := 0; i < 256; i++ {
		x := int32(i - 128)
		t.crR[i] = (fix(1.40200)*x + half) >> scale
		t.cbB[i] = (fix(1.77200)*x + half) >> scale
		t.crG[i] = -fix(0.71414) * x
		t.cbG[i] = -fix(0.34414)*x + half
	}
	for i := range t.limit {
		t.limit[i] = clamp32(int32(i - limitOffset))
	}
	return t
}

func (t *yccTables) convertRow(o, y, cb, cr []uint8) {
	cb, cr = cb[:len(y)], cr[:len(y)]
	if n := len(y) &^ 15; hasSIMD && n > 0 {
		_ = o[3*n-1]
		yccRowSIMD(&o[0], &y[0], &cb[0], &cr[0], n)
		o, y, cb, cr = o[3*n:], y[n:], cb[n:], cr[n:]
	}
	t.convertRowGo(o, y, cb, cr)
}

// convertRowGo is convertRow without the SIMD kernel (its twin).
func (t *yccTables) convertRowGo(o, y, cb, cr []uint8) {
	for x, v := range y {
		t.convertPixel(o[3*x:3*x+3:3*x+3], v, cb[x], cr[x])
	}
}

// convertPixel is jdcolor.c's ycc_rgb_convert of one pixel into p[0:3].
func (t *yccTables) convertPixel(p []uint8, y, cb, cr uint8) {
	yy := int32(y) + limitOffset
	p[0] = t.limit[(yy+t.crR[cr])&1023]
	p[1] = t.limit[(yy+(t.cbG[cb]+t.crG[cr])>>16)&1023]
	p[2] = t.limit[(yy+t.cbB[cb])&1023]
}

func clamp32(v int32) uint8 {
	if v < 0 {
		return 0
	}
	if v > 255 {
		return 255
	}
	return uint8(v)
}

// ycbcrFancy upsamples chroma as libjpeg-turbo's jdsample.c does by default
// (h2v1/h2v2/h1v2 fancy upsampling, box replication otherwise) and converts
// with libjpeg's tables. Context rows at the top/bottom edges are the edge
// rows themselves, as libjpeg's main buffer controller provides them.
func ycbcrFancy(s *image.YCbCr) *RGB {
	dst := NewRGB(s.Rect.Dx(), s.Rect.Dy())
	ycbcrUpsampleRows(s, dst, newYCCTables(), 0, s.Rect.Dy(), false)
	return dst
}

// ycbcrUpsampleRows converts output rows [y0, y1) of s into dst; a row reads
// its own chroma row and at most one neighbour, so a band can be converted
// as soon as the chroma row below it is decoded. box replicates chroma
// instead (libjpeg-turbo's choice when blocks decode to single pixels).
func ycbcrUpsampleRows(s *image.YCbCr, dst *RGB, t *yccTables, y0, y1 int, box bool) {
	w, h := s.Rect.Dx(), s.Rect.Dy()
	hs, vs := 1, 1
	switch s.SubsampleRatio {
	case image.YCbCrSubsampleRatio422:
		hs = 2
	case image.YCbCrSubsampleRatio420:
		hs, vs = 2, 2
	case image.YCbCrSubsampleRatio440:
		vs = 2
	case image.YCbCrSubsampleRatio411:
		hs = 4
	case image.YCbCrSubsampleRatio410:
		hs, vs = 4, 2
	}
	cw := (w + hs - 1) / hs // libjpeg's downsampled_width
	ch := (h + vs - 1) / vs
	crow := func(plane []uint8, r int) []uint8 {
		r = max(0, min(r, ch-1))
		return plane[r*s.CStride : r*s.CStride+cw]
	}
	parallelRows(y1-y0, func(a, e int) {
		a, e = a+y0, e+y0
		cbV := make([]int32, cw) // vertically filtered (×4 when vs == 2)
		crV := make([]int32, cw)
		cbRow := make([]uint8, w+4)
		crRow := make([]uint8, w+4)
		for y := a; y < e; y++ {
			yrow := s.Y[y*s.YStride : y*s.YStride+w]
			o := dst.row(y)
			fancyV := vs == 2 && hs <= 2 && !box
			if hs == 1 && !fancyV { // chroma at full width and no vertical filter
				cy := y / vs
				t.convertRow(o, yrow, crow(s.Cb, cy)[:w], crow(s.Cr, cy)[:w])
				continue
			}
			if hasSIMD && hs == 2 && !box { // h2v2 or h2v1: the SIMD upsampler
				cy := y / vs
				near, nearR := crow(s.Cb, cy), crow(s.Cr, cy)
				far, farR := near, nearR
				bias0, bias1 := int32(4), int32(8) // h2v1 on V = 4·sample
				if fancyV {
					fy := cy - 1
					if y%2 == 1 {
						fy = cy + 1
					}
					far, farR = crow(s.Cb, fy), crow(s.Cr, fy)
					bias0, bias1 = 8, 7
				}
				fancyH2Row(cbRow[:w], near, far, bias0, bias1)
				fancyH2Row(crRow[:w], nearR, farR, bias0, bias1)
				t.convertRow(o, yrow, cbRow[:w], crRow[:w])
				continue
			}
			// Vertical step.
			if fancyV {
				cy := y / 2
				near, far := crow(s.Cb, cy), crow(s.Cb, cy-1)
				nearR, farR := crow(s.Cr, cy), crow(s.Cr, cy-1)
				if y%2 == 1 {
					far, farR = crow(s.Cb, cy+1), crow(s.Cr, cy+1)
				}
				for i := 0; i < cw; i++ {
					cbV[i] = 3*int32(near[i]) + int32(far[i])
					crV[i] = 3*int32(nearR[i]) + int32(farR[i])
				}
			} else {
				cy := y / vs
				nb, nr := crow(s.Cb, cy), crow(s.Cr, cy)
				for i := 0; i < cw; i++ {
					cbV[i], crV[i] = int32(nb[i]), int32(nr[i])
				}
			}
			// Horizontal step.
			switch {
			case hs == 2 && fancyV: // h2v2: /16 overall, biases 8 and 7
				t.convertFancyH2(o, yrow, cbV, crV, 4, 8, 7)
				continue
			case hs == 2 && !box: // h2v1: biases 1 and 2
				t.convertFancyH2(o, yrow, cbV, crV, 2, 1, 2)
				continue
			case hs == 1 && fancyV: // h1v2
				bias := int32(1)
				if y%2 == 1 {
					bias = 2
				}
				for i := 0; i < cw; i++ {
					cbRow[i] = uint8((cbV[i] + bias) >> 2)
					crRow[i] = uint8((crV[i] + bias) >> 2)
				}
			default: // replicated (4:1:1, 4:1:0; box at 1/8 scale)
				for x := 0; x < w; x++ {
					cbRow[x] = uint8(cbV[min(x/hs, cw-1)])
					crRow[x] = uint8(crV[min(x/hs, cw-1)])
				}
			}
			t.convertRow(o, yrow, cbRow[:w], crRow[:w])
		}
	})
}

// convertFancyH2 is libjpeg's horizontal fancy upsampling fused with the
// colour conversion of one output row: each chroma sample in (vertically
// filtered already for h2v2) gives two pixels, 3/4 of itself and 1/4 of its
// left (even pixel) or right (odd pixel) neighbour, the edges using
// themselves; rounding (x + bias) >> shift: h2v1_fancy_upsample with shift
// 2, biases 1 and 2; h2v2_fancy_upsample on 3:1 column sums with shift 4,
// biases 8 and 7.
func (t *yccTables) convertFancyH2(o, y []uint8, cbIn, crIn []int32, shift uint, bias0, bias1 int32) {
	n := len(cbIn)
	crIn = crIn[:n]
	w := len(y)
	for i := 0; i < n; i++ {
		l, r := max(i-1, 0), min(i+1, n-1)
		cb3, cr3 := 3*cbIn[i], 3*crIn[i]
		x := 2 * i
		if x >= w {
			break
		}
		t.convertPixel(o[3*x:3*x+3:3*x+3], y[x], uint8((cb3+cbIn[l]+bias0)>>shift), uint8((cr3+crIn[l]+bias0)>>shift))
		if x+1 >= w {
			break
		}
		t.convertPixel(o[3*x+3:3*x+6:3*x+6], y[x+1], uint8((cb3+cbIn[r]+bias1)>>shift), uint8((cr3+crIn[r]+bias1)>>shift))
	}
}

// fancyH2Row is convertFancyH2's upsampling alone, for the SIMD path: out
// (the output row's width, 2·len(near) or one less) receives the chroma of
// each pixel from the samples V = 3·near + far (h2v2; h2v1 passes far =
// near and 4× biases), shift 4.
func fancyH2Row(out, near, far []uint8, bias0, bias1 int32) {
	n := len(near)
	far = far[:n]
	m := max(n-2, 0) &^ 7 // samples 1..m by the kernel, which reads sample m+1
	if m > 0 {
		fancyH2SIMD(&out[0], &near[0], &far[0], m, bias0, bias1)
	}
	fancyH2Samples(out, near, far, 0, 1, bias0, bias1)
	fancyH2Samples(out, near, far, m+1, n, bias0, bias1)
}

// fancyH2Samples is fancyH2Row's Go twin for samples [from, to).
func fancyH2Samples(out, near, far []uint8, from, to int, bias0, bias1 int32) {
	n := len(near)
	v := func(i int) int32 { return 3*int32(near[i]) + int32(far[i]) }
	for i := from; i < to; i++ {
		l, r := max(i-1, 0), min(i+1, n-1)
		c3 := 3 * v(i)
		if 2*i < len(out) {
			out[2*i] = uint8((c3 + v(l) + bias0) >> 4)
		}
		if 2*i+1 < len(out) {
			out[2*i+1] = uint8((c3 + v(r) + bias1) >> 4)
		}
	}
}

// pngOrientation reads the EXIF orientation of a PNG's eXIf chunk (what
// Pillow's getexif() and so ImageOps.exif_transpose use); 0 if absent.
func pngOrientation(b []byte) int {
	p := 8
	for p+12 <= len(b) {
		n := int(binary.BigEndian.Uint32(b[p:]))
		typ := string(b[p+4 : p+8])
		if n < 0 || n > len(b)-p-12 {
			return 0
		}
		if typ == "eXIf" {
			return exifOrientation(trimExifPrefix(b[p+8 : p+8+n]))
		}
		if typ == "IEND" {
			return 0
		}
		p += 12 + n
	}
	return 0
}

// webpOrientation reads the orientation from a WebP's EXIF chunk.
func webpOrientation(b []byte) int {
	p := 12
	for p+8 <= len(b) {
		n := int(binary.LittleEndian.Uint32(b[p+4:]))
		if n < 0 || n > len(b)-p-8 {
			return 0
		}
		if string(b[p:p+4]) == "EXIF" {
			return exifOrientation(trimExifPrefix(b[p+8 : p+8+n]))
		}
		p += 8 + n + n&1
	}
	return 0
}

// trimExifPrefix drops the "Exif\0\0" header some writers put before the
// TIFF structure (Pillow accepts both).
func trimExifPrefix(b []byte) []byte {
	if len(b) >= 6 && string(b[:6]) == "Exif\x00\x00" {
		return b[6:]
	}
	return b
}
