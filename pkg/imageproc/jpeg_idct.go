package imageproc

// idctBlockRows runs the IDCT on block rows [by0, by1) of component ci.
func (d *jpegDecoder) idctBlockRows(plane []uint8, ci, by0, by1 int) {
	c := &d.comps[ci]
	stride := c.bw * 8
	q := &d.qt[c.tq]
	for by := by0; by < min(by1, c.bh); by++ {
		for bx := 0; bx < c.bw; bx++ {
			idctIslow(c.block(bx, by), q, plane[by*8*stride+bx*8:], stride)
		}
	}
}

// idctIslow is libjpeg's jpeg_idct_islow (jidctint.c): dequantise, 2-D
// integer IDCT with 13-bit constants, 2 extra bits between passes, then
// +128 and clamp. out receives 8 rows of 8 at the given stride.
func idctIslow(in []int16, q *[64]int32, out []uint8, stride int) {
	const (
		constBits = 13
		pass1Bits = 2
		fix0298   = 2446
		fix0390   = 3196
		fix0541   = 4433
		fix0765   = 6270
		fix0899   = 7373
		fix1175   = 9633
		fix1501   = 12299
		fix1847   = 15137
		fix1961   = 16069
		fix2053   = 16819
		fix2562   = 20995
		fix3072   = 25172
	)
	var ws [64]int32
	for col := 0; col < 8; col++ {
		if in[8+col] == 0 && in[16+col] == 0 && in[24+col] == 0 && in[32+col] == 0 &&
			in[40+col] == 0 && in[48+col] == 0 && in[56+col] == 0 {
			dc := int32(in[col]) * q[col] << pass1Bits
			for r := 0; r < 8; r++ {
				ws[r*8+col] = dc
			}
			continue
		}
		z2 := int32(in[16+col]) * q[16+col]
		z3 := int32(in[48+col]) * q[48+col]
		z1 := (z2 + z3) * fix0541
		tmp2 := z1 + z3*(-fix1847)
		tmp3 := z1 + z2*fix0765
		z2 = int32(in[col]) * q[col]
		z3 = int32(in[32+col]) * q[32+col]
		tmp0 := (z2 + z3) << constBits
		tmp1 := (z2 - z3) << constBits
		tmp10, tmp13 := tmp0+tmp3, tmp0-tmp3
		tmp11, tmp12 := tmp1+tmp2, tmp1-tmp2

		tmp0 = int32(in[56+col]) * q[56+col]
		tmp1 = int32(in[40+col]) * q[40+col]
		tmp2 = int32(in[24+col]) * q[24+col]
		tmp3 = int32(in[8+col]) * q[8+col]
		z1 = tmp0 + tmp3
		z2 = tmp1 + tmp2
		z3 = tmp0 + tmp2
		z4 := tmp1 + tmp3
		z5 := (z3 + z4) * fix1175
		tmp0 *= fix0298
		tmp1 *= fix2053
		tmp2 *= fix3072
		tmp3 *= fix1501
		z1 *= -fix0899
		z2 *= -fix2562
		z3 *= -fix1961
		z4 *= -fix0390
		z3 += z5
		z4 += z5
		tmp0 += z1 + z3
		tmp1 += z2 + z4
		tmp2 += z2 + z3
		tmp3 += z1 + z4

		const sh = constBits - pass1Bits
		const rnd = 1 << (sh - 1)
		ws[col] = (tmp10 + tmp3 + rnd) >> sh
		ws[56+col] = (tmp10 - tmp3 + rnd) >> sh
		ws[8+col] = (tmp11 + tmp2 + rnd) >> sh
		ws[48+col] = (tmp11 - tmp2 + rnd) >> sh
		ws[16+col] = (tmp12 + tmp1 + rnd) >> sh
		ws[40+col] = (tmp12 - tmp1 + rnd) >> sh
		ws[24+col] = (tmp13 + tmp0 + rnd) >> sh
		ws[32+col] = (tmp13 - tmp0 + rnd) >> sh
	}
	for r := 0; r < 8; r++ {
		w := ws[r*8 : r*8+8]
		o := out[r*stride : r*stride+8]
		const sh = constBits + pass1Bits + 3
		const rnd = 1 << (sh - 1)
		z2, z3 := w[2], w[6]
		z1 := (z2 + z3) * fix0541
		tmp2 := z1 + z3*(-fix1847)
		tmp3 := z1 + z2*fix0765
		tmp0 := (w[0] + w[4]) << constBits
		tmp1 := (w[0] - w[4]) << constBits
		tmp10, tmp13 := tmp0+tmp3, tmp0-tmp3
		tmp11, tmp12 := tmp1+tmp2, tmp1-tmp2

		tmp0, tmp1, tmp2, tmp3 = w[7], w[5], w[3], w[1]
		z1 = tmp0 + tmp3
		z2 = tmp1 + tmp2
		z3 = tmp0 + tmp2
		z4 := tmp1 + tmp3
		z5 := (z3 + z4) * fix1175
		tmp0 *= fix0298
		tmp1 *= fix2053
		tmp2 *= fix3072
		tmp3 *= fix1501
		z1 *= -fix0899
		z2 *= -fix2562
		z3 *= -fix1961
		z4 *= -fix0390
		z3 += z5
		z4 += z5
		tmp0 += z1 + z3
		tmp1 += z2 + z4
		tmp2 += z2 + z3
		tmp3 += z1 + z4

		o[0] = idctClamp((tmp10 + tmp3 + rnd) >> sh)
		o[7] = idctClamp((tmp10 - tmp3 + rnd) >> sh)
		o[1] = idctClamp((tmp11 + tmp2 + rnd) >> sh)
		o[6] = idctClamp((tmp11 - tmp2 + rnd) >> sh)
		o[2] = idctClamp((tmp12 + tmp1 + rnd) >> sh)
		o[5] = idctClamp((tmp12 - tmp1 + rnd) >> sh)
		o[3] = idctClamp((tmp13 + tmp0 + rnd) >> sh)
		o[4] = idctClamp((tmp13 - tmp0 + rnd) >> sh)
	}
}

// idctClamp is libjpeg's range_limit[(x) & RANGE_MASK] with the +128 centre:
// in-range values are clamped; the mask only matters for corrupt data.
func idctClamp(x int32) uint8 {
	x += 128
	if x < 0 {
		return 0
	}
	if x > 255 {
		return 255
	}
	return uint8(x)
}
