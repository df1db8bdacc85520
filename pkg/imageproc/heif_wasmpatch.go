package imageproc

import (
	"bytes"
	"encoding/binary"
)

// The WebAssembly build of libheif in gen2brain/heic does not hand out
// the planes libde265 decodes, which heifPlanesPatch mends in two places:
//
//   - Its exported decode function sets heif_decoding_options'
//     convert_hdr_to_8bit, so 10- and 12-bit HEICs come out as 8-bit
//     planes (>>2) whose colour conversion loses two bits heif-convert
//     keeps. The flag is set by one instruction sequence,
//     local.get $options; i32.const 1; i32.store8 offset=20 (the field's
//     place in libheif 1.18's struct on wasm32), whose constant becomes 0.
//
//   - The build deletes libheif's "convert YCbCr to RGB" step from
//     decode_image_planar but leaves its target chroma at 4:4:4, so every
//     4:2:0 image is upsampled (bilinear) and then averaged back to 4:2:0:
//     chroma planes off by up to 26 levels from libde265's. The test that
//     skips the conversion when chroma and colour space both match,
//     i32.load offset=36 (img chroma); i32.eq; local.get; local.get;
//     i32.eq; i32.and; br_if 0, becomes i32.or: colour space alone
//     decides, and decode_image_user still converts whatever the caller
//     asked for.
//
// Each sequence must occur exactly once (the first in decode's body, the
// second in the whole code section), else the module is left as it is:
// planes then stay 8-bit and round-tripped, and the tests say so.
var (
	heifSetHDRTo8Bit  = []byte{0x41, 0x01, 0x3a, 0x00, 0x14}
	heifKeepHDRPlanes = []byte{0x41, 0x00, 0x3a, 0x00, 0x14}
)

// heifPlanesPatch returns the patched module and whether it applied.
func heifPlanesPatch(code []byte) ([]byte, bool) {
	m, ok := parseWasm(code)
	if !ok {
		return code, false
	}
	body, ok := m.body(m.exports["decode"])
	if !ok || bytes.Count(code[body[0]:body[1]], heifSetHDRTo8Bit) != 1 {
		return code, false
	}
	hdr := body[0] + bytes.Index(code[body[0]:body[1]], heifSetHDRTo8Bit)
	// i32.load 2 36; i32.eq; local.get _; local.get _; i32.eq; i32.and; br_if 0
	chroma := -1
	for i := m.code[0]; i+12 <= m.code[1]; i++ {
		c := code[i : i+12]
		if c[0] == 0x28 && c[1] == 0x02 && c[2] == 0x24 && c[3] == 0x46 && c[4] == 0x20 && c[6] == 0x20 &&
			c[8] == 0x46 && c[9] == 0x71 && c[10] == 0x0d && c[11] == 0x00 {
			if chroma >= 0 {
				return code, false
			}
			chroma = i + 9
		}
	}
	if chroma < 0 {
		return code, false
	}
	out := bytes.Clone(code)
	copy(out[hdr:], heifKeepHDRPlanes)
	out[chroma] = 0x72 // i32.or
	return out, true
}

// wasmModule is the part of a WebAssembly binary's layout the patches
// need: where the code section is, each function body's [start, end), and
// the function index space (imported functions come first).
type wasmModule struct {
	imported int
	exports  map[string]int // function exports
	codeAt   int            // the code section's id byte
	code     [2]int         // the code section's payload
	entries  []int          // where each function's entry (size, body) starts
	bodies   [][2]int
}

func parseWasm(code []byte) (*wasmModule, bool) {
	if len(code) < 8 || string(code[:4]) != "\x00asm" {
		return nil, false
	}
	m := &wasmModule{exports: map[string]int{}}
	for p := 8; p < len(code); {
		id := code[p]
		size, n := binary.Uvarint(code[p+1:])
		if n <= 0 || uint64(len(code)-p-1-n) < size {
			return nil, false
		}
		start := p + 1 + n
		sec := code[start : start+int(size)]
		p = start + int(size)
		switch id {
		case 2: // imports: functions among them come first in the index space
			cnt, q, ok := wasmU32(sec, 0)
			for i := uint32(0); ok && i < cnt; i++ {
				for k := 0; k < 2 && ok; k++ { // module and field names
					var l uint32
					if l, q, ok = wasmU32(sec, q); ok {
						q += int(l)
					}
				}
				if !ok || q >= len(sec) {
					return nil, false
				}
				kind := sec[q]
				q++
				switch kind {
				case 0: // function: type index
					m.imported++
					_, q, ok = wasmU32(sec, q)
				case 1: // table: reftype, limits
					q, ok = wasmLimits(sec, q+1)
				case 2: // memory: limits
					q, ok = wasmLimits(sec, q)
				case 3: // global: valtype, mutability
					q += 2
				default:
					return nil, false
				}
			}
			if !ok {
				return nil, false
			}
		case 7: // exports
			cnt, q, ok := wasmU32(sec, 0)
			for i := uint32(0); ok && i < cnt; i++ {
				var l, idx uint32
				if l, q, ok = wasmU32(sec, q); !ok || q+int(l)+1 > len(sec) {
					return nil, false
				}
				field, kind := string(sec[q:q+int(l)]), sec[q+int(l)]
				if idx, q, ok = wasmU32(sec, q+int(l)+1); ok && kind == 0 {
					m.exports[field] = int(idx)
				}
			}
			if !ok {
				return nil, false
			}
		case 10: // code
			m.codeAt, m.code = start-1-n, [2]int{start, p}
			cnt, q, ok := wasmU32(sec, 0)
			for i := 0; ok && i < int(cnt); i++ {
				var l uint32
				m.entries = append(m.entries, start+q)
				if l, q, ok = wasmU32(sec, q); !ok || q+int(l) > len(sec) {
					return nil, false
				}
				m.bodies = append(m.bodies, [2]int{start + q, start + q + int(l)})
				q += int(l)
			}
			if !ok {
				return nil, false
			}
		}
	}
	return m, m.code[1] > 0
}

// body is the [start, end) of function fn's body, if it is defined here.
func (m *wasmModule) body(fn int) ([2]int, bool) {
	if fn < m.imported || fn-m.imported >= len(m.bodies) {
		return [2]int{}, false
	}
	return m.bodies[fn-m.imported], true
}

// wasmExportedFuncBody finds the [start, end) byte range, in a WebAssembly
// binary, of the code of the function exported under name.
func wasmExportedFuncBody(code []byte, name string) ([2]int, bool) {
	m, ok := parseWasm(code)
	if !ok {
		return [2]int{}, false
	}
	fn, ok := m.exports[name]
	if !ok {
		return [2]int{}, false
	}
	return m.body(fn)
}

func wasmU32(b []byte, p int) (uint32, int, bool) {
	if p >= len(b) {
		return 0, p, false
	}
	v, n := binary.Uvarint(b[p:])
	if n <= 0 || v > 1<<32-1 {
		return 0, p, false
	}
	return uint32(v), p + n, true
}

func wasmLimits(b []byte, p int) (int, bool) {
	if p >= len(b) {
		return p, false
	}
	flags := b[p]
	_, p, ok := wasmU32(b, p+1)
	if ok && flags&1 != 0 {
		_, p, ok = wasmU32(b, p)
	}
	return p, ok
}

// replaceBody returns code with function fn's body (locals and
// instructions, without the size) replaced, the sizes around it redone.
func (m *wasmModule) replaceBody(code []byte, fn int, body []byte) []byte {
	i := fn - m.imported
	var payload []byte
	payload = append(payload, code[m.code[0]:m.entries[i]]...)
	payload = binary.AppendUvarint(payload, uint64(len(body)))
	payload = append(payload, body...)
	payload = append(payload, code[m.bodies[i][1]:m.code[1]]...)
	out := append([]byte(nil), code[:m.codeAt]...)
	out = append(out, 10)
	out = binary.AppendUvarint(out, uint64(len(payload)))
	out = append(out, payload...)
	return append(out, code[m.code[1]:]...)
}

// The WebAssembly build of libavif in gen2brain/avif converts to RGB
// itself (libyuv, or its own code with bilinear chroma upsampling), which
// differs from libheif's conversion that heif-convert applies. Its decode
// function calls avifImageYUVToRGB(decoder->image, &rgb) into an RGBA
// buffer of width*height*4 samples and copies that buffer out, so
// avifPlanesPatch replaces avifImageYUVToRGB's body with a copy of the
// image's planes into that buffer: Y, then Cb and Cr, rows packed, at the
// image's depth (two bytes a sample above 8 bits), and in the buffer's
// last 8 bytes, when the planes leave room, a trailer avifTrailer reads.
// The call is found in decode by its argument pattern (load of the image
// at offset 44 of the decoder, the rgb struct's address, call); memcpy by
// its call that copies the buffer out (load of rgb.pixels, size, call,
// drop). Anything unexpected leaves the module unpatched.
func avifPlanesPatch(code []byte) ([]byte, bool) {
	m, ok := parseWasm(code)
	if !ok {
		return code, false
	}
	dec, ok := m.body(m.exports["decode"])
	if !ok {
		return code, false
	}
	d := code[dec[0]:dec[1]]
	calls := func(prefix []byte, drop bool) map[uint32]int {
		found := map[uint32]int{}
		for i := 0; i+len(prefix)+4 <= len(d); i++ {
			if !bytes.Equal(d[i:i+len(prefix)], prefix) || d[i+len(prefix)+1] != 0x10 {
				continue
			}
			fn, q, ok := wasmU32(d, i+len(prefix)+2)
			if ok && (!drop || (q < len(d) && d[q] == 0x1a)) {
				found[fn]++
			}
		}
		return found
	}
	// local.get $decoder; i32.load offset=44 (->image); local.get $rgb; call
	toRGB := calls([]byte{0x28, 0x02, 0x2c, 0x20}, false)
	// i32.load offset=56 (rgb.pixels); local.get $size; call; drop
	copies := calls([]byte{0x28, 0x02, 0x38, 0x20}, true)
	if len(toRGB) != 1 || len(copies) != 1 {
		return code, false
	}
	var fn, memcpy uint32
	for f, n := range toRGB {
		fn = f
		if n != 2 { // the decode loop's two copies
			return code, false
		}
	}
	for f := range copies {
		memcpy = f
	}
	if _, ok := m.body(int(fn)); !ok {
		return code, false
	}
	return m.replaceBody(code, int(fn), avifPlanesCopy(memcpy)), true
}

// avifPlanesCopy is the WebAssembly body of the replacement for
// avifImageYUVToRGB(const avifImage *image, avifRGBImage *rgb), laid out
// for libavif 1.1 on wasm32: avifImage width 0, height 4, depth 8,
// yuvFormat 12, yuvRange 16, yuvPlanes 24, yuvRowBytes 36, colorPrimaries
// 76, matrixCoefficients 80; avifRGBImage height 4, pixels 44, rowBytes 48.
func avifPlanesCopy(memcpy uint32) []byte {
	const (
		image, rgb                 = 0, 1 // parameters
		bps, w, h, format, dst, k  = 2, 3, 4, 5, 6, 7
		rows, rowLen, src, stride  = 8, 9, 10, 11
		end, blockVoid, loopVoid   = 0x0b, 0x02, 0x03
		ifVoid, elseOp, brIf, br   = 0x04, 0x05, 0x0d, 0x0c
		add, sub, mul, shl, shrU   = 0x6a, 0x6b, 0x6c, 0x74, 0x76
		and, eq, eqz, gtU, leU     = 0x71, 0x46, 0x45, 0x4b, 0x4d
		selectOp, drop, call, void = 0x1b, 0x1a, 0x10, 0x40
	)
	b := []byte{1, 10, 0x7f} // locals 2..11: i32
	op := func(x ...byte) { b = append(b, x...) }
	get := func(l byte) { op(0x20, l) }
	set := func(l byte) { op(0x21, l) }
	i32 := func(v int64) { op(0x41); b = appendSLEB(b, v) }
	load := func(base byte, off uint64) { get(base); op(0x28, 2); b = binary.AppendUvarint(b, off) }
	load16 := func(base byte, off uint64) { get(base); op(0x2f, 1); b = binary.AppendUvarint(b, off) }

	load(image, 8)
	i32(8)
	op(gtU)
	i32(1)
	op(add)
	set(bps) // 2 bytes a sample above 8 bits
	load(image, 0)
	set(w)
	load(image, 4)
	set(h)
	load(image, 12)
	set(format)
	load(rgb, 44)
	set(dst)
	i32(0)
	set(k)
	op(blockVoid, void, loopVoid, void) // for each plane k
	get(k)
	i32(3)
	op(eq, brIf, 1)
	get(k)
	i32(1)
	op(eq)
	get(format)
	i32(4) // AVIF_PIXEL_FORMAT_YUV400: no chroma planes
	op(eq, and, brIf, 1)
	get(k)
	op(eqz, ifVoid, void)
	get(w)
	set(rowLen)
	get(h)
	set(rows)
	op(elseOp)
	get(w) // chroma width: w for 4:4:4 (format 1), else (w+1)/2
	get(w)
	i32(1)
	op(add)
	i32(1)
	op(shrU)
	get(format)
	i32(1)
	op(eq, selectOp)
	set(rowLen)
	get(h) // chroma height: (h+1)/2 for 4:2:0 (format 3), else h
	i32(1)
	op(add)
	i32(1)
	op(shrU)
	get(h)
	get(format)
	i32(3)
	op(eq, selectOp)
	set(rows)
	op(end)
	get(rowLen)
	get(bps)
	op(mul)
	set(rowLen)
	get(image)
	get(k)
	i32(2)
	op(shl, add)
	set(stride)
	load(stride, 24)
	set(src)
	load(stride, 36)
	set(stride)
	op(blockVoid, void, loopVoid, void) // for each row
	get(rows)
	op(eqz, brIf, 1)
	get(dst)
	get(src)
	get(rowLen)
	op(call)
	b = binary.AppendUvarint(b, uint64(memcpy))
	op(drop)
	get(dst)
	get(rowLen)
	op(add)
	set(dst)
	get(src)
	get(stride)
	op(add)
	set(src)
	get(rows)
	i32(1)
	op(sub)
	set(rows)
	op(br, 0, end, end)
	get(k)
	i32(1)
	op(add)
	set(k)
	op(br, 0, end, end)
	// trailer, if the planes left 8 bytes: rows = buffer size, src = its last 8 bytes
	load(rgb, 48)
	load(rgb, 4)
	op(mul)
	set(rows)
	get(dst)
	load(rgb, 44)
	op(sub)
	i32(8)
	op(add)
	get(rows)
	op(leU, ifVoid, void)
	load(rgb, 44)
	get(rows)
	op(add)
	i32(8)
	op(sub)
	set(src)
	store8 := func(off byte) { op(0x3a, 0, off) }
	get(src)
	i32('Y')
	store8(0)
	get(src)
	get(format)
	store8(1)
	get(src)
	load(image, 16) // yuvRange
	store8(2)
	get(src)
	load(image, 8) // depth
	store8(3)
	get(src)
	load16(image, 76) // colorPrimaries
	op(0x3b, 1, 4)
	get(src)
	load16(image, 80) // matrixCoefficients
	op(0x3b, 1, 6)
	op(end)
	i32(0) // AVIF_RESULT_OK
	op(end)
	return b
}

func appendSLEB(b []byte, v int64) []byte {
	for {
		c := byte(v & 0x7f)
		v >>= 7
		if (v == 0 && c&0x40 == 0) || (v == -1 && c&0x40 != 0) {
			return append(b, c)
		}
		b = append(b, c|0x80)
	}
}
