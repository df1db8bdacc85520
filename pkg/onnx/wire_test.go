package onnx

import (
	"math"
	"strings"
	"testing"

	"google.golang.org/protobuf/encoding/protowire"
)

// Encodings that Python's protobuf never writes but other writers may:
// unpacked repeated scalars, packed runs split in several fields, packed
// dims, attributes without a type field (IR version 1 files). The expected
// values are the ones encoded.

func tag(b []byte, num protowire.Number, typ protowire.Type) []byte {
	return protowire.AppendTag(b, num, typ)
}

func bytesField(b []byte, num protowire.Number, v []byte) []byte {
	return protowire.AppendBytes(tag(b, num, protowire.BytesType), v)
}

func varintField(b []byte, num protowire.Number, v uint64) []byte {
	return protowire.AppendVarint(tag(b, num, protowire.VarintType), v)
}

// modelWith wraps initializer messages and node messages in a model.
func modelWith(inits [][]byte, nodes [][]byte) []byte {
	var g []byte
	for _, n := range nodes {
		g = bytesField(g, 1, n)
	}
	g = bytesField(g, 2, []byte("g"))
	for _, t := range inits {
		g = bytesField(g, 5, t)
	}
	m := varintField(nil, 1, 8)
	m = bytesField(m, 8, varintField(nil, 2, 13))
	return bytesField(m, 7, g)
}

func TestUnusualEncodings(t *testing.T) {
	// float_data: one unpacked value, then a packed run, then another unpacked value.
	var f []byte
	f = bytesField(f, 8, []byte("mixed_floats"))
	f = varintField(f, 2, uint64(Float))
	f = bytesField(f, 1, protowire.AppendVarint(protowire.AppendVarint(nil, 2), 2)) // packed dims [2 2]
	f = protowire.AppendFixed32(tag(f, 4, protowire.Fixed32Type), math.Float32bits(1.5))
	run := protowire.AppendFixed32(protowire.AppendFixed32(nil, math.Float32bits(-2)), math.Float32bits(3))
	f = bytesField(f, 4, run)
	f = protowire.AppendFixed32(tag(f, 4, protowire.Fixed32Type), math.Float32bits(4.25))

	// int32_data unpacked with a negative value (10-byte varint), for int16.
	var i16 []byte
	i16 = bytesField(i16, 8, []byte("i16"))
	i16 = varintField(i16, 2, uint64(Int16))
	i16 = varintField(i16, 1, 3)
	for _, v := range []int64{-32768, -1, 32767} {
		i16 = varintField(i16, 5, uint64(v))
	}

	// double_data packed in two runs.
	var d []byte
	d = bytesField(d, 8, []byte("dbl"))
	d = varintField(d, 2, uint64(Double))
	d = varintField(d, 1, 2)
	d = bytesField(d, 10, protowire.AppendFixed64(nil, math.Float64bits(math.Pi)))
	d = bytesField(d, 10, protowire.AppendFixed64(nil, math.Float64bits(-math.E)))

	// uint64_data for uint32.
	var u []byte
	u = bytesField(u, 8, []byte("u32"))
	u = varintField(u, 2, uint64(Uint32))
	u = varintField(u, 1, 2)
	u = bytesField(u, 11, protowire.AppendVarint(protowire.AppendVarint(nil, 0), math.MaxUint32))

	// A node whose attributes lack the type field, ints unpacked.
	var a1, a2, a3 []byte
	a1 = bytesField(a1, 1, []byte("axis"))
	a1 = varintField(a1, 3, uint64(1<<64-1)) // -1
	a2 = bytesField(a2, 1, []byte("perm"))
	a2 = varintField(varintField(varintField(a2, 8, 0), 8, 2), 8, 1)
	a3 = bytesField(a3, 1, []byte("alpha"))
	a3 = protowire.AppendFixed32(tag(a3, 2, protowire.Fixed32Type), math.Float32bits(0.5))
	var n []byte
	n = bytesField(n, 1, []byte("mixed_floats"))
	n = bytesField(n, 2, []byte("out"))
	n = bytesField(n, 4, []byte("Transpose"))
	for _, a := range [][]byte{a1, a2, a3} {
		n = bytesField(n, 5, a)
	}
	// An unknown field (99) and a group must be skipped.
	n = bytesField(n, 99, []byte("future"))
	n = tag(varintField(tag(n, 98, protowire.StartGroupType), 1, 7), 98, protowire.EndGroupType)

	m, err := Decode(modelWith([][]byte{f, i16, d, u}, [][]byte{n}))
	if err != nil {
		t.Fatal(err)
	}
	g := m.Graph
	if got := g.Initializer("mixed_floats"); got == nil || !equalInts(got.Dims, []int64{2, 2}) ||
		len(got.Float32) != 4 || got.Float32[0] != 1.5 || got.Float32[1] != -2 || got.Float32[2] != 3 || got.Float32[3] != 4.25 {
		t.Errorf("mixed_floats = %+v", got)
	}
	if got := g.Initializer("i16"); got == nil || len(got.Int16) != 3 || got.Int16[0] != -32768 || got.Int16[1] != -1 || got.Int16[2] != 32767 {
		t.Errorf("i16 = %+v", got)
	}
	if got := g.Initializer("dbl"); got == nil || len(got.Float64) != 2 || got.Float64[0] != math.Pi || got.Float64[1] != -math.E {
		t.Errorf("dbl = %+v", got)
	}
	if got := g.Initializer("u32"); got == nil || len(got.Uint32) != 2 || got.Uint32[1] != math.MaxUint32 {
		t.Errorf("u32 = %+v", got)
	}
	node := g.Nodes[0]
	if a := node.Attr("axis"); a == nil || a.Type != AttrInt || a.I != -1 {
		t.Errorf("axis = %+v", a)
	}
	if a := node.Attr("perm"); a == nil || a.Type != AttrInts || !equalInts(a.Ints, []int64{0, 2, 1}) {
		t.Errorf("perm = %+v", a)
	}
	if a := node.Attr("alpha"); a == nil || a.Type != AttrFloat || a.F != 0.5 {
		t.Errorf("alpha = %+v", a)
	}
}

func TestDeepNestingRefused(t *testing.T) {
	// A graph attribute inside a graph attribute ... 100 deep.
	g := bytesField(nil, 2, []byte("leaf"))
	for i := 0; i < 100; i++ {
		var a []byte
		a = bytesField(a, 1, []byte("body"))
		a = bytesField(a, 6, g)
		var n []byte
		n = bytesField(n, 4, []byte("Loop"))
		n = bytesField(n, 5, a)
		g = bytesField(nil, 1, n)
	}
	_, err := Decode(bytesField(bytesField(varintField(nil, 1, 8), 8, varintField(nil, 2, 13)), 7, g))
	if err == nil || !strings.Contains(err.Error(), "nested more than") {
		t.Errorf("err = %v, want a nesting refusal", err)
	}
}
