package imageproc

import "encoding/binary"

// heifPlanes are the decoded YCbCr (or monochrome) planes of a HEIF image
// as libheif lays them out: depth bits per sample, one byte per sample up
// to 8 bits and two (little-endian) above, rows stride bytes apart.
type heifPlanes struct {
	width, height    int
	depth            int
	subX, subY       int // chroma subsampling shifts: 4:2:0 1,1; 4:2:2 1,0; 4:4:4 0,0
	y, cb, cr        []byte
	yStride, cStride int
	mono             bool
}

func (p *heifPlanes) at(plane []byte, stride, x, y int) int {
	if p.depth > 8 {
		return int(binary.LittleEndian.Uint16(plane[y*stride+2*x:]))
	}
	return int(plane[y*stride+x])
}

// heifCoefficients are libheif's YCbCr→RGB factors for an nclx matrix
// (nclx.cc's get_YCbCr_to_RGB_coefficients), in float32 as libheif
// computes them; BT.601's when the matrix has no Kr/Kb.
func heifCoefficients(c heifNCLX) (rCr, gCb, gCr, bCb float32) {
	var kr, kb float32
	switch c.matrix {
	case 1:
		kr, kb = 0.2126, 0.0722
	case 4:
		kr, kb = 0.30, 0.11
	case 5, 6:
		kr, kb = 0.299, 0.114
	case 7:
		kr, kb = 0.212, 0.087
	case 9, 10:
		kr, kb = 0.2627, 0.0593
	case 12, 13:
		kr, kb = krKbFromPrimaries(c.primaries)
	}
	if kr == 0 && kb == 0 {
		return 1.402, -0.344136, -0.714136, 1.772
	}
	var one, two float32 = 1, 2
	return two * (-kr + one), two * kb * (-kb + one) / (kb + kr - one), two * kr * (-kr + one) / (kb + kr - one), two * (-kb + one)
}

// krKbFromPrimaries derives Kr and Kb from the colour primaries (the
// chromaticity-derived matrices 12 and 13), as libheif does in float32.
func krKbFromPrimaries(primaries int) (kr, kb float32) {
	// green x, y; blue x, y; red x, y; white x, y
	var p [8]float32
	switch primaries {
	case 1:
		p = [8]float32{0.300, 0.600, 0.150, 0.060, 0.640, 0.330, 0.3127, 0.3290}
	case 4:
		p = [8]float32{0.21, 0.71, 0.14, 0.08, 0.67, 0.33, 0.310, 0.316}
	case 5:
		p = [8]float32{0.29, 0.60, 0.15, 0.06, 0.64, 0.33, 0.3127, 0.3290}
	case 6, 7:
		p = [8]float32{0.310, 0.595, 0.155, 0.070, 0.630, 0.340, 0.3127, 0.3290}
	case 8:
		p = [8]float32{0.243, 0.692, 0.145, 0.049, 0.681, 0.319, 0.310, 0.316}
	case 9:
		p = [8]float32{0.170, 0.797, 0.131, 0.046, 0.708, 0.292, 0.3127, 0.3290}
	case 10:
		p = [8]float32{0.0, 1.0, 0.0, 0.0, 1.0, 0.0, 0.333333, 0.33333}
	case 11:
		p = [8]float32{0.265, 0.690, 0.150, 0.060, 0.680, 0.320, 0.314, 0.351}
	case 12:
		p = [8]float32{0.265, 0.690, 0.150, 0.060, 0.680, 0.320, 0.3127, 0.3290}
	case 22:
		p = [8]float32{0.295, 0.605, 0.155, 0.077, 0.630, 0.340, 0.3127, 0.3290}
	default:
		return 0, 0
	}
	gx, gy, bx, by, rx, ry, wx, wy := p[0], p[1], p[2], p[3], p[4], p[5], p[6], p[7]
	var one float32 = 1
	zr, zg, zb, zw := one-(rx+ry), one-(gx+gy), one-(bx+by), one-(wx+wy)
	denom := wy * (rx*(gy*zb-by*zg) + gx*(by*zr-ry*zb) + bx*(ry*zg-gy*zr))
	if denom == 0 {
		return 0, 0
	}
	kr = (ry * (wx*(gy*zb-by*zg) + wy*(bx*zg-gx*zb) + zw*(gx*by-bx*gy))) / denom
	kb = (by * (wx*(ry*zg-gy*zr) + wy*(gx*zr-rx*zg) + zw*(rx*gy-gx*ry))) / denom
	return kr, kb
}

// heifToRGB converts decoded planes to the 8-bit RGB that heif-convert
// 1.15 writes and Pillow reads back: libheif 1.15's planar YCbCr→RGB
// (Op_YCbCr_to_RGB: nearest-neighbour chroma, float32 arithmetic, limited
// range expanded, at the stream's bit depth), then for more than 8 bits
// heif-convert's 16-bit PNG (samples shifted up with their high bits
// repeated) of which Pillow keeps the high byte.
func heifToRGB(p *heifPlanes, c heifNCLX) *RGB {
	img := NewRGB(p.width, p.height)
	bpp := p.depth
	half := 1 << (bpp - 1)
	out8 := func(v int) uint8 { return uint8(v) }
	if bpp > 8 {
		s := 16 - bpp
		out8 = func(v int) uint8 { return uint8(uint16(v<<s|v>>(16-s)) >> 8) }
	}
	if p.mono {
		// libheif goes through YCbCr with neutral chroma and no colour
		// profile (full range): R = G = B = Y.
		parallelRows(p.height, func(a, e int) {
			for y := a; y < e; y++ {
				o := img.row(y)
				for x := 0; x < p.width; x++ {
					v := out8(p.at(p.y, p.yStride, x, y))
					o[3*x], o[3*x+1], o[3*x+2] = v, v, v
				}
			}
		})
		return img
	}
	if c.matrix != 0 && c.matrix != 8 {
		heifToRGBMatrix(p, c, img)
		return img
	}
	limitedOffset := 16 << (bpp - 8)
	parallelRows(p.height, func(a, e int) {
		for y := a; y < e; y++ {
			o := img.row(y)
			cy := y >> p.subY
			for x := 0; x < p.width; x++ {
				cx := x >> p.subX
				yi, cbi, cri := p.at(p.y, p.yStride, x, y), p.at(p.cb, p.cStride, cx, cy), p.at(p.cr, p.cStride, cx, cy)
				var r, g, b int
				switch c.matrix {
				case 0: // GBR
					if c.fullRange {
						r, g, b = cri, yi, cbi
					} else {
						r = (cri*219+128)>>8 + limitedOffset
						g = (yi*219+128)>>8 + limitedOffset
						b = (cbi*219+128)>>8 + limitedOffset
					}
				case 8: // YCgCo, clipped to 8 bits at any depth as libheif does
					cb, cr := cbi-half, cri-half
					r, g, b = min(max(yi-cb+cr, 0), 255), min(max(yi+cb, 0), 255), min(max(yi-cb-cr, 0), 255)
				}
				o[3*x], o[3*x+1], o[3*x+2] = out8(r), out8(g), out8(b)
			}
		}
	})
	return img
}

// heifToRGBMatrix is heifToRGB for the matrices converted in float32
// (all but GBR and YCgCo). Every term that depends on one sample alone is
// computed once per sample value, with the same float32 operations as
// libheif's per-pixel code, so the sums, rounding and clamping below give
// its results exactly.
func heifToRGBMatrix(p *heifPlanes, c heifNCLX, img *RGB) {
	bpp := p.depth
	n := 1 << bpp
	half, maxv, shift := n/2, n-1, max(bpp-8, 0)
	rCr, gCb, gCr, bCb := heifCoefficients(c)
	yt, rt, gbt, grt, bt := make([]float32, n), make([]float32, n), make([]float32, n), make([]float32, n), make([]float32, n)
	for v := range n {
		yv, cv := float32(v), float32(v-half)
		if !c.fullRange {
			yv = (yv - float32(int(16)<<(bpp-8))) * 1.1689
			cv *= 1.1429
		}
		// The explicit conversions keep each product rounded to float32
		// on its own, as libheif's (no fused multiply-add).
		yt[v], rt[v], gbt[v], grt[v], bt[v] = yv, float32(rCr*cv), float32(gCb*cv), float32(gCr*cv), float32(bCb*cv)
	}
	// clip_f_u16: +0.5, truncation toward zero, clamping; then the 8 bits
	// heif-convert's PNG leaves Pillow.
	out := func(f float32) uint8 { return uint8(min(max(int(f+0.5), 0), maxv) >> shift) }
	wide := bpp > 8
	parallelRows(p.height, func(a, e int) {
		for y := a; y < e; y++ {
			o := img.row(y)
			yr, cy := p.y[y*p.yStride:], y>>p.subY
			cbr, crr := p.cb[cy*p.cStride:], p.cr[cy*p.cStride:]
			for x := 0; x < p.width; x++ {
				cx := x >> p.subX
				var yi, cbi, cri int
				if wide {
					yi = int(yr[2*x]) | int(yr[2*x+1])<<8
					cbi = int(cbr[2*cx]) | int(cbr[2*cx+1])<<8
					cri = int(crr[2*cx]) | int(crr[2*cx+1])<<8
					yi, cbi, cri = yi&maxv, cbi&maxv, cri&maxv // samples wider than the depth: corrupt, kept in range
				} else {
					yi, cbi, cri = int(yr[x]), int(cbr[cx]), int(crr[cx])
				}
				yv := yt[yi]
				o[3*x] = out(yv + rt[cri])
				o[3*x+1] = out(float32(yv+gbt[cbi]) + grt[cri])
				o[3*x+2] = out(yv + bt[cbi])
			}
		}
	})
}
