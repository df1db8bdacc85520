package onnx

import (
	"encoding/binary"
	"math"
	"os"
	"path/filepath"
	"testing"
)

// float16_all.bin holds, for every half bit pattern h, the float32 bits
// numpy's astype(float32) gives.
func TestFloat16ToFloat32MatchesNumpy(t *testing.T) {
	b, err := os.ReadFile(filepath.Join("testdata", "float16_all.bin"))
	if err != nil {
		t.Fatal(err)
	}
	if len(b) != 65536*4 {
		t.Fatalf("float16_all.bin has %d bytes", len(b))
	}
	bad := 0
	for h := 0; h < 65536; h++ {
		want := math.Float32frombits(binary.LittleEndian.Uint32(b[4*h:]))
		got := Float16ToFloat32(uint16(h))
		if math.Float32bits(got) != math.Float32bits(want) {
			if bad++; bad < 10 {
				t.Errorf("Float16ToFloat32(%#04x) = %v (%#08x), numpy %v (%#08x)", h, got, math.Float32bits(got), want, math.Float32bits(want))
			}
		}
	}
}

// float16_round.bin holds (float32 bits, numpy float16 bits) pairs: random
// patterns, exact ties between neighbouring halves and their neighbours,
// subnormal and overflow boundaries.
func TestFloat32ToFloat16MatchesNumpy(t *testing.T) {
	b, err := os.ReadFile(filepath.Join("testdata", "float16_round.bin"))
	if err != nil {
		t.Fatal(err)
	}
	bad := 0
	for i := 0; i+8 <= len(b); i += 8 {
		f := math.Float32frombits(binary.LittleEndian.Uint32(b[i:]))
		want := uint16(binary.LittleEndian.Uint32(b[i+4:]))
		got := Float32ToFloat16(f)
		if f != f {
			// NaN payloads differ between implementations; NaN-ness must not.
			if got&0x7c00 != 0x7c00 || got&0x3ff == 0 {
				t.Errorf("Float32ToFloat16(NaN %#08x) = %#04x, not a NaN", math.Float32bits(f), got)
			}
			continue
		}
		if got != want {
			if bad++; bad < 10 {
				t.Errorf("Float32ToFloat16(%v = %#08x) = %#04x, numpy %#04x", f, math.Float32bits(f), got, want)
			}
		}
	}
	if len(b) < 8*1000 {
		t.Fatalf("float16_round.bin has only %d pairs", len(b)/8)
	}
}
