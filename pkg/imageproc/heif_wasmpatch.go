package imageproc

import (
	"bytes"
	"encoding/binary"
)

// The WebAssembly build of libheif in gen2brain/heic decodes with
// heif_decoding_options.convert_hdr_to_8bit set, so 10- and 12-bit HEICs
// come out as 8-bit planes (truncated, >>2) and their colour conversion
// loses two bits that heif-convert keeps. Its exported decode function
// sets the flag with one instruction sequence,
//
//	local.get $options; i32.const 1; i32.store8 offset=20
//
// (offset 20: the field's place in libheif 1.18's struct on wasm32).
// heifKeepHDRPatch rewrites that constant to 0 in the decode function's
// body, and only when the sequence occurs exactly once there, so that a
// different build is left as it is (planes then stay 8-bit and the
// 10-bit test fails rather than any decode going wrong).
var (
	heifSetHDRTo8Bit  = []byte{0x41, 0x01, 0x3a, 0x00, 0x14}
	heifKeepHDRPlanes = []byte{0x41, 0x00, 0x3a, 0x00, 0x14}
)

// heifKeepHDRPatch returns the patched module and whether it applied.
func heifKeepHDRPatch(code []byte) ([]byte, bool) {
	body, ok := wasmExportedFuncBody(code, "decode")
	if !ok || bytes.Count(code[body[0]:body[1]], heifSetHDRTo8Bit) != 1 {
		return code, false
	}
	out := bytes.Clone(code)
	at := body[0] + bytes.Index(code[body[0]:body[1]], heifSetHDRTo8Bit)
	copy(out[at:], heifKeepHDRPlanes)
	return out, true
}

// wasmExportedFuncBody finds the [start, end) byte range, in a WebAssembly
// binary, of the code of the function exported under name.
func wasmExportedFuncBody(code []byte, name string) ([2]int, bool) {
	var none [2]int
	if len(code) < 8 || string(code[:4]) != "\x00asm" {
		return none, false
	}
	imported, fn := 0, -1
	for p := 8; p < len(code); {
		id := code[p]
		size, n := binary.Uvarint(code[p+1:])
		if n <= 0 || uint64(len(code)-p-1-n) < size {
			return none, false
		}
		sec := code[p+1+n : p+1+n+int(size)]
		start := p + 1 + n
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
					return none, false
				}
				kind := sec[q]
				q++
				switch kind {
				case 0: // function: type index
					imported++
					_, q, ok = wasmU32(sec, q)
				case 1: // table: reftype, limits
					q++
					q, ok = wasmLimits(sec, q)
				case 2: // memory: limits
					q, ok = wasmLimits(sec, q)
				case 3: // global: valtype, mutability
					q += 2
				default:
					return none, false
				}
			}
			if !ok {
				return none, false
			}
		case 7: // exports
			cnt, q, ok := wasmU32(sec, 0)
			for i := uint32(0); ok && i < cnt; i++ {
				var l, idx uint32
				if l, q, ok = wasmU32(sec, q); !ok || q+int(l)+1 > len(sec) {
					return none, false
				}
				field, kind := string(sec[q:q+int(l)]), sec[q+int(l)]
				if idx, q, ok = wasmU32(sec, q+int(l)+1); ok && kind == 0 && field == name {
					fn = int(idx)
				}
			}
		case 10: // code
			if fn < imported {
				return none, false
			}
			cnt, q, ok := wasmU32(sec, 0)
			for i := 0; ok && i < int(cnt); i++ {
				var l uint32
				if l, q, ok = wasmU32(sec, q); !ok || q+int(l) > len(sec) {
					return none, false
				}
				if i == fn-imported {
					return [2]int{start + q, start + q + int(l)}, true
				}
				q += int(l)
			}
			return none, false
		}
	}
	return none, false
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
