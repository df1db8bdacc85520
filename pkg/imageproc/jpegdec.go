package imageproc

import (
	"encoding/binary"
	"errors"
	"fmt"
	"image"
)

// This file is a JPEG decoder written to give the same pixels as
// libjpeg-turbo (what Pillow uses): Huffman baseline and progressive,
// libjpeg's "islow" integer IDCT, then the fancy upsampling and colour
// tables of jpeg.go. Go's image/jpeg uses a different IDCT, which moves
// pixels by up to 3 levels. Anything this decoder does not handle
// (arithmetic coding, 12-bit, lossless, unusual sampling) returns
// errUnsupportedJPEG and the caller falls back to image/jpeg.

var errUnsupportedJPEG = errors.New("jpeg feature not handled by the libjpeg-compatible decoder")

// maxScans bounds the work a tiny file can ask for: every scan walks all
// blocks, so thousands of empty progressive scans over a large frame would
// take minutes (libjpeg-turbo's TurboJPEG refuses more than 500 too).
const maxScans = 500

// errTooManyScans is final: the caller must not retry with image/jpeg.
var errTooManyScans = fmt.Errorf("more than %d scans in a progressive JPEG (refused: decompression bomb)", maxScans)

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

type jcomp struct {
	id, h, v, tq int
	bw, bh       int // blocks per line / column, padded to whole MCUs
	cw, ch       int // blocks actually covering the component (non-interleaved scans)
	coefs        []int16
	ring         int // > 0: coefs holds only this many block rows, reused (streaming)
	dcPred       int32
	td, ta       int
}

type jpegDecoder struct {
	b   []byte
	pos int

	width, height int
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
	return decodeJPEGRing(b, maxPixels, streamRingRows)
}

// decodeJPEGRing is decodeJPEGLibjpeg with the streaming ring size chosen
// (tests use tiny rings so small images exercise slot reuse).
func decodeJPEGRing(b []byte, maxPixels int64, ringRows int) (*RGB, error) {
	d := &jpegDecoder{b: b, pos: 2, maxPixels: maxPixels, ringRows: ringRows}
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
	return nil
}

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
		h, err := buildHuff(counts, vals)
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

func (d *jpegDecoder) readScan(s []byte) error {
	if !d.frameSeen || len(s) < 1 {
		return errors.New("scan before frame")
	}
	ns := int(s[0])
	if ns < 1 || ns > 4 || len(s) < 1+2*ns+3 {
		return errors.New("bad SOS")
	}
	var sc []*jcomp
	for i := 0; i < ns; i++ {
		id := int(s[1+2*i])
		var c *jcomp
		for j := range d.comps {
			if d.comps[j].id == id {
				c = &d.comps[j]
			}
		}
		if c == nil {
			return errors.New("scan names an unknown component")
		}
		c.td, c.ta = int(s[2+2*i]>>4), int(s[2+2*i]&15)
		if c.td > 3 || c.ta > 3 {
			return errors.New("bad SOS table")
		}
		sc = append(sc, c)
	}
	p := 1 + 2*ns
	ss, se, ah, al := int(s[p]), int(s[p+1]), int(s[p+2]>>4), int(s[p+2]&15)
	if !d.progressive {
		ss, se, ah, al = 0, 63, 0, 0
	}
	if ss > 63 || se > 63 || ss > se || al > 13 || (ss > 0 && ns != 1) {
		return errors.New("bad progressive parameters")
	}
	d.acc, d.nbits, d.hitMark, d.eobrun = 0, 0, false, 0
	d.padBits, d.insufficient = 0, false
	for _, c := range sc {
		c.dcPred = 0
		if ss == 0 && ah == 0 && d.dc[c.td] == nil || se > 0 && (ss > 0 || !d.progressive) && d.ac[c.ta] == nil {
			return errors.New("scan uses an undefined Huffman table")
		}
	}

	block := func(c *jcomp, bx, by int) error {
		if bx >= c.bw || by >= c.bh || d.insufficient {
			return nil
		}
		return d.decodeBlock(c, c.block(bx, by), ss, se, ah, al)
	}

	if d.streamed != nil {
		return errUnsupportedJPEG // a scan after the streamed one: rare, leave it to image/jpeg
	}
	var st *jpegStream
	if !d.progressive && ns == len(d.comps) {
		st = d.newStream(d.comps[0].coefs == nil)
	}
	if st != nil && st.ring {
		d.allocCoefs(d.ringRows)
	} else {
		d.allocCoefs(0)
	}
	mcus := 0
	if ns == 1 && st == nil {
		c := sc[0]
		for by := 0; by < c.ch; by++ {
			for bx := 0; bx < c.cw; bx++ {
				if d.restart > 0 && mcus > 0 && mcus%d.restart == 0 {
					if err := d.restartSync(); err != nil {
						return err
					}
				}
				if err := block(c, bx, by); err != nil {
					return err
				}
				d.insufficient = d.insufficient || d.nbits < d.padBits
				mcus++
			}
		}
	} else {
		for my := 0; my < d.mcuy; my++ {
			if st != nil && st.ring {
				// Wait for the worker to free a ring slot (or to have died).
				select {
				case <-st.free:
				case <-st.done:
					_, err := st.wait()
					if err == nil {
						err = errors.New("jpeg stream worker stopped")
					}
					return err
				}
			}
			for mx := 0; mx < d.mcux; mx++ {
				if d.restart > 0 && mcus > 0 && mcus%d.restart == 0 {
					if err := d.restartSync(); err != nil {
						return err
					}
				}
				for _, c := range sc {
					for v := 0; v < c.v; v++ {
						for h := 0; h < c.h; h++ {
							if err := block(c, mx*c.h+h, my*c.v+v); err != nil {
								if st != nil {
									st.abort()
								}
								return err
							}
						}
					}
				}
				d.insufficient = d.insufficient || d.nbits < d.padBits
				mcus++
			}
			if st != nil {
				st.rows <- my
			}
		}
	}
	if st != nil {
		out, err := st.wait()
		if err != nil {
			return err
		}
		d.streamed = out
	}
	// Leave d.pos at the marker that ends the scan.
	if d.hitMark {
		for d.pos < len(d.b) && d.b[d.pos] != 0xFF {
			d.pos++
		}
	}
	return nil
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

func (d *jpegDecoder) refineAC(c *jcomp, blk []int16, ss, se, al int) error {
	p1, m1 := int16(1<<al), int16(-1<<al)
	h := d.ac[c.ta]
	k := ss
	refine := func(z int) error {
		b, err := d.bit()
		if err != nil {
			return err
		}
		if b && blk[z]&p1 == 0 {
			if blk[z] >= 0 {
				blk[z] += p1
			} else {
				blk[z] += m1
			}
		}
		return nil
	}
	if d.eobrun == 0 {
		for ; k <= se; k++ {
			rs, err := d.huff(h)
			if err != nil {
				return err
			}
			r, s := int(rs>>4), int(rs&15)
			var val int16
			if s != 0 {
				b, err := d.bit()
				if err != nil {
					return err
				}
				if b {
					val = p1
				} else {
					val = m1
				}
			} else if r != 15 {
				d.eobrun = 1 << r
				if r > 0 {
					e, err := d.bits(r)
					if err != nil {
						return err
					}
					d.eobrun += e
				}
				break
			}
			for k <= se {
				z := zigzag[k]
				if blk[z] != 0 {
					if err := refine(z); err != nil {
						return err
					}
				} else {
					if r == 0 {
						break
					}
					r--
				}
				k++
			}
			if val != 0 {
				blk[zigzag[min(k, 64+15)]] = val
			}
		}
	}
	if d.eobrun > 0 {
		for ; k <= se; k++ {
			z := zigzag[k]
			if blk[z] != 0 {
				if err := refine(z); err != nil {
					return err
				}
			}
		}
		d.eobrun--
	}
	return nil
}

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

func (d *jpegDecoder) allocPlanes() ([][]uint8, error) {
	planes := make([][]uint8, len(d.comps))
	for i, c := range d.comps {
		if !d.qtSet[c.tq] {
			return nil, errors.New("undefined quantisation table")
		}
		planes[i] = make([]uint8, c.bw*8*c.bh*8)
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
	w, h := d.width, d.height
	switch len(d.comps) {
	case 1:
		g := &image.Gray{Pix: planes[0], Stride: d.comps[0].bw * 8, Rect: image.Rect(0, 0, w, h)}
		return ToRGB(g), nil
	case 3:
		c0, c1, c2 := d.comps[0], d.comps[1], d.comps[2]
		rgb := d.adobe && d.adobeXform == 0 || !d.adobe && !d.jfif && c0.id == 'R' && c1.id == 'G' && c2.id == 'B'
		if rgb {
			if c0.h != c1.h || c0.h != c2.h || c0.v != c1.v || c0.v != c2.v {
				return nil, errUnsupportedJPEG
			}
			out := NewRGB(w, h)
			st := c0.bw * 8
			for y := 0; y < h; y++ {
				o := out.row(y)
				for x := 0; x < w; x++ {
					o[3*x], o[3*x+1], o[3*x+2] = planes[0][y*st+x], planes[1][y*st+x], planes[2][y*st+x]
				}
			}
			return out, nil
		}
		if c1.h != 1 || c1.v != 1 || c2.h != 1 || c2.v != 1 {
			return nil, errUnsupportedJPEG
		}
		var ratio image.YCbCrSubsampleRatio
		switch [2]int{c0.h, c0.v} {
		case [2]int{1, 1}:
			ratio = image.YCbCrSubsampleRatio444
		case [2]int{2, 1}:
			ratio = image.YCbCrSubsampleRatio422
		case [2]int{2, 2}:
			ratio = image.YCbCrSubsampleRatio420
		case [2]int{1, 2}:
			ratio = image.YCbCrSubsampleRatio440
		case [2]int{4, 1}:
			ratio = image.YCbCrSubsampleRatio411
		case [2]int{4, 2}:
			ratio = image.YCbCrSubsampleRatio410
		default:
			return nil, errUnsupportedJPEG
		}
		y := &image.YCbCr{Y: planes[0], Cb: planes[1], Cr: planes[2], YStride: c0.bw * 8, CStride: c1.bw * 8,
			SubsampleRatio: ratio, Rect: image.Rect(0, 0, w, h)}
		return ycbcrFancy(y), nil
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
	w, h := d.width, d.height
	st := d.comps[0].bw * 8
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

// jpegStream converts a single interleaved baseline scan while it is being
// entropy-decoded: a worker runs the IDCT of each finished MCU row and the
// colour conversion of the pixel rows whose chroma neighbours are ready, on
// the second core, so only the Huffman decoding stays serial.
type jpegStream struct {
	rows chan int // buffered for every MCU row, so sends never block
	free chan struct{}
	ring bool // coefficients live in a ring of streamRingRows MCU rows
	done chan struct{}
	out  *RGB
	err  error // a panic in the worker, which guard() cannot see
}

// streamRingRows is how many MCU rows of coefficients the streaming decoder
// keeps: the decoder may run that far ahead of the IDCT worker.
const streamRingRows = 32

// newStream returns nil when the frame is not a plain gray or YCbCr image
// (finish handles those after the scan). ring: the coefficients are not
// allocated yet, so a small ring of MCU rows can replace the whole image's.
func (d *jpegDecoder) newStream(ring bool) *jpegStream {
	planes, err := d.allocPlanes()
	if err != nil {
		return nil
	}
	w, h := d.width, d.height
	out := NewRGB(w, h)
	var convert func(y0, y1 int)
	switch len(d.comps) {
	case 1:
		st := d.comps[0].bw * 8
		convert = func(y0, y1 int) {
			for y := y0; y < y1; y++ {
				o := out.row(y)
				for x, v := range planes[0][y*st : y*st+w] {
					o[3*x], o[3*x+1], o[3*x+2] = v, v, v
				}
			}
		}
	case 3:
		yimg := d.ycbcrImage(planes)
		if yimg == nil {
			return nil
		}
		t := newYCCTables()
		convert = func(y0, y1 int) { ycbcrFancyRows(yimg, out, t, y0, y1) }
	default:
		return nil
	}
	s := &jpegStream{rows: make(chan int, d.mcuy), done: make(chan struct{}), out: out, ring: ring,
		free: make(chan struct{}, d.ringRows)}
	for i := 0; i < d.ringRows; i++ {
		s.free <- struct{}{}
	}
	go func() {
		defer close(s.done)
		defer func() {
			if p := recover(); p != nil {
				s.err = fmt.Errorf("corrupt jpeg data (conversion panic: %v)", p)
			}
		}()
		converted := 0
		for my := range s.rows {
			// Index rather than copy d.comps: the decoder goroutine is
			// updating each component's DC predictor meanwhile.
			for ci := range d.comps {
				c := &d.comps[ci]
				d.idctBlockRows(planes[ci], ci, my*c.v, (my+1)*c.v)
				if c.ring > 0 {
					// Sequential decoding writes only non-zero AC
					// coefficients: clear the slot before it is reused.
					for by := my * c.v; by < (my+1)*c.v; by++ {
						clear(c.coefs[(by%c.ring)*c.bw*64 : (by%c.ring+1)*c.bw*64])
					}
				}
			}
			if s.ring {
				s.free <- struct{}{}
			}
			// Rows before this MCU row may read one chroma row into it.
			if limit := min(my*8*d.maxV, h); limit > converted {
				convert(converted, limit)
				converted = limit
			}
		}
		if converted < h {
			convert(converted, h)
		}
	}()
	return s
}

func (s *jpegStream) wait() (*RGB, error) {
	close(s.rows)
	<-s.done
	return s.out, s.err
}

func (s *jpegStream) abort() {
	close(s.rows)
	<-s.done
}

// ycbcrImage views 3 component planes as an image.YCbCr for fancy
// upsampling, or nil when the layout is not one libjpeg's YCbCr path and
// ycbcrFancy share (RGB transform, odd sampling).
func (d *jpegDecoder) ycbcrImage(planes [][]uint8) *image.YCbCr {
	c0, c1, c2 := d.comps[0], d.comps[1], d.comps[2]
	if d.adobe && d.adobeXform == 0 || !d.adobe && !d.jfif && c0.id == 'R' && c1.id == 'G' && c2.id == 'B' {
		return nil
	}
	if c1.h != 1 || c1.v != 1 || c2.h != 1 || c2.v != 1 {
		return nil
	}
	ratio, ok := map[[2]int]image.YCbCrSubsampleRatio{
		{1, 1}: image.YCbCrSubsampleRatio444, {2, 1}: image.YCbCrSubsampleRatio422,
		{2, 2}: image.YCbCrSubsampleRatio420, {1, 2}: image.YCbCrSubsampleRatio440,
		{4, 1}: image.YCbCrSubsampleRatio411, {4, 2}: image.YCbCrSubsampleRatio410,
	}[[2]int{c0.h, c0.v}]
	if !ok {
		return nil
	}
	return &image.YCbCr{Y: planes[0], Cb: planes[1], Cr: planes[2], YStride: c0.bw * 8, CStride: c1.bw * 8,
		SubsampleRatio: ratio, Rect: image.Rect(0, 0, d.width, d.height)}
}
