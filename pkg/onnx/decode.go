package onnx

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"path/filepath"
	"strconv"
	"strings"

	"google.golang.org/protobuf/encoding/protowire"
)

// Error is a decoding error: the file, where in the model, and what is wrong.
type Error struct {
	File  string // model or tensor file; "" when decoding bytes
	Where string // e.g. `graph "main" / node[3] "Conv_0" / attribute "pads"`
	Err   error
}

func (e *Error) Error() string {
	file := e.File
	if file == "" {
		file = "<bytes>"
	}
	if e.Where == "" {
		return fmt.Sprintf("onnx: %s: %v", file, e.Err)
	}
	return fmt.Sprintf("onnx: %s: %s: %v", file, e.Where, e.Err)
}

func (e *Error) Unwrap() error { return e.Err }

// loc is a lazily formatted position in the message tree, so that the
// common (error-free) path builds no strings.
type loc struct {
	parent *loc
	what   string
	index  int // -1 when not a list element
	name   string
}

func (l *loc) child(what string, index int, name string) *loc {
	return &loc{parent: l, what: what, index: index, name: name}
}

func (l *loc) String() string {
	var parts []string
	for p := l; p != nil; p = p.parent {
		s := p.what
		if p.index >= 0 {
			s += "[" + strconv.Itoa(p.index) + "]"
		}
		if p.name != "" {
			s += " " + strconv.Quote(p.name)
		}
		parts = append(parts, s)
	}
	for i, j := 0, len(parts)-1; i < j; i, j = i+1, j-1 {
		parts[i], parts[j] = parts[j], parts[i]
	}
	return strings.Join(parts, " / ")
}

// maxNesting bounds graph-in-attribute recursion so hostile input cannot
// exhaust the stack.
const maxNesting = 64

// maxDenseBytes bounds what a sparse tensor may expand to.
const maxDenseBytes = 1 << 28

type decoder struct {
	file string // for messages
	dir  string // directory external data is relative to; "" forbids external data
	ext  *externalFiles
}

func (d *decoder) errf(at *loc, format string, a ...any) error {
	where := ""
	if at != nil {
		where = at.String()
	}
	return &Error{File: d.file, Where: where, Err: fmt.Errorf(format, a...)}
}

// field is one decoded protobuf field: v holds length-delimited payloads,
// x holds varint and fixed-width values.
type field struct {
	num protowire.Number
	typ protowire.Type
	v   []byte
	x   uint64
}

// each calls fn for every field of the message b.
func (d *decoder) each(b []byte, at *loc, fn func(f field) error) error {
	for len(b) > 0 {
		num, typ, n := protowire.ConsumeTag(b)
		if n < 0 {
			return d.errf(at, "malformed protobuf tag: %v (truncated or not an ONNX file?)", protowire.ParseError(n))
		}
		b = b[n:]
		f := field{num: num, typ: typ}
		switch typ {
		case protowire.VarintType:
			f.x, n = protowire.ConsumeVarint(b)
		case protowire.Fixed32Type:
			var v uint32
			v, n = protowire.ConsumeFixed32(b)
			f.x = uint64(v)
		case protowire.Fixed64Type:
			f.x, n = protowire.ConsumeFixed64(b)
		case protowire.BytesType:
			f.v, n = protowire.ConsumeBytes(b)
		case protowire.StartGroupType:
			n = protowire.ConsumeFieldValue(num, typ, b)
		default:
			return d.errf(at, "field %d: invalid wire type %d (not an ONNX file?)", num, typ)
		}
		if n < 0 {
			return d.errf(at, "field %d: %v (truncated file?)", num, protowire.ParseError(n))
		}
		b = b[n:]
		if typ == protowire.StartGroupType {
			continue // ONNX uses no groups; skip as an unknown field
		}
		if err := fn(f); err != nil {
			return err
		}
	}
	return nil
}

func (d *decoder) want(at *loc, f field, name string, typ protowire.Type) error {
	if f.typ != typ {
		return d.errf(at, "field %s (%d) has wire type %s, want %s (not an ONNX file?)", name, f.num, wireName(f.typ), wireName(typ))
	}
	return nil
}

func wireName(t protowire.Type) string {
	switch t {
	case protowire.VarintType:
		return "varint"
	case protowire.Fixed32Type:
		return "fixed32"
	case protowire.Fixed64Type:
		return "fixed64"
	case protowire.BytesType:
		return "bytes"
	}
	return "type " + strconv.Itoa(int(t))
}

// peekString returns the first bytes-typed field num of message b as a
// string, so error locations can carry names that appear late in a message.
func peekString(b []byte, num protowire.Number) string {
	for len(b) > 0 {
		n, typ, k := protowire.ConsumeTag(b)
		if k < 0 {
			return ""
		}
		b = b[k:]
		if n == num && typ == protowire.BytesType {
			v, k := protowire.ConsumeBytes(b)
			if k < 0 {
				return ""
			}
			return string(v)
		}
		k = protowire.ConsumeFieldValue(n, typ, b)
		if k < 0 {
			return ""
		}
		b = b[k:]
	}
	return ""
}

// varints appends the values of a repeated varint field, packed or not.
func (d *decoder) varints(at *loc, f field, name string, dst []int64) ([]int64, error) {
	switch f.typ {
	case protowire.VarintType:
		return append(dst, int64(f.x)), nil
	case protowire.BytesType:
		b := f.v
		for len(b) > 0 {
			v, n := protowire.ConsumeVarint(b)
			if n < 0 {
				return nil, d.errf(at, "packed field %s: %v", name, protowire.ParseError(n))
			}
			dst = append(dst, int64(v))
			b = b[n:]
		}
		return dst, nil
	}
	return nil, d.errf(at, "field %s (%d) has wire type %s, want varint or packed (not an ONNX file?)", name, f.num, wireName(f.typ))
}

// leBuf collects a repeated fixed-width field as little-endian bytes. A
// single packed run stays an alias of the input, so it can be
// reinterpreted in place like raw_data; anything else is copied.
type leBuf struct {
	b       []byte
	seen    bool
	aliased bool
}

// fixed adds one occurrence of a repeated fixed-width field (size 4 or 8),
// packed or not, to buf.
func (d *decoder) fixed(at *loc, f field, name string, size int, buf *leBuf) error {
	want := protowire.Fixed32Type
	if size == 8 {
		want = protowire.Fixed64Type
	}
	if f.typ != want && f.typ != protowire.BytesType {
		return d.errf(at, "field %s (%d) has wire type %s, want %s or packed (not an ONNX file?)", name, f.num, wireName(f.typ), wireName(want))
	}
	if f.typ == protowire.BytesType && len(f.v)%size != 0 {
		return d.errf(at, "packed field %s: %d bytes is not a multiple of %d", name, len(f.v), size)
	}
	if f.typ == protowire.BytesType && !buf.seen {
		buf.b, buf.seen, buf.aliased = f.v, true, true
		return nil
	}
	if buf.aliased {
		// Never append into the input: it may be a read-only mapping.
		buf.b, buf.aliased = append([]byte(nil), buf.b...), false
	}
	buf.seen = true
	switch {
	case f.typ == protowire.BytesType:
		buf.b = append(buf.b, f.v...)
	case size == 4:
		buf.b = protowire.AppendFixed32(buf.b, uint32(f.x))
	default:
		buf.b = protowire.AppendFixed64(buf.b, f.x)
	}
	return nil
}

// decodeModel decodes a ModelProto.
func (d *decoder) decodeModel(b []byte) (*Model, error) {
	m := &Model{Path: d.file}
	var graphBytes []byte
	haveGraph := false
	err := d.each(b, nil, func(f field) error {
		switch f.num {
		case 1:
			if err := d.want(nil, f, "ir_version", protowire.VarintType); err != nil {
				return err
			}
			m.IRVersion = int64(f.x)
		case 2:
			if err := d.want(nil, f, "producer_name", protowire.BytesType); err != nil {
				return err
			}
			m.ProducerName = string(f.v)
		case 3:
			if err := d.want(nil, f, "producer_version", protowire.BytesType); err != nil {
				return err
			}
			m.ProducerVersion = string(f.v)
		case 4:
			if err := d.want(nil, f, "domain", protowire.BytesType); err != nil {
				return err
			}
			m.Domain = string(f.v)
		case 5:
			if err := d.want(nil, f, "model_version", protowire.VarintType); err != nil {
				return err
			}
			m.ModelVersion = int64(f.x)
		case 6:
			if err := d.want(nil, f, "doc_string", protowire.BytesType); err != nil {
				return err
			}
			m.DocString = string(f.v)
		case 7:
			if err := d.want(nil, f, "graph", protowire.BytesType); err != nil {
				return err
			}
			graphBytes, haveGraph = f.v, true
		case 8:
			if err := d.want(nil, f, "opset_import", protowire.BytesType); err != nil {
				return err
			}
			at := (*loc)(nil).child("opset_import", len(m.OpsetImports), "")
			var o OpsetImport
			err := d.each(f.v, at, func(g field) error {
				switch g.num {
				case 1:
					if err := d.want(at, g, "domain", protowire.BytesType); err != nil {
						return err
					}
					o.Domain = string(g.v)
				case 2:
					if err := d.want(at, g, "version", protowire.VarintType); err != nil {
						return err
					}
					o.Version = int64(g.x)
				}
				return nil
			})
			if err != nil {
				return err
			}
			m.OpsetImports = append(m.OpsetImports, o)
		case 14:
			if err := d.want(nil, f, "metadata_props", protowire.BytesType); err != nil {
				return err
			}
			k, v, err := d.stringPair((*loc)(nil).child("metadata_props", len(m.MetadataProps), ""), f.v)
			if err != nil {
				return err
			}
			if m.MetadataProps == nil {
				m.MetadataProps = map[string]string{}
			}
			m.MetadataProps[k] = v
		case 25:
			if err := d.want(nil, f, "functions", protowire.BytesType); err != nil {
				return err
			}
			// FunctionProto: name=1, domain=10.
			m.Functions = append(m.Functions, peekString(f.v, 10)+":"+peekString(f.v, 1))
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	if !haveGraph {
		if m.IRVersion == 0 && len(m.OpsetImports) == 0 {
			return nil, d.errf(nil, "not an ONNX model (no ir_version, opset_import or graph)")
		}
		return nil, d.errf(nil, "model has no graph")
	}
	if m.IRVersion <= 0 {
		return nil, d.errf(nil, "model has no ir_version (not an ONNX model, or truncated?)")
	}
	if m.IRVersion >= 3 && len(m.OpsetImports) == 0 {
		// Required since IR version 3; exporters write it after the graph,
		// so its absence usually means the file was cut short.
		return nil, d.errf(nil, "model has no opset_import (truncated file?)")
	}
	at := (*loc)(nil).child("graph", -1, peekString(graphBytes, 2))
	m.Graph, err = d.decodeGraph(graphBytes, at, 0)
	if err != nil {
		return nil, err
	}
	return m, nil
}

// stringPair decodes a StringStringEntryProto.
func (d *decoder) stringPair(at *loc, b []byte) (key, value string, err error) {
	err = d.each(b, at, func(f field) error {
		switch f.num {
		case 1:
			if err := d.want(at, f, "key", protowire.BytesType); err != nil {
				return err
			}
			key = string(f.v)
		case 2:
			if err := d.want(at, f, "value", protowire.BytesType); err != nil {
				return err
			}
			value = string(f.v)
		}
		return nil
	})
	return key, value, err
}

func (d *decoder) decodeGraph(b []byte, at *loc, depth int) (*Graph, error) {
	if depth > maxNesting {
		return nil, d.errf(at, "subgraphs nested more than %d deep", maxNesting)
	}
	g := &Graph{}
	err := d.each(b, at, func(f field) error {
		switch f.num {
		case 1:
			if err := d.want(at, f, "node", protowire.BytesType); err != nil {
				return err
			}
			n, err := d.decodeNode(f.v, at.child("node", len(g.Nodes), peekString(f.v, 3)), depth)
			if err != nil {
				return err
			}
			g.Nodes = append(g.Nodes, n)
		case 2:
			if err := d.want(at, f, "name", protowire.BytesType); err != nil {
				return err
			}
			g.Name = string(f.v)
		case 5:
			if err := d.want(at, f, "initializer", protowire.BytesType); err != nil {
				return err
			}
			t, err := d.decodeTensor(f.v, at.child("initializer", len(g.Initializers), peekString(f.v, 8)))
			if err != nil {
				return err
			}
			g.Initializers = append(g.Initializers, t)
		case 10:
			if err := d.want(at, f, "doc_string", protowire.BytesType); err != nil {
				return err
			}
			g.DocString = string(f.v)
		case 11, 12, 13:
			names := map[protowire.Number]string{11: "input", 12: "output", 13: "value_info"}
			if err := d.want(at, f, names[f.num], protowire.BytesType); err != nil {
				return err
			}
			list := &g.Inputs
			if f.num == 12 {
				list = &g.Outputs
			} else if f.num == 13 {
				list = &g.ValueInfo
			}
			vi, err := d.decodeValueInfo(f.v, at.child(names[f.num], len(*list), peekString(f.v, 1)))
			if err != nil {
				return err
			}
			*list = append(*list, vi)
		case 15:
			if err := d.want(at, f, "sparse_initializer", protowire.BytesType); err != nil {
				return err
			}
			t, err := d.decodeSparse(f.v, at.child("sparse_initializer", -1, ""))
			if err != nil {
				return err
			}
			g.Initializers = append(g.Initializers, t)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	if err := d.checkGraph(g, at); err != nil {
		return nil, err
	}
	return g, nil
}

// checkGraph enforces single assignment: every value is produced once,
// by a node, a graph input or an initializer. A graph input that shares
// its name with an initializer is allowed (the initializer is its
// default). Cycles and dangling inputs are left to pkg/graph, which orders
// the nodes anyway.
func (d *decoder) checkGraph(g *Graph, at *loc) error {
	inits := make(map[string]bool, len(g.Initializers))
	for i, t := range g.Initializers {
		if t.Name == "" {
			return d.errf(at.child("initializer", i, ""), "initializer has no name")
		}
		if inits[t.Name] {
			return d.errf(at.child("initializer", i, t.Name), "initializer name used twice")
		}
		inits[t.Name] = true
	}
	inputs := make(map[string]bool, len(g.Inputs))
	for _, vi := range g.Inputs {
		inputs[vi.Name] = true
	}
	producer := make(map[string]int, len(g.Nodes))
	for i, n := range g.Nodes {
		for _, o := range n.Outputs {
			if o == "" {
				continue
			}
			if j, ok := producer[o]; ok {
				return d.errf(at.child("node", i, n.Name), "output %q is already produced by node[%d] %q", o, j, g.Nodes[j].Name)
			}
			if inits[o] {
				return d.errf(at.child("node", i, n.Name), "output %q is also an initializer", o)
			}
			if inputs[o] {
				return d.errf(at.child("node", i, n.Name), "output %q is also a graph input", o)
			}
			producer[o] = i
		}
	}
	return nil
}

func (d *decoder) decodeNode(b []byte, at *loc, depth int) (*Node, error) {
	n := &Node{}
	err := d.each(b, at, func(f field) error {
		switch f.num {
		case 1:
			if err := d.want(at, f, "input", protowire.BytesType); err != nil {
				return err
			}
			n.Inputs = append(n.Inputs, string(f.v))
		case 2:
			if err := d.want(at, f, "output", protowire.BytesType); err != nil {
				return err
			}
			n.Outputs = append(n.Outputs, string(f.v))
		case 3:
			if err := d.want(at, f, "name", protowire.BytesType); err != nil {
				return err
			}
			n.Name = string(f.v)
		case 4:
			if err := d.want(at, f, "op_type", protowire.BytesType); err != nil {
				return err
			}
			n.OpType = string(f.v)
		case 5:
			if err := d.want(at, f, "attribute", protowire.BytesType); err != nil {
				return err
			}
			a, err := d.decodeAttribute(f.v, at.child("attribute", -1, peekString(f.v, 1)), depth)
			if err != nil {
				return err
			}
			n.Attributes = append(n.Attributes, a)
		case 6:
			if err := d.want(at, f, "doc_string", protowire.BytesType); err != nil {
				return err
			}
			n.DocString = string(f.v)
		case 7:
			if err := d.want(at, f, "domain", protowire.BytesType); err != nil {
				return err
			}
			n.Domain = string(f.v)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	if n.OpType == "" {
		return nil, d.errf(at, "node has no op_type")
	}
	return n, nil
}

func (d *decoder) decodeAttribute(b []byte, at *loc, depth int) (*Attribute, error) {
	a := &Attribute{}
	var set AttributeType // the kind of the last value field seen, for old files without type
	err := d.each(b, at, func(f field) error {
		switch f.num {
		case 1:
			if err := d.want(at, f, "name", protowire.BytesType); err != nil {
				return err
			}
			a.Name = string(f.v)
		case 2:
			if err := d.want(at, f, "f", protowire.Fixed32Type); err != nil {
				return err
			}
			a.F, set = math.Float32frombits(uint32(f.x)), AttrFloat
		case 3:
			if err := d.want(at, f, "i", protowire.VarintType); err != nil {
				return err
			}
			a.I, set = int64(f.x), AttrInt
		case 4:
			if err := d.want(at, f, "s", protowire.BytesType); err != nil {
				return err
			}
			a.S, set = f.v, AttrString
		case 5:
			if err := d.want(at, f, "t", protowire.BytesType); err != nil {
				return err
			}
			t, err := d.decodeTensor(f.v, at.child("t", -1, peekString(f.v, 8)))
			if err != nil {
				return err
			}
			a.T, set = t, AttrTensor
		case 6:
			if err := d.want(at, f, "g", protowire.BytesType); err != nil {
				return err
			}
			g, err := d.decodeGraph(f.v, at.child("g", -1, peekString(f.v, 2)), depth+1)
			if err != nil {
				return err
			}
			a.G, set = g, AttrGraph
		case 7:
			var buf leBuf
			if err := d.fixed(at, f, "floats", 4, &buf); err != nil {
				return err
			}
			for i := 0; i < len(buf.b); i += 4 {
				a.Floats = append(a.Floats, math.Float32frombits(binary.LittleEndian.Uint32(buf.b[i:])))
			}
			set = AttrFloats
		case 8:
			v, err := d.varints(at, f, "ints", a.Ints)
			if err != nil {
				return err
			}
			a.Ints, set = v, AttrInts
		case 9:
			if err := d.want(at, f, "strings", protowire.BytesType); err != nil {
				return err
			}
			a.Strings, set = append(a.Strings, f.v), AttrStrings
		case 10:
			if err := d.want(at, f, "tensors", protowire.BytesType); err != nil {
				return err
			}
			t, err := d.decodeTensor(f.v, at.child("tensors", len(a.Tensors), peekString(f.v, 8)))
			if err != nil {
				return err
			}
			a.Tensors, set = append(a.Tensors, t), AttrTensors
		case 11:
			if err := d.want(at, f, "graphs", protowire.BytesType); err != nil {
				return err
			}
			g, err := d.decodeGraph(f.v, at.child("graphs", len(a.Graphs), peekString(f.v, 2)), depth+1)
			if err != nil {
				return err
			}
			a.Graphs, set = append(a.Graphs, g), AttrGraphs
		case 13:
			if err := d.want(at, f, "doc_string", protowire.BytesType); err != nil {
				return err
			}
			a.DocString = string(f.v)
		case 14:
			if err := d.want(at, f, "tp", protowire.BytesType); err != nil {
				return err
			}
			set = AttrTypeProto
		case 15:
			if err := d.want(at, f, "type_protos", protowire.BytesType); err != nil {
				return err
			}
			set = AttrTypeProtos
		case 20:
			if err := d.want(at, f, "type", protowire.VarintType); err != nil {
				return err
			}
			a.Type = AttributeType(int32(f.x))
		case 21:
			if err := d.want(at, f, "ref_attr_name", protowire.BytesType); err != nil {
				return err
			}
			a.RefAttrName = string(f.v)
		case 22:
			if err := d.want(at, f, "sparse_tensor", protowire.BytesType); err != nil {
				return err
			}
			t, err := d.decodeSparse(f.v, at.child("sparse_tensor", -1, ""))
			if err != nil {
				return err
			}
			// A sparse attribute value is handed over densified, as T.
			a.T, set = t, AttrSparse
		case 23:
			if err := d.want(at, f, "sparse_tensors", protowire.BytesType); err != nil {
				return err
			}
			t, err := d.decodeSparse(f.v, at.child("sparse_tensors", len(a.Tensors), ""))
			if err != nil {
				return err
			}
			a.Tensors, set = append(a.Tensors, t), AttrSparses
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	if a.Name == "" {
		return nil, d.errf(at, "attribute has no name")
	}
	if a.Type == AttrUndefined {
		a.Type = set
	}
	if a.Type < AttrUndefined || a.Type > AttrTypeProtos {
		return nil, d.errf(at, "unknown attribute type %d", a.Type)
	}
	return a, nil
}

func (d *decoder) decodeValueInfo(b []byte, at *loc) (*ValueInfo, error) {
	vi := &ValueInfo{ElemType: Undefined}
	err := d.each(b, at, func(f field) error {
		switch f.num {
		case 1:
			if err := d.want(at, f, "name", protowire.BytesType); err != nil {
				return err
			}
			vi.Name = string(f.v)
		case 2:
			if err := d.want(at, f, "type", protowire.BytesType); err != nil {
				return err
			}
			return d.decodeType(f.v, at, vi)
		case 3:
			if err := d.want(at, f, "doc_string", protowire.BytesType); err != nil {
				return err
			}
			vi.DocString = string(f.v)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return vi, nil
}

// decodeType decodes a TypeProto into vi (tensor and sparse tensor types
// in full, other kinds by name only).
func (d *decoder) decodeType(b []byte, at *loc, vi *ValueInfo) error {
	return d.each(b, at, func(f field) error {
		kinds := map[protowire.Number]string{1: "tensor", 4: "sequence", 5: "map", 8: "sparse_tensor", 9: "optional"}
		kind, ok := kinds[f.num]
		if !ok {
			return nil
		}
		if err := d.want(at, f, kind+"_type", protowire.BytesType); err != nil {
			return err
		}
		vi.Kind = kind
		if kind != "tensor" && kind != "sparse_tensor" {
			return nil
		}
		return d.each(f.v, at, func(g field) error {
			switch g.num {
			case 1:
				if err := d.want(at, g, "elem_type", protowire.VarintType); err != nil {
					return err
				}
				vi.ElemType = DataType(int32(g.x))
			case 2:
				if err := d.want(at, g, "shape", protowire.BytesType); err != nil {
					return err
				}
				vi.Shape = []Dim{}
				return d.each(g.v, at, func(h field) error {
					if h.num != 1 {
						return nil
					}
					if err := d.want(at, h, "dim", protowire.BytesType); err != nil {
						return err
					}
					dim := Dim{Value: -1}
					err := d.each(h.v, at, func(k field) error {
						switch k.num {
						case 1:
							if err := d.want(at, k, "dim_value", protowire.VarintType); err != nil {
								return err
							}
							if int64(k.x) < 0 {
								return d.errf(at, "dim[%d] is negative (%d)", len(vi.Shape), int64(k.x))
							}
							dim.Value, dim.Param = int64(k.x), ""
						case 2:
							if err := d.want(at, k, "dim_param", protowire.BytesType); err != nil {
								return err
							}
							dim.Value, dim.Param = -1, string(k.v)
						}
						return nil
					})
					vi.Shape = append(vi.Shape, dim)
					return err
				})
			}
			return nil
		})
	})
}

// errNoDir is returned for external data when decoding bytes with no file.
var errNoDir = errors.New("tensor data is stored externally, which needs the model's path (use Load, not Decode)")

// resolveExternal turns an external_data location into a path inside dir,
// refusing absolute paths and paths that climb out of dir. Only the
// written location is checked, not symlinks: the Hugging Face cache links
// every file to a blob outside the snapshot directory.
func resolveExternal(dir, location string) (string, error) {
	if location == "" {
		return "", errors.New("external data has no location")
	}
	if strings.ContainsRune(location, 0) {
		return "", fmt.Errorf("external data location %q contains NUL", location)
	}
	p := filepath.FromSlash(location)
	if filepath.IsAbs(p) || strings.HasPrefix(location, "/") || filepath.VolumeName(p) != "" {
		return "", fmt.Errorf("external data location %q is absolute; it must be relative to the model's directory", location)
	}
	clean := filepath.Clean(p)
	if clean == ".." || strings.HasPrefix(clean, ".."+string(filepath.Separator)) {
		return "", fmt.Errorf("external data location %q escapes the model's directory", location)
	}
	return filepath.Join(dir, clean), nil
}
