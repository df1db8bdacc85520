package imageproc

import "errors"

// nextMarker skips to the next 0xFF xx marker (fill bytes allowed); the
// rest of a scan's entropy data, stuffed 0xFF 0x00 included, is skipped.
func (d *jpegDecoder) nextMarker() (byte, error) {
	for {
		for d.pos < len(d.b) && d.b[d.pos] != 0xFF {
			d.pos++ // garbage between segments: libjpeg warns and skips
		}
		for d.pos < len(d.b) && d.b[d.pos] == 0xFF {
			d.pos++
		}
		if d.pos >= len(d.b) {
			return 0, errors.New("unexpected end of file (no EOI)")
		}
		m := d.b[d.pos]
		d.pos++
		if m != 0 {
			return m, nil
		}
	}
}

func (d *jpegDecoder) readSOF(s []byte, progressive bool) error {
	if d.frameSeen {
		return errors.New("two frames")
	}
	if len(s) < 6 || s[0] != 8 {
		return errUnsupportedJPEG // 12-bit or malformed
	}
	d.frameSeen = true
	d.progressive = progressive
	d.height = int(s[1])<<8 | int(s[2])
	d.width = int(s[3])<<8 | int(s[4])
	nc := int(s[5])
	if d.width == 0 || d.height == 0 {
		return errUnsupportedJPEG // DNL-defined height
	}
	if int64(d.width)*int64(d.height) > d.maxPixels {
		return ErrTooLarge
	}
	if nc != 1 && nc != 3 && nc != 4 || len(s) < 6+3*nc {
		return errUnsupportedJPEG
	}
	d.maxH, d.maxV = 1, 1
	for i := 0; i < nc; i++ {
		c := jcomp{id: int(s[6+3*i]), h: int(s[7+3*i] >> 4), v: int(s[7+3*i] & 15), tq: int(s[8+3*i])}
		if c.h < 1 || c.h > 4 || c.v < 1 || c.v > 4 || c.tq > 3 {
			return errors.New("bad sampling factors")
		}
		d.maxH, d.maxV = max(d.maxH, c.h), max(d.maxV, c.v)
		d.comps = append(d.comps, c)
	}
	if nc == 1 { // a single component is never interleaved: 1 block per MCU
		d.comps[0].h, d.comps[0].v, d.maxH, d.maxV = 1, 1, 1, 1
	}
	d.mcux = (d.width + 8*d.maxH - 1) / (8 * d.maxH)
	d.mcuy = (d.height + 8*d.maxV - 1) / (8 * d.maxV)
	for i := range d.comps {
		c := &d.comps[i]
		c.bw, c.bh = d.mcux*c.h, d.mcuy*c.v
		c.cw = (ceilDiv(d.width*c.h, d.maxH) + 7) / 8
		c.ch = (ceilDiv(d.height*c.v, d.maxV) + 7) / 8
		if int64(c.bw)*int64(c.bh)*64 > 1<<31 {
			return errors.New("image too large")
		}
	}
	d.scaleComponents()
	return nil
}

// scaleComponents sets each component's IDCT output size for a 1/scale
// decode as libjpeg-turbo's jpeg_core_output_dimensions does: 8/scale for
// the most-sampled components, and subsampled chroma scaled up by a larger
// IDCT rather than by upsampling wherever its sampling ratio allows (so
// 4:2:0 at 1/2 decodes chroma with the full 8x8 IDCT and needs no
// upsampling at all).
func (d *jpegDecoder) scaleComponents() {
	m := d.minSS()
	for i := range d.comps {
		c := &d.comps[i]
		ss := m
		for ss < 8 && (d.maxH*m)%(c.h*ss*2) == 0 && (d.maxV*m)%(c.v*ss*2) == 0 {
			ss *= 2
		}
		c.ss = ss
	}
	d.ow, d.oh = ceilDiv(d.width, d.scale), ceilDiv(d.height, d.scale)
}

// minSS is libjpeg's min_DCT_scaled_size: the pixels per block side of the
// most-sampled components.
func (d *jpegDecoder) minSS() int { return 8 / d.scale }

// block returns the 64 coefficients of block (bx, by) of c.
func (c *jcomp) block(bx, by int) []int16 {
	if c.ring > 0 {
		by %= c.ring
	}
	i := (by*c.bw + bx) * 64
	return c.coefs[i : i+64]
}

// allocCoefs allocates coefficient storage at the first scan: the whole
// image, or (streaming) a ring of ringMCURows MCU rows.
func (d *jpegDecoder) allocCoefs(ringMCURows int) {
	for i := range d.comps {
		c := &d.comps[i]
		if c.coefs != nil {
			continue
		}
		rows := c.bh
		if ringMCURows > 0 && ringMCURows*c.v < c.bh {
			rows, c.ring = ringMCURows*c.v, ringMCURows*c.v
		}
		c.coefs = make([]int16, c.bw*rows*64)
	}
}

func ceilDiv(a, b int) int { return (a + b - 1) / b }

func (d *jpegDecoder) readDHT(s []byte) error {
	for len(s) > 0 {
		if len(s) < 17 {
			return errors.New("bad DHT")
		}
		class, id := s[0]>>4, int(s[0]&15)
		if class > 1 || id > 3 {
			return errors.New("bad DHT")
		}
		var counts [16]int
		total := 0
		for i := 0; i < 16; i++ {
			counts[i] = int(s[1+i])
			total += counts[i]
		}
		if total > 256 || len(s) < 17+total {
			return errors.New("bad DHT")
		}
		vals := append([]uint8(nil), s[17:17+total]...)
		h, err := buildHuff(counts, vals, class == 0)
		if err != nil {
			return err
		}
		if class == 0 {
			d.dc[id] = h
		} else {
			d.ac[id] = h
		}
		s = s[17+total:]
	}
	return nil
}

func (d *jpegDecoder) readDQT(s []byte) error {
	for len(s) > 0 {
		pq, id := s[0]>>4, int(s[0]&15)
		if id > 3 || pq > 1 {
			return errors.New("bad DQT")
		}
		n := 64
		if pq == 1 {
			n = 128
		}
		if len(s) < 1+n {
			return errors.New("bad DQT")
		}
		for i := 0; i < 64; i++ {
			v := int32(s[1+i])
			if pq == 1 {
				v = int32(s[1+2*i])<<8 | int32(s[2+2*i])
			}
			d.qt[id][zigzag[i]] = v
		}
		d.qtSet[id] = true
		s = s[1+n:]
	}
	return nil
}

// restartSync consumes an RSTn marker after a restart interval.
func (d *jpegDecoder) restartSync() error {
	d.acc, d.nbits, d.hitMark, d.eobrun = 0, 0, false, 0
	d.padBits, d.insufficient = 0, false
	for i := range d.comps {
		d.comps[i].dcPred = 0
	}
	for d.pos < len(d.b) && d.b[d.pos] != 0xFF {
		d.pos++
	}
	for d.pos < len(d.b) && d.b[d.pos] == 0xFF {
		d.pos++
	}
	if d.pos >= len(d.b) {
		return errors.New("unexpected end of file at a restart marker")
	}
	if m := d.b[d.pos]; m < 0xD0 || m > 0xD7 {
		return errUnsupportedJPEG // resynchronisation à la libjpeg not reproduced
	}
	d.pos++
	return nil
}
