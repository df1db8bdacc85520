package onnx

import (
	"encoding/binary"
	"math"
	"path/filepath"
	"testing"
	"unsafe"
)

// leView aliases aligned (and, where the CPU allows, misaligned) bytes and
// copies otherwise; either way the values are the little-endian ones.
func TestLEViewAliasesOrCopies(t *testing.T) {
	buf := make([]byte, 4*8+1)
	for i := range buf {
		buf[i] = byte(i*37 + 11)
	}
	for _, off := range []int{0, 1} {
		b := buf[off : off+32]
		for _, misalignedOK := range []bool{false, true} {
			f := leViewOpt[float32](b, misalignedOK)
			i64 := leViewOpt[int64](b, misalignedOK)
			for i := range f {
				if want := math.Float32frombits(binary.LittleEndian.Uint32(b[4*i:])); math.Float32bits(f[i]) != math.Float32bits(want) {
					t.Fatalf("off %d: float32 %d = %v, want %v", off, i, f[i], want)
				}
			}
			for i := range i64 {
				if want := int64(binary.LittleEndian.Uint64(b[8*i:])); i64[i] != want {
					t.Fatalf("off %d: int64 %d = %v, want %v", off, i, i64[i], want)
				}
			}
			aligned := uintptr(unsafe.Pointer(&b[0]))%8 == 0
			aliased := unsafe.Pointer(&i64[0]) == unsafe.Pointer(&b[0])
			if le := binary.NativeEndian.Uint16([]byte{1, 0}) == 1; le && aliased != (aligned || misalignedOK) {
				t.Errorf("off %d misalignedOK %v: aliased = %v", off, misalignedOK, aliased)
			}
		}
	}
	if v := leViewOpt[float32](nil, true); v == nil || len(v) != 0 {
		t.Errorf("empty view = %#v, want non-nil empty", v)
	}
}

// Weights of a loaded model alias the mapping: no second copy.
func TestLoadAliasesRawData(t *testing.T) {
	m, err := Load(filepath.Join("testdata", "dtypes.onnx"))
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	base := uintptr(unsafe.Pointer(&m.mappings[0].data[0]))
	end := base + uintptr(len(m.mappings[0].data))
	for _, name := range []string{"float32_raw", "after_odd_f32", "int64_raw", "float16_raw"} {
		tt := m.Graph.Initializer(name)
		var p uintptr
		switch tt.DataType {
		case Float:
			p = uintptr(unsafe.Pointer(&tt.Float32[0]))
		case Int64:
			p = uintptr(unsafe.Pointer(&tt.Int64[0]))
		case Float16:
			p = uintptr(unsafe.Pointer(&tt.Float16[0]))
		}
		inside := p >= base && p < end
		aligned := p%uintptr(tt.DataType.Size()) == 0
		if misalignedLoadsOK && !inside {
			t.Errorf("%s was copied, want it aliased in the mapping", name)
		}
		if !misalignedLoadsOK && inside && !aligned {
			t.Errorf("%s aliases misaligned bytes on a strict-alignment CPU", name)
		}
	}
}

func TestNodeAttrHelpers(t *testing.T) {
	m, err := Load(filepath.Join("testdata", "attributes.onnx"))
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	n := m.Graph.Nodes[0]
	if n.AttrInt("a_int", 0) != -7 || n.AttrInt("missing", 5) != 5 || n.AttrFloat("a_float", 0) != 0.125 ||
		n.AttrString("a_string", "") != "hello" || len(n.AttrInts("a_ints", nil)) != 4 || n.Attr("nope") != nil {
		t.Errorf("attribute helpers disagree with the fixture (a_int=-7, a_float=0.125, a_string=hello, 4 a_ints)")
	}
	// Wrong kind falls back to the default rather than reinterpreting.
	if n.AttrInt("a_float", 9) != 9 {
		t.Error("AttrInt of a float attribute did not return the default")
	}
}
