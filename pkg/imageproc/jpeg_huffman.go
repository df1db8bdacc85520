package imageproc

import (
	"encoding/binary"
	"errors"
)

// zigzag[i] is the natural (row-major) index of the i-th coefficient in
// zigzag order; entries past 63 guard against corrupt run lengths, as
// libjpeg's jpeg_natural_order does.
var zigzag = [64 + 16]int{
	0, 1, 8, 16, 9, 2, 3, 10, 17, 24, 32, 25, 18, 11, 4, 5,
	12, 19, 26, 33, 40, 48, 41, 34, 27, 20, 13, 6, 7, 14, 21, 28,
	35, 42, 49, 56, 57, 50, 43, 36, 29, 22, 15, 23, 30, 37, 44, 51,
	58, 59, 52, 45, 38, 31, 39, 46, 53, 60, 61, 54, 47, 55, 62, 63,
	63, 63, 63, 63, 63, 63, 63, 63, 63, 63, 63, 63, 63, 63, 63, 63,
}

type huffTable struct {
	lookup  [512]uint16 // 9-bit lookahead: (length << 8) | value, 0 if longer
	maxcode [18]int32
	valptr  [17]int32
	mincode [17]int32
	vals    []uint8
}

func buildHuff(counts [16]int, vals []uint8) (*huffTable, error) {
	h := &huffTable{vals: vals}
	code, k := int32(0), 0
	for l := 1; l <= 16; l++ {
		h.valptr[l] = int32(k)
		h.mincode[l] = code
		n := counts[l-1]
		if n > 0 {
			for i := 0; i < n; i++ {
				if l <= 9 {
					shift := 9 - l
					base := int(code) << shift
					for j := 0; j < 1<<shift; j++ {
						if base+j >= 512 {
							return nil, errors.New("bad Huffman table")
						}
						h.lookup[base+j] = uint16(l)<<8 | uint16(vals[k])
					}
				}
				code++
				k++
			}
			h.maxcode[l] = code - 1
		} else {
			h.maxcode[l] = -1
		}
		if code > 1<<l {
			return nil, errors.New("bad Huffman table (code overflow)")
		}
		code <<= 1
	}
	h.maxcode[17] = 0x7fffffff
	return h, nil
}

// fill tops the bit accumulator up to at least 25 bits. At a marker (or
// the end of the data) it feeds zeros, as libjpeg does; reaching the end
// of the file inside entropy data is an error (Pillow: "truncated").
func (d *jpegDecoder) fill() error {
	// Fast path: take whole bytes at once when the next 8 hold no 0xFF
	// (no stuffing, no marker), which is most of the entropy data.
	if !d.hitMark && d.pos+8 <= len(d.b) {
		chunk := binary.BigEndian.Uint64(d.b[d.pos:])
		if x := ^chunk; (x-0x0101010101010101)&^x&0x8080808080808080 == 0 {
			n := (64 - d.nbits) / 8
			d.acc = d.acc<<(8*uint(n)) | chunk>>(64-8*uint(n))
			d.pos += n
			d.nbits += 8 * n
			return nil
		}
	}
	for d.nbits <= 56 {
		if d.hitMark {
			d.acc <<= 8
			d.nbits += 8
			d.padBits += 8
			continue
		}
		if d.pos >= len(d.b) {
			return errors.New("unexpected end of file in image data (truncated)")
		}
		c := d.b[d.pos]
		if c == 0xFF {
			if d.pos+1 >= len(d.b) {
				return errors.New("unexpected end of file in image data (truncated)")
			}
			nx := d.b[d.pos+1]
			if nx == 0 {
				d.pos += 2
			} else if nx == 0xFF {
				d.pos++ // fill byte
				continue
			} else {
				d.hitMark = true
				continue
			}
		} else {
			d.pos++
		}
		d.acc = d.acc<<8 | uint64(c)
		d.nbits += 8
	}
	return nil
}

func (d *jpegDecoder) bits(n int) (int32, error) {
	if n == 0 {
		return 0, nil
	}
	if d.nbits < n {
		if err := d.fill(); err != nil {
			return 0, err
		}
	}
	d.nbits -= n
	return int32(d.acc>>uint(d.nbits)) & (1<<n - 1), nil
}

func (d *jpegDecoder) bit() (bool, error) {
	v, err := d.bits(1)
	return v != 0, err
}

func (d *jpegDecoder) huff(h *huffTable) (uint8, error) {
	if d.nbits < 16 {
		if err := d.fill(); err != nil {
			return 0, err
		}
	}
	look := (d.acc >> uint(d.nbits-9)) & 511
	if e := h.lookup[look]; e != 0 {
		d.nbits -= int(e >> 8)
		return uint8(e), nil
	}
	for l := 1; l <= 16; l++ {
		code := int32(d.acc>>uint(d.nbits-l)) & (1<<l - 1)
		if code <= h.maxcode[l] && h.maxcode[l] >= 0 {
			d.nbits -= l
			idx := h.valptr[l] + code - h.mincode[l]
			if idx < 0 || int(idx) >= len(h.vals) {
				return 0, errors.New("bad Huffman code")
			}
			return h.vals[idx], nil
		}
	}
	// libjpeg: "Corrupt JPEG data: bad Huffman code", returns 0 and goes on.
	d.nbits -= 16
	return 0, nil
}

func extend(v int32, t int) int32 {
	if t == 0 {
		return 0
	}
	if v < 1<<(t-1) {
		v += -1<<t + 1
	}
	return v
}

func (d *jpegDecoder) receiveExtend(t int) (int32, error) {
	if t > 16 {
		return 0, errors.New("bad coefficient size")
	}
	v, err := d.bits(t)
	if err != nil {
		return 0, err
	}
	return extend(v, t), nil
}

func (d *jpegDecoder) decodeBlock(c *jcomp, blk []int16, ss, se, ah, al int) error {
	if ss == 0 { // DC (and for sequential, the whole block)
		if ah == 0 {
			t, err := d.huff(d.dc[c.td])
			if err != nil {
				return err
			}
			diff, err := d.receiveExtend(int(t))
			if err != nil {
				return err
			}
			c.dcPred += diff
			blk[0] = int16(c.dcPred << al)
		} else {
			b, err := d.bit()
			if err != nil {
				return err
			}
			if b {
				blk[0] |= int16(1 << al)
			}
		}
		if !d.progressive {
			return d.decodeAC(c, blk, 1, 63, 0)
		}
		return nil
	}
	if ah == 0 {
		return d.decodeAC(c, blk, ss, se, al)
	}
	return d.refineAC(c, blk, ss, se, al)
}

func (d *jpegDecoder) decodeAC(c *jcomp, blk []int16, ss, se, al int) error {
	if d.eobrun > 0 {
		d.eobrun--
		return nil
	}
	h := d.ac[c.ta]
	for k := ss; k <= se; k++ {
		// One refill per coefficient: >= 32 bits cover a code (<= 16 bits)
		// and its value (<= 15 bits), so the hot path below never checks.
		if d.nbits < 32 {
			if err := d.fill(); err != nil {
				return err
			}
		}
		var rs uint8
		if e := h.lookup[(d.acc>>uint(d.nbits-9))&511]; e != 0 {
			d.nbits -= int(e >> 8)
			rs = uint8(e)
		} else {
			var err error
			if rs, err = d.huff(h); err != nil {
				return err
			}
		}
		r, s := int(rs>>4), int(rs&15)
		if s != 0 {
			k += r
			d.nbits -= s
			v := int32(d.acc>>uint(d.nbits)) & (1<<s - 1)
			blk[zigzag[min(k, 64+15)]] = int16(extend(v, s) << al)
		} else {
			if r != 15 {
				if d.progressive {
					d.eobrun = 1 << r
					if r > 0 {
						e, err := d.bits(r)
						if err != nil {
							return err
						}
						d.eobrun += e
					}
					d.eobrun--
				}
				break
			}
			k += 15
		}
	}
	return nil
}
