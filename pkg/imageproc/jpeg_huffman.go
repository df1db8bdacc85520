package imageproc

import (
	"encoding/binary"
	"errors"
)

// zigzag[i] is the natural (row-major) index of the i-th coefficient in
// zigzag order; entries past 63 guard against corrupt run lengths, as
// libjpeg's jpeg_natural_order does (128 of them so that k&127 indexes
// without a bounds check).
var zigzag = [128]int{
	0, 1, 8, 16, 9, 2, 3, 10, 17, 24, 32, 25, 18, 11, 4, 5,
	12, 19, 26, 33, 40, 48, 41, 34, 27, 20, 13, 6, 7, 14, 21, 28,
	35, 42, 49, 56, 57, 50, 43, 36, 29, 22, 15, 23, 30, 37, 44, 51,
	58, 59, 52, 45, 38, 31, 39, 46, 53, 60, 61, 54, 47, 55, 62, 63,
	63, 63, 63, 63, 63, 63, 63, 63, 63, 63, 63, 63, 63, 63, 63, 63,
	63, 63, 63, 63, 63, 63, 63, 63, 63, 63, 63, 63, 63, 63, 63, 63,
	63, 63, 63, 63, 63, 63, 63, 63, 63, 63, 63, 63, 63, 63, 63, 63,
	63, 63, 63, 63, 63, 63, 63, 63, 63, 63, 63, 63, 63, 63, 63, 63,
}

// fastACBits is the lookahead of huffTable.fastAC.
const fastACBits = 11

// fastEOB is the run fastAC gives an end of block: more than any run
// a coefficient can have (63 + 15), so k >= fastEOB says the block ended.
const fastEOB = 100

type huffTable struct {
	lookup [512]uint16 // 9-bit lookahead: (length << 8) | value, 0 if longer
	// fastAC decodes a coefficient's code and its value bits together
	// when both fit in the fastACBits lookahead (most coefficients of a
	// photo): value << 16 | run << 8 | bits consumed; 0 otherwise (longer
	// codes, and in AC tables ZRL and progressive EOB runs, take the
	// general path). An AC table's end of block has run fastEOB, which
	// ends the block's loop before anything is stored. In DC tables the
	// value is the DC difference, size 0 included.
	fastAC [1 << fastACBits]int32
	// fast2 (AC tables) holds up to two consecutive coefficients per
	// lookahead, from fastAC (see pairAC), so that most lookups of a
	// photo's blocks yield two; 0 where fastAC is 0.
	fast2   [1 << fastACBits]uint64
	maxcode [18]int32
	valptr  [17]int32
	mincode [17]int32
	vals    []uint8
}

func buildHuff(counts [16]int, vals []uint8, dc bool) (*huffTable, error) {
	h := &huffTable{vals: vals}
	code, k := int32(0), 0
	for l := 1; l <= 16; l++ {
		h.valptr[l] = int32(k)
		h.mincode[l] = code
		n := counts[l-1]
		if n > 0 {
			for i := 0; i < n; i++ {
				if rs := vals[k]; l+int(rs&15) <= fastACBits && (rs&15 != 0 || rs == 0 || dc) {
					h.setFastAC(code, l, rs, dc)
				}
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
	if !dc {
		h.pairAC()
	}
	return h, nil
}

// fast2 entries: bits consumed by both symbols (0-4) and by the first
// (5-9), the first's run (10-16; fastEOB for an end of block), the second's
// advance from the first (17-23: run + 1, fastEOB + 1 for an end of
// block, 0 when the lookahead holds one symbol only, whose value is then
// repeated as the second's, so storing it twice changes nothing), the
// first's value (32-47) and the second's (48-63).
const (
	pairRun1Shift = 10
	pairAdv2Shift = 17
)

// pairAC fills fast2 from fastAC: each lookahead's first symbol, and a
// second one when the bits left after the first decode it whole (its
// fastAC entry with the unseen bits taken as zeros consumes no more than
// are there). Neither symbol is a ZRL or an EOB run, which fastAC leaves
// to the general path.
func (h *huffTable) pairAC() {
	const mask = 1<<fastACBits - 1
	for idx, f1 := range h.fastAC {
		if f1 == 0 {
			continue
		}
		n1, run1, v1 := uint64(f1&255), uint64(f1>>8)&127, uint64(uint16(f1>>16))
		e := n1 | n1<<5 | run1<<pairRun1Shift | v1<<32 | v1<<48
		if run1 != fastEOB && n1 < fastACBits {
			f2 := h.fastAC[(idx<<n1)&mask]
			if n2 := uint64(f2 & 255); f2 != 0 && n2 <= fastACBits-n1 {
				adv2, v2 := uint64(f2>>8)&127+1, uint64(uint16(f2>>16))
				e = (n1 + n2) | n1<<5 | run1<<pairRun1Shift | adv2<<pairAdv2Shift | v1<<32 | v2<<48
			}
		}
		h.fast2[idx] = e
	}
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

// refill is fill's fast path, small enough to inline into the block
// decoders, which keep the accumulator in locals: the next whole bytes at
// b[p:] when the next 8 hold no 0xFF (after a marker p stays on its 0xFF,
// so this never reads past one). Otherwise nothing changes and the caller
// runs fill.
func refill(b []byte, p int, acc uint64, nbits int) (uint64, int, int) {
	if p+8 <= len(b) {
		chunk := binary.BigEndian.Uint64(b[p:])
		if x := ^chunk; (x-0x0101010101010101)&^x&0x8080808080808080 == 0 {
			n := uint(64-nbits) >> 3
			return acc<<(n<<3) | chunk>>(64-n<<3), nbits + int(n<<3), p + int(n)
		}
	}
	return acc, nbits, p
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
	// lookup holds every code of up to 9 bits: this one is longer.
	for l := 10; l <= 16; l++ {
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

// setFastAC fills the fastAC entries of every lookahead starting with the
// l-bit code whose symbol is rs (run << 4 | size).
func (h *huffTable) setFastAC(code int32, l int, rs uint8, dc bool) {
	size, run := int(rs&15), int32(rs>>4)
	if rs == 0 && !dc {
		run = fastEOB
	}
	free := fastACBits - l - size // lookahead bits after the value
	base := int(code) << (fastACBits - l)
	if base+1<<(fastACBits-l) > len(h.fastAC) {
		return // an overfull (corrupt) table: buildHuff refuses it
	}
	for j := 0; j < 1<<(fastACBits-l); j++ {
		v := int32(j>>free) & (1<<size - 1)
		h.fastAC[base+j] = extend(v, size)<<16 | run<<8 | int32(l+size)
	}
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
			diff, err := d.dcDiff(d.dc[c.td])
			if err != nil {
				return err
			}
			c.dcPred += diff
			blk[0] = int16(c.dcPred << al)
			if !d.progressive {
				return d.decodeAC(c, blk, 1, 63, 0)
			}
		} else {
			b, err := d.bit()
			if err != nil {
				return err
			}
			if b {
				blk[0] |= int16(1 << al)
			}
		}
		return nil
	}
	if ah == 0 {
		return d.decodeAC(c, blk, ss, se, al)
	}
	return d.refineAC(c, blk, ss, se, al)
}

// dcDiff decodes a DC difference (code and value bits).
func (d *jpegDecoder) dcDiff(h *huffTable) (int32, error) {
	if d.nbits < 32 {
		if d.acc, d.nbits, d.pos = refill(d.b, d.pos, d.acc, d.nbits); d.nbits < 32 {
			if err := d.fill(); err != nil {
				return 0, err
			}
		}
	}
	if f := h.fastAC[(d.acc>>uint(d.nbits-fastACBits))&(1<<fastACBits-1)]; f != 0 {
		d.nbits -= int(f & 255)
		return f >> 16, nil
	}
	t, err := d.huff(h)
	if err != nil {
		return 0, err
	}
	return d.receiveExtend(int(t))
}

func (d *jpegDecoder) decodeAC(c *jcomp, blkSlice []int16, ss, se, al int) error {
	if d.eobrun > 0 {
		d.eobrun--
		return nil
	}
	blk := (*[64]int16)(blkSlice)
	h := d.ac[c.ta]
	// The bit accumulator lives in locals (registers) on the fast path and
	// goes back to d around fill and the general path. The fast path keeps
	// it left-aligned (la: the next bit is bit 63), so each coefficient's
	// lookup depends on the previous one through two shifts alone.
	// Shift counts are masked so that the compiler need not handle counts
	// of 64 and more (al <= 13, and a fast entry consumes <= fastACBits).
	acc, nbits := d.acc, d.nbits
	la := acc << uint(64-nbits)
	ual := uint(al) & 15
	for k := ss; k <= se; k++ {
		// The fast path needs fastACBits of lookahead, the general one 32
		// (a code of <= 16 bits and its value of <= 15): refill (8 bytes at
		// a time) only when the fast path runs short.
		if nbits < fastACBits {
			acc = la >> uint(64-nbits)
			if acc, nbits, d.pos = refill(d.b, d.pos, acc, nbits); nbits < fastACBits {
				d.acc, d.nbits = acc, nbits
				if err := d.fill(); err != nil {
					return err
				}
				acc, nbits = d.acc, d.nbits
			}
			la = acc << uint(64-nbits)
		}
		if f := h.fast2[la>>(64-fastACBits)]; f != 0 {
			k += int(f>>pairRun1Shift) & 127
			if k >= se {
				// An end of block (an EOB run of 1 in a progressive
				// scan), or the band's last coefficient: the first
				// symbol alone, as the next belongs to the next block.
				n := uint(f>>5) & 31
				la <<= n
				nbits -= int(n)
				if k >= fastEOB {
					break
				}
				blk[zigzag[k&127]&63] = int16(f>>32) << ual
				continue
			}
			n := uint(f) & 31
			la <<= n
			nbits -= int(n)
			blk[zigzag[k&63]&63] = int16(f>>32) << ual
			k += int(f>>pairAdv2Shift) & 127
			if k >= fastEOB {
				break
			}
			blk[zigzag[k&127]&63] = int16(f>>48) << ual
			continue
		}
		d.acc, d.nbits = la>>uint(64-nbits), nbits
		if d.nbits < 32 {
			if err := d.fill(); err != nil {
				return err
			}
		}
		end, err := false, error(nil)
		if k, end, err = d.decodeACSlow(h, blk, k, al); err != nil {
			return err
		}
		acc, nbits = d.acc, d.nbits
		la = acc << uint(64-nbits)
		if end {
			break
		}
	}
	d.acc, d.nbits = la>>uint(64-nbits), nbits
	return nil
}

// decodeACSlow decodes one coefficient (or a run, EOB) whose code and
// value do not fit the fastAC lookahead; end reports an end of block.
func (d *jpegDecoder) decodeACSlow(h *huffTable, blk *[64]int16, k, al int) (_ int, end bool, err error) {
	var rs uint8
	if e := h.lookup[(d.acc>>uint(d.nbits-9))&511]; e != 0 {
		d.nbits -= int(e >> 8)
		rs = uint8(e)
	} else if rs, err = d.huff(h); err != nil {
		return k, false, err
	}
	r, s := int(rs>>4), int(rs&15)
	if s != 0 {
		k += r
		d.nbits -= s
		v := int32(d.acc>>uint(d.nbits)) & (1<<s - 1)
		blk[zigzag[k&127]&63] = int16(extend(v, s) << al)
		return k, false, nil
	}
	if r == 15 { // ZRL: 16 zeros
		return k + 15, false, nil
	}
	if d.progressive {
		d.eobrun = 1 << r
		if r > 0 {
			e, err := d.bits(r)
			if err != nil {
				return k, false, err
			}
			d.eobrun += e
		}
		d.eobrun--
	}
	return k, true, nil
}
