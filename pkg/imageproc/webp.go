package imageproc

import (
	"bytes"
	"encoding/binary"
	"image"
)

// webpToRGB converts what x/image/webp returns into the pixels libwebp gives
// Pillow. Lossless (VP8L) images are exact RGBA. Lossy (VP8) images are
// limited-range BT.601 YUV 4:2:0, which Go's image.YCbCr would wrongly treat
// as full-range JFIF; libwebp converts with its own 14-bit fixed-point
// formulas after "fancy" 2-D chroma upsampling, reproduced here.
func webpToRGB(src image.Image) *RGB {
	switch s := src.(type) {
	case *image.YCbCr:
		if s.SubsampleRatio == image.YCbCrSubsampleRatio420 && s.Rect.Min == (image.Point{}) {
			return webpFancy(s)
		}
	case *image.NYCbCrA:
		if s.SubsampleRatio == image.YCbCrSubsampleRatio420 && s.Rect.Min == (image.Point{}) {
			return webpFancy(&s.YCbCr)
		}
	}
	return ToRGB(src)
}

func webpMultHi(v, c int32) int32 { return (v * c) >> 8 }

func webpClip8(v int32) uint8 {
	if v&^((256<<6)-1) == 0 {
		return uint8(v >> 6)
	}
	if v < 0 {
		return 0
	}
	return 255
}

func webpYUVToRGB(o []uint8, y, u, v int32) {
	yy := webpMultHi(y, 19077)
	o[0] = webpClip8(yy + webpMultHi(v, 26149) - 14234)
	o[1] = webpClip8(yy - webpMultHi(u, 6419) - webpMultHi(v, 13320) + 8708)
	o[2] = webpClip8(yy + webpMultHi(u, 33050) - 17685)
}

// webpFancy follows libwebp's UpsampleRgbLinePair: each output row takes
// its nearer chroma row (near) and the other neighbour (far, the edge row
// itself at the image borders) and mixes the 2×2 neighbourhood 9:3:3:1.
func webpFancy(s *image.YCbCr) *RGB {
	w, h := s.Rect.Dx(), s.Rect.Dy()
	cw, ch := (w+1)/2, (h+1)/2
	dst := NewRGB(w, h)
	crow := func(plane []uint8, r int) []uint8 {
		r = max(0, min(r, ch-1))
		return plane[r*s.CStride : r*s.CStride+cw]
	}
	parallelRows(h, func(a, e int) {
		u := make([]int32, w)
		v := make([]int32, w)
		for y := a; y < e; y++ {
			farRow := y/2 - 1
			if y%2 == 1 {
				farRow = (y + 1) / 2
			}
			nearRow := y / 2
			upsampleWebPRow(crow(s.Cb, nearRow), crow(s.Cb, farRow), u)
			upsampleWebPRow(crow(s.Cr, nearRow), crow(s.Cr, farRow), v)
			yrow := s.Y[y*s.YStride : y*s.YStride+w]
			o := dst.row(y)
			for x := 0; x < w; x++ {
				webpYUVToRGB(o[3*x:3*x+3], int32(yrow[x]), u[x], v[x])
			}
		}
	})
	return dst
}

func upsampleWebPRow(near, far []uint8, out []int32) {
	w := len(out)
	out[0] = (3*int32(near[0]) + int32(far[0]) + 2) >> 2
	last := (w - 1) >> 1
	for i := 1; i <= last; i++ {
		np, nc := int32(near[i-1]), int32(near[i])
		fp, fc := int32(far[i-1]), int32(far[i])
		avg := np + nc + fp + fc + 8
		dA := (avg + 2*(nc+fp)) >> 3
		dB := (avg + 2*(np+fc)) >> 3
		out[2*i-1] = (dA + np) >> 1
		out[2*i] = (dB + nc) >> 1
	}
	if w&1 == 0 {
		out[w-1] = (3*int32(near[last]) + int32(far[last]) + 2) >> 2
	}
}

// webpFirstFrame extracts the first frame of an animated WebP (VP8X with
// ANMF chunks, which x/image/webp does not read) as a standalone WebP, with
// the canvas size and the frame's offset. ok is false for still images.
func webpFirstFrame(b []byte) (frame []byte, canvas, offset image.Point, ok bool) {
	if len(b) < 30 || string(b[12:16]) != "VP8X" || b[20]&0x02 == 0 { // animation flag
		return nil, canvas, offset, false
	}
	u24 := func(p []byte) int { return int(p[0]) | int(p[1])<<8 | int(p[2])<<16 }
	canvas = image.Point{u24(b[24:]) + 1, u24(b[27:]) + 1}
	p := 12
	for p+8 <= len(b) {
		n := int(binary.LittleEndian.Uint32(b[p+4:]))
		if n < 0 || n > len(b)-p-8 {
			return nil, canvas, offset, false
		}
		if string(b[p:p+4]) == "ANMF" && n >= 16 {
			d := b[p+8 : p+8+n]
			offset = image.Point{2 * u24(d[0:]), 2 * u24(d[3:])}
			w, h := u24(d[6:])+1, u24(d[9:])+1
			sub := d[16:]
			var body bytes.Buffer
			if bytes.Contains(sub[:min(len(sub), 8)], []byte("ALPH")) {
				// VP8 + ALPH needs a VP8X header saying "alpha".
				x := make([]byte, 18)
				copy(x, "VP8X")
				binary.LittleEndian.PutUint32(x[4:], 10)
				x[8] = 0x10
				x[12], x[13], x[14] = byte(w-1), byte((w-1)>>8), byte((w-1)>>16)
				x[15], x[16], x[17] = byte(h-1), byte((h-1)>>8), byte((h-1)>>16)
				body.Write(x)
			}
			body.Write(sub)
			out := make([]byte, 12, 12+body.Len())
			copy(out, "RIFF")
			binary.LittleEndian.PutUint32(out[4:], uint32(4+body.Len()))
			copy(out[8:], "WEBP")
			return append(out, body.Bytes()...), canvas, offset, true
		}
		p += 8 + n + n&1
	}
	return nil, canvas, offset, false
}
