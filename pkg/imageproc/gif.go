package imageproc

import "image"

// gifFrameInfo is what Pillow uses from a GIF's first frame that Go's
// image/gif loses: the raw colour table (Go overwrites the transparent
// entry with transparent black) and the transparent index.
type gifFrameInfo struct {
	palette  [][3]uint8
	trans    int // -1 if none
	complete bool
}

// scanGIF walks a GIF to its first image descriptor, reading the global or
// local colour table and the graphic control extension before it.
func scanGIF(b []byte) gifFrameInfo {
	info := gifFrameInfo{trans: -1}
	if len(b) < 13 {
		return info
	}
	table := func(p, n int) ([][3]uint8, int) {
		if p+3*n > len(b) {
			return nil, -1
		}
		t := make([][3]uint8, n)
		for i := range t {
			t[i] = [3]uint8{b[p+3*i], b[p+3*i+1], b[p+3*i+2]}
		}
		return t, p + 3*n
	}
	p := 13
	if b[10]&0x80 != 0 {
		info.palette, p = table(13, 2<<(b[10]&7))
		if p < 0 {
			return info
		}
	}
	for p < len(b) {
		switch b[p] {
		case 0x21: // extension: label, then sub-blocks
			if p+2 > len(b) {
				return info
			}
			label := b[p+1]
			p += 2
			for p < len(b) && b[p] != 0 {
				n := int(b[p])
				if label == 0xF9 && n >= 4 && p+4 < len(b) {
					if b[p+1]&1 != 0 {
						info.trans = int(b[p+4])
					} else {
						info.trans = -1
					}
				}
				p += 1 + n
			}
			p++
		case 0x2C: // image descriptor
			if p+10 > len(b) {
				return info
			}
			if packed := b[p+9]; packed&0x80 != 0 {
				t, q := table(p+10, 2<<(packed&7))
				if q < 0 {
					return info
				}
				info.palette = t
			}
			info.complete = true
			return info
		default:
			return info
		}
	}
	return info
}

// gifToRGB renders the first frame as Pillow 9.4 does before
// convert("RGB"): a canvas of the logical screen size filled with the
// transparent index (or index 0), the frame's indices at its offset, then
// the frame's colour table, transparent entry included.
func gifToRGB(src image.Image, b []byte, cfg image.Config) *RGB {
	p, ok := src.(*image.Paletted)
	info := scanGIF(b)
	if !ok || !info.complete {
		return ToRGB(src)
	}
	pal := info.palette
	colour := func(i uint8) [3]uint8 {
		if int(i) < len(pal) {
			return pal[i]
		}
		if int(i) < len(p.Palette) {
			return nrgb(p.Palette[i])
		}
		return [3]uint8{}
	}
	dst := NewRGB(cfg.Width, cfg.Height)
	fill := uint8(0)
	if info.trans >= 0 {
		fill = uint8(info.trans)
	}
	fc := colour(fill)
	for i := 0; i < len(dst.Pix); i += 3 {
		dst.Pix[i], dst.Pix[i+1], dst.Pix[i+2] = fc[0], fc[1], fc[2]
	}
	r := p.Rect.Intersect(dst.Rect)
	for y := r.Min.Y; y < r.Max.Y; y++ {
		o := dst.row(y)
		for x := r.Min.X; x < r.Max.X; x++ {
			c := colour(p.Pix[p.PixOffset(x, y)])
			o[3*x], o[3*x+1], o[3*x+2] = c[0], c[1], c[2]
		}
	}
	return dst
}
