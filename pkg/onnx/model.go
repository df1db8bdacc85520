package onnx

import "sync"

// DataType is an ONNX TensorProto.DataType value.
type DataType int32

// The ONNX element types this package knows by name.
const (
	Undefined  DataType = 0
	Float      DataType = 1
	Uint8      DataType = 2
	Int8       DataType = 3
	Uint16     DataType = 4
	Int16      DataType = 5
	Int32      DataType = 6
	Int64      DataType = 7
	String     DataType = 8
	Bool       DataType = 9
	Float16    DataType = 10
	Double     DataType = 11
	Uint32     DataType = 12
	Uint64     DataType = 13
	Complex64  DataType = 14
	Complex128 DataType = 15
	BFloat16   DataType = 16
)

// Model is a decoded ModelProto.
type Model struct {
	IRVersion       int64
	ProducerName    string
	ProducerVersion string
	Domain          string
	ModelVersion    int64
	DocString       string
	OpsetImports    []OpsetImport
	MetadataProps   map[string]string
	Graph           *Graph

	// Path is the file the model was read from ("" when decoded from bytes).
	Path string

	// Functions names the model-local functions (ModelProto.functions) as
	// "domain:name"; they are not decoded further.
	Functions []string

	// mappings are the memory-mapped model and external-data files that
	// tensors alias; Close releases them.
	mappings  []mapping
	closeOnce sync.Once
	closeErr  error
}

// OpsetImport is one OperatorSetIdProto; Domain "" (or "ai.onnx") is the default domain.
type OpsetImport struct {
	Domain  string
	Version int64
}

// Graph is a decoded GraphProto.
type Graph struct {
	Name         string
	Nodes        []*Node
	Initializers []*Tensor
	Inputs       []*ValueInfo
	Outputs      []*ValueInfo
	ValueInfo    []*ValueInfo
	DocString    string
}

// Initializer returns the initializer named name, or nil.
func (g *Graph) Initializer(name string) *Tensor {
	for _, t := range g.Initializers {
		if t.Name == name {
			return t
		}
	}
	return nil
}

// Node is a decoded NodeProto.
type Node struct {
	Name       string
	OpType     string
	Domain     string
	Inputs     []string // "" marks an omitted optional input
	Outputs    []string
	Attributes []*Attribute
	DocString  string
}

// AttributeType is an ONNX AttributeProto.AttributeType value.
type AttributeType int32

// Attribute kinds.
const (
	AttrUndefined  AttributeType = 0
	AttrFloat      AttributeType = 1
	AttrInt        AttributeType = 2
	AttrString     AttributeType = 3
	AttrTensor     AttributeType = 4
	AttrGraph      AttributeType = 5
	AttrFloats     AttributeType = 6
	AttrInts       AttributeType = 7
	AttrStrings    AttributeType = 8
	AttrTensors    AttributeType = 9
	AttrGraphs     AttributeType = 10
	AttrSparse     AttributeType = 11
	AttrSparses    AttributeType = 12
	AttrTypeProto  AttributeType = 13
	AttrTypeProtos AttributeType = 14
)

// Attribute is a decoded AttributeProto. Only the field matching Type is meaningful.
type Attribute struct {
	Name        string
	Type        AttributeType
	F           float32
	I           int64
	S           []byte
	T           *Tensor
	G           *Graph
	Floats      []float32
	Ints        []int64
	Strings     [][]byte
	Tensors     []*Tensor
	Graphs      []*Graph
	RefAttrName string
	DocString   string
}

// Dim is one dimension of a tensor shape: a known size (Value >= 0) or a
// symbolic one (Param != "", Value == -1), or unknown (Param == "", Value == -1).
type Dim struct {
	Value int64
	Param string
}

// ValueInfo is a decoded ValueInfoProto restricted to tensor types.
type ValueInfo struct {
	Name string
	// Kind is "tensor" for tensor types, "" when the type is absent, and
	// "sparse_tensor", "sequence", "map" or "optional" otherwise (ElemType
	// and Shape are then only filled for sparse_tensor).
	Kind     string
	ElemType DataType
	// Shape is nil when the shape is unknown (no shape field); an empty,
	// non-nil slice is a scalar.
	Shape     []Dim
	DocString string
}

// Tensor is a decoded TensorProto. Exactly one of the typed slices holds the
// data, chosen by DataType: Float32 for Float; Float16 (raw bits) for Float16
// and BFloat16; Float64 for Double; Int8, Uint8, Int16, Uint16, Int32,
// Uint32, Int64, Uint64, Bool, Strings for the types of the same name.
// The slice is non-nil (possibly empty) for every supported type.
// Typed slices may alias the memory-mapped model file: callers must not
// write to them, and must not use them after Model.Close.
type Tensor struct {
	Name     string
	DataType DataType
	Dims     []int64

	Float32 []float32
	Float64 []float64
	Float16 []uint16 // IEEE half or bfloat16 bits, per DataType
	Int8    []int8
	Uint8   []uint8
	Int16   []int16
	Uint16  []uint16
	Int32   []int32
	Uint32  []uint32
	Int64   []int64
	Uint64  []uint64
	Bool    []bool
	Strings [][]byte

	// External is where the data came from when data_location was
	// EXTERNAL (nil otherwise).
	External  *ExternalData
	DocString string
}

// ExternalData describes tensor data stored outside the model file.
type ExternalData struct {
	Location string // as written in the model, relative to its directory
	Offset   int64
	Length   int64
}

// NumElements is the product of Dims (1 for a scalar).
func (t *Tensor) NumElements() int64 {
	n := int64(1)
	for _, d := range t.Dims {
		n *= d
	}
	return n
}

// Opset returns the model's opset version for domain ("" and "ai.onnx" are
// the same domain), or 0 when the model does not import it.
func (m *Model) Opset(domain string) int64 {
	if domain == "ai.onnx" {
		domain = ""
	}
	for _, o := range m.OpsetImports {
		d := o.Domain
		if d == "ai.onnx" {
			d = ""
		}
		if d == domain {
			return o.Version
		}
	}
	return 0
}

// Attr returns the node's attribute named name, or nil.
func (n *Node) Attr(name string) *Attribute {
	for _, a := range n.Attributes {
		if a.Name == name {
			return a
		}
	}
	return nil
}

// AttrInt returns the int attribute name, or def when absent.
func (n *Node) AttrInt(name string, def int64) int64 {
	if a := n.Attr(name); a != nil && a.Type == AttrInt {
		return a.I
	}
	return def
}

// AttrFloat returns the float attribute name, or def when absent.
func (n *Node) AttrFloat(name string, def float32) float32 {
	if a := n.Attr(name); a != nil && a.Type == AttrFloat {
		return a.F
	}
	return def
}

// AttrString returns the string attribute name, or def when absent.
func (n *Node) AttrString(name, def string) string {
	if a := n.Attr(name); a != nil && a.Type == AttrString {
		return string(a.S)
	}
	return def
}

// AttrInts returns the ints attribute name, or def when absent.
func (n *Node) AttrInts(name string, def []int64) []int64 {
	if a := n.Attr(name); a != nil && a.Type == AttrInts {
		return a.Ints
	}
	return def
}
