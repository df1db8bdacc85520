package imageproc

// idctBlockRows runs the IDCT on block rows [by0, by1) of component ci,
// each block giving c.ss×c.ss pixels (8, or 4/2/1 when decoding reduced).
func (d *jpegDecoder) idctBlockRows(plane []uint8, ci, by0, by1 int) {
	c := &d.comps[ci]
	n := c.ss
	stride := c.bw * n
	q := &d.qt[c.tq]
	idct := idctIslow
	switch n {
	case 4:
		idct = idct4x4
	case 2:
		idct = idct2x2
	case 1:
		idct = idct1x1
	}
	if hasSIMD && n != 1 && c.bw > 0 {
		// The kernels walk a block row: c.block's storage is contiguous
		// along bx.
		var t4 *[red4x4Rows * 8]int32
		var t2 *[red2x2Rows * 8]int32
		if n == 4 {
			t4 = red4x4Table(q)
		} else if n == 2 {
			t2 = red2x2Table(q)
		}
		for by := by0; by < min(by1, c.bh); by++ {
			row := c.block(0, by)[:c.bw*64]
			o := plane[by*n*stride : by*n*stride+(n-1)*stride+c.bw*n]
			switch n {
			case 8:
				idctIslowSIMD(&row[0], q, &o[0], stride, c.bw)
			case 4:
				idct4x4SIMD(&row[0], t4, &o[0], stride, c.bw)
			default:
				idct2x2SIMD(&row[0], t2, &o[0], stride, c.bw)
			}
		}
		return
	}
	for by := by0; by < min(by1, c.bh); by++ {
		for bx := 0; bx < c.bw; bx++ {
			idct(c.block(bx, by), q, plane[by*n*stride+bx*n:], stride)
		}
	}
}

// idctIslow is libjpeg's jpeg_idct_islow (jidctint.c): dequantise, 2-D
// integer IDCT with 13-bit constants, 2 extra bits between passes, then
// +128 and clamp. out receives 8 rows of 8 at the given stride.
func idctIslow(coefs []int16, q *[64]int32, out []uint8, stride int) {
	in := (*[64]int16)(coefs)
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

// The reduced-size IDCTs of libjpeg's jidctred.c, which libjpeg-turbo (and
// so Pillow's Image.draft) uses to decode at 1/2, 1/4 and 1/8 scale: the
// LL&M IDCT with each 8-to-8 step replaced by one giving the averages of
// 2 (4x4) or 4 (2x2) adjacent outputs; 1x1 is the DC term / 8. Constants
// are FIX(x) = round(x * 2^13), as in jidctint.c.
const (
	redConstBits = 13
	redPass1Bits = 2
	fix0211      = 1730
	fix0509      = 4176
	fix0601      = 4926
	fix0720      = 5906
	fix0765red   = 6270
	fix0850      = 6967
	fix0899red   = 7373
	fix1061      = 8697
	fix1272      = 10426
	fix1451      = 11893
	fix1847red   = 15137
	fix2172      = 17799
	fix2562red   = 20995
	fix3624      = 29692
)

// descale is libjpeg's DESCALE: a rounding right shift. The arithmetic is
// 32-bit, as libjpeg's JLONG where long is 32 bits (Windows, 32-bit
// systems): exact for any valid JPEG (sums stay below 2^31), and it wraps
// on crafted coefficients the same way as the SIMD kernels, which compute
// in 32-bit lanes (jpeg_idct_amd64.s, jpeg_idct_arm64.s).
func descale(x int32, n uint) int32 { return (x + 1<<(n-1)) >> n }

// idct4x4 is jpeg_idct_4x4: 4x4 pixels from an 8x8 block (column 4 and
// row 4 of the coefficients do not contribute). libjpeg's shortcuts for
// columns and rows whose AC terms are all zero are left out: the full
// formula gives the same values there (the rounding term is below the
// shifted-out bits), and in photos the test is a mispredicted branch.
func idct4x4(coefs []int16, q *[64]int32, out []uint8, stride int) {
	in := (*[64]int16)(coefs)
	var ws [8 * 4]int32
	for col := 0; col < 8; col++ {
		if col == 4 {
			continue
		}
		tmp0 := int32(in[col]) * q[col] << (redConstBits + 1)
		z2 := int32(in[16+col]) * q[16+col]
		z3 := int32(in[48+col]) * q[48+col]
		tmp2 := z2*fix1847red + z3*-fix0765red
		tmp10, tmp12 := tmp0+tmp2, tmp0-tmp2

		z1 := int32(in[56+col]) * q[56+col]
		z2 = int32(in[40+col]) * q[40+col]
		z3 = int32(in[24+col]) * q[24+col]
		z4 := int32(in[8+col]) * q[8+col]
		tmp0 = z1*-fix0211 + z2*fix1451 + z3*-fix2172 + z4*fix1061
		tmp2 = z1*-fix0509 + z2*-fix0601 + z3*fix0899red + z4*fix2562red

		const sh = redConstBits - redPass1Bits + 1
		ws[col] = descale(tmp10+tmp2, sh)
		ws[24+col] = descale(tmp10-tmp2, sh)
		ws[8+col] = descale(tmp12+tmp0, sh)
		ws[16+col] = descale(tmp12-tmp0, sh)
	}
	for r := 0; r < 4; r++ {
		w := ws[r*8 : r*8+8]
		o := out[r*stride : r*stride+4]
		tmp0 := w[0] << (redConstBits + 1)
		tmp2 := w[2]*fix1847red + w[6]*-fix0765red
		tmp10, tmp12 := tmp0+tmp2, tmp0-tmp2
		z1, z2, z3, z4 := w[7], w[5], w[3], w[1]
		tmp0 = z1*-fix0211 + z2*fix1451 + z3*-fix2172 + z4*fix1061
		tmp2 = z1*-fix0509 + z2*-fix0601 + z3*fix0899red + z4*fix2562red

		const sh = redConstBits + redPass1Bits + 3 + 1
		o[0] = idctClamp(descale(tmp10+tmp2, sh))
		o[3] = idctClamp(descale(tmp10-tmp2, sh))
		o[1] = idctClamp(descale(tmp12+tmp0, sh))
		o[2] = idctClamp(descale(tmp12-tmp0, sh))
	}
}

// idct2x2 is jpeg_idct_2x2: 2x2 pixels from an 8x8 block (only the DC and
// the odd coefficients 1, 3, 5, 7 of each direction contribute); without
// libjpeg's all-zero shortcuts, as idct4x4.
func idct2x2(coefs []int16, q *[64]int32, out []uint8, stride int) {
	in := (*[64]int16)(coefs)
	var ws [8 * 2]int32
	for col := 0; col < 8; col++ {
		if col == 2 || col == 4 || col == 6 {
			continue
		}
		tmp10 := int32(in[col]) * q[col] << (redConstBits + 2)
		tmp0 := int32(in[56+col])*q[56+col]*-fix0720 + int32(in[40+col])*q[40+col]*fix0850 +
			int32(in[24+col])*q[24+col]*-fix1272 + int32(in[8+col])*q[8+col]*fix3624
		const sh = redConstBits - redPass1Bits + 2
		ws[col] = descale(tmp10+tmp0, sh)
		ws[8+col] = descale(tmp10-tmp0, sh)
	}
	for r := 0; r < 2; r++ {
		w := ws[r*8 : r*8+8]
		o := out[r*stride : r*stride+2]
		tmp10 := w[0] << (redConstBits + 2)
		tmp0 := w[7]*-fix0720 + w[5]*fix0850 + w[3]*-fix1272 + w[1]*fix3624
		const sh = redConstBits + redPass1Bits + 3 + 2
		o[0] = idctClamp(descale(tmp10+tmp0, sh))
		o[1] = idctClamp(descale(tmp10-tmp0, sh))
	}
}

// idct1x1 is jpeg_idct_1x1: the block's mean, DC / 8.
func idct1x1(in []int16, q *[64]int32, out []uint8, _ int) {
	out[0] = idctClamp(descale(int32(in[0])*q[0], 3))
}

// The SIMD reduced IDCTs work on one block at a time, the 8 columns in the
// lanes of a register, and take the quantisation table premultiplied by
// pass 1's constants: one multiply per coefficient and constant instead of
// two. In 32-bit wrapping arithmetic (in·q)·K = in·(q·K), so the result is
// idct4x4's / idct2x2's exactly, whatever the coefficients.
const (
	red4x4Rows = 11
	red2x2Rows = 5
)

// red4x4Table: rows of 8 column multipliers for coefficient rows 0 (DC
// term, the shift folded in), 2, 6 (even part), 7, 5, 3, 1 times pass 1's
// first odd constants, then 7, 5, 3, 1 times its second ones.
func red4x4Table(q *[64]int32) *[red4x4Rows * 8]int32 {
	var t [red4x4Rows * 8]int32
	rows := [red4x4Rows]struct {
		r int
		k int32
	}{{0, 1 << (redConstBits + 1)}, {2, fix1847red}, {6, -fix0765red},
		{7, -fix0211}, {5, fix1451}, {3, -fix2172}, {1, fix1061},
		{7, -fix0509}, {5, -fix0601}, {3, fix0899red}, {1, fix2562red}}
	for i, rk := range rows {
		for col := 0; col < 8; col++ {
			t[i*8+col] = q[rk.r*8+col] * rk.k
		}
	}
	return &t
}

// red2x2Table: coefficient rows 0 (shift folded in), 7, 5, 3, 1 times
// pass 1's constants.
func red2x2Table(q *[64]int32) *[red2x2Rows * 8]int32 {
	var t [red2x2Rows * 8]int32
	rows := [red2x2Rows]struct {
		r int
		k int32
	}{{0, 1 << (redConstBits + 2)}, {7, -fix0720}, {5, fix0850}, {3, -fix1272}, {1, fix3624}}
	for i, rk := range rows {
		for col := 0; col < 8; col++ {
			t[i*8+col] = q[rk.r*8+col] * rk.k
		}
	}
	return &t
}
