package graph

import (
	"fmt"
	"math"

	"github.com/clip-go/clip/pkg/onnx"
)

// Tensor is a dense, row-major tensor of one element type. Exactly one of
// the slices holds the data, chosen by DType:
//
//	Float, Float16, BFloat16 → Float32 (half-precision values are held widened)
//	Double → Float64, Int64 → Int64, Int32 → Int32, Bool → Bool,
//	Uint8 → Uint8, Int8 → Int8, Uint32 → Uint32, Uint64 → Uint64.
//
// A 0-d tensor (scalar) has an empty Shape and one element.
type Tensor struct {
	DType   onnx.DataType
	Shape   []int
	Float32 []float32
	Float64 []float64
	Int64   []int64
	Int32   []int32
	Bool    []bool
	Uint8   []uint8
	Int8    []int8
	Uint32  []uint32
	Uint64  []uint64
}

// Supported reports whether dt has an in-memory representation here.
func Supported(dt onnx.DataType) bool {
	switch dt {
	case onnx.Float, onnx.Float16, onnx.BFloat16, onnx.Double, onnx.Int64, onnx.Int32, onnx.Bool, onnx.Uint8, onnx.Int8,
		onnx.Uint32, onnx.Uint64:
		return true
	}
	return false
}

// DTypeName is the ONNX spelling of dt, for error messages.
func DTypeName(dt onnx.DataType) string {
	names := map[onnx.DataType]string{
		onnx.Undefined: "undefined", onnx.Float: "float", onnx.Uint8: "uint8", onnx.Int8: "int8",
		onnx.Uint16: "uint16", onnx.Int16: "int16", onnx.Int32: "int32", onnx.Int64: "int64",
		onnx.String: "string", onnx.Bool: "bool", onnx.Float16: "float16", onnx.Double: "double",
		onnx.Uint32: "uint32", onnx.Uint64: "uint64", onnx.Complex64: "complex64",
		onnx.Complex128: "complex128", onnx.BFloat16: "bfloat16",
	}
	if s, ok := names[dt]; ok {
		return s
	}
	return fmt.Sprintf("dtype(%d)", int32(dt))
}

// NumElements is the product of shape (1 for a scalar).
func NumElements(shape []int) int {
	n := 1
	for _, d := range shape {
		n *= d
	}
	return n
}

// NewTensor allocates a zeroed tensor.
func NewTensor(dt onnx.DataType, shape []int) *Tensor {
	t := &Tensor{DType: dt, Shape: append([]int{}, shape...)}
	n := NumElements(shape)
	switch dt {
	case onnx.Float, onnx.Float16, onnx.BFloat16:
		t.Float32 = make([]float32, n)
	case onnx.Double:
		t.Float64 = make([]float64, n)
	case onnx.Int64:
		t.Int64 = make([]int64, n)
	case onnx.Int32:
		t.Int32 = make([]int32, n)
	case onnx.Bool:
		t.Bool = make([]bool, n)
	case onnx.Uint8:
		t.Uint8 = make([]uint8, n)
	case onnx.Int8:
		t.Int8 = make([]int8, n)
	case onnx.Uint32:
		t.Uint32 = make([]uint32, n)
	case onnx.Uint64:
		t.Uint64 = make([]uint64, n)
	}
	return t
}

// Len is the number of elements held by the data slice.
func (t *Tensor) Len() int {
	switch t.DType {
	case onnx.Float, onnx.Float16, onnx.BFloat16:
		return len(t.Float32)
	case onnx.Double:
		return len(t.Float64)
	case onnx.Int64:
		return len(t.Int64)
	case onnx.Int32:
		return len(t.Int32)
	case onnx.Bool:
		return len(t.Bool)
	case onnx.Uint8:
		return len(t.Uint8)
	case onnx.Int8:
		return len(t.Int8)
	case onnx.Uint32:
		return len(t.Uint32)
	case onnx.Uint64:
		return len(t.Uint64)
	}
	return 0
}

// Data returns the slice holding t's elements as an interface value.
func (t *Tensor) Data() any {
	switch t.DType {
	case onnx.Float, onnx.Float16, onnx.BFloat16:
		return t.Float32
	case onnx.Double:
		return t.Float64
	case onnx.Int64:
		return t.Int64
	case onnx.Int32:
		return t.Int32
	case onnx.Bool:
		return t.Bool
	case onnx.Uint8:
		return t.Uint8
	case onnx.Int8:
		return t.Int8
	case onnx.Uint32:
		return t.Uint32
	case onnx.Uint64:
		return t.Uint64
	}
	return nil
}

// Check reports whether the data slice matches DType and Shape.
func (t *Tensor) Check() error {
	if !Supported(t.DType) {
		return fmt.Errorf("unsupported element type %s", DTypeName(t.DType))
	}
	for _, d := range t.Shape {
		if d < 0 {
			return fmt.Errorf("negative dimension in shape %v", t.Shape)
		}
	}
	if n := NumElements(t.Shape); t.Len() != n {
		return fmt.Errorf("shape %v needs %d elements, the %s data has %d", t.Shape, n, DTypeName(t.DType), t.Len())
	}
	return nil
}

// Ints returns the elements of an integer tensor as ints.
func (t *Tensor) Ints() ([]int, error) {
	switch t.DType {
	case onnx.Int64:
		r := make([]int, len(t.Int64))
		for i, v := range t.Int64 {
			r[i] = int(v)
		}
		return r, nil
	case onnx.Int32:
		r := make([]int, len(t.Int32))
		for i, v := range t.Int32 {
			r[i] = int(v)
		}
		return r, nil
	}
	return nil, fmt.Errorf("want an int64 or int32 tensor, got %s", DTypeName(t.DType))
}

// CopyRange copies n elements from src[si:] to dst[di:] (same dtype).
func CopyRange(dst *Tensor, di int, src *Tensor, si, n int) {
	switch dst.DType {
	case onnx.Float, onnx.Float16, onnx.BFloat16:
		copy(dst.Float32[di:di+n], src.Float32[si:si+n])
	case onnx.Double:
		copy(dst.Float64[di:di+n], src.Float64[si:si+n])
	case onnx.Int64:
		copy(dst.Int64[di:di+n], src.Int64[si:si+n])
	case onnx.Int32:
		copy(dst.Int32[di:di+n], src.Int32[si:si+n])
	case onnx.Bool:
		copy(dst.Bool[di:di+n], src.Bool[si:si+n])
	case onnx.Uint8:
		copy(dst.Uint8[di:di+n], src.Uint8[si:si+n])
	case onnx.Int8:
		copy(dst.Int8[di:di+n], src.Int8[si:si+n])
	case onnx.Uint32:
		copy(dst.Uint32[di:di+n], src.Uint32[si:si+n])
	case onnx.Uint64:
		copy(dst.Uint64[di:di+n], src.Uint64[si:si+n])
	}
}

// Float64At returns element i widened to float64 (any numeric dtype).
func (t *Tensor) Float64At(i int) float64 {
	switch t.DType {
	case onnx.Float, onnx.Float16, onnx.BFloat16:
		return float64(t.Float32[i])
	case onnx.Double:
		return t.Float64[i]
	case onnx.Int64:
		return float64(t.Int64[i])
	case onnx.Int32:
		return float64(t.Int32[i])
	case onnx.Bool:
		if t.Bool[i] {
			return 1
		}
		return 0
	case onnx.Uint8:
		return float64(t.Uint8[i])
	case onnx.Int8:
		return float64(t.Int8[i])
	case onnx.Uint32:
		return float64(t.Uint32[i])
	case onnx.Uint64:
		return float64(t.Uint64[i])
	}
	return math.NaN()
}

// FromONNX converts a decoded initializer. Numeric data is shared with the
// decoded tensor (which may alias the memory-mapped file, so it must not be
// written); float16 and bfloat16 are widened to float32 once, here.
func FromONNX(ot *onnx.Tensor) (*Tensor, error) {
	shape := make([]int, len(ot.Dims))
	n := int64(1)
	for i, d := range ot.Dims {
		if d < 0 || d > 1<<40 {
			return nil, fmt.Errorf("tensor %q: bad dimension %d", ot.Name, d)
		}
		shape[i] = int(d)
		n *= d
		if n > 1<<34 {
			return nil, fmt.Errorf("tensor %q: %v has too many elements", ot.Name, ot.Dims)
		}
	}
	t := &Tensor{DType: ot.DataType, Shape: shape}
	switch ot.DataType {
	case onnx.Float:
		t.Float32 = ot.Float32
	case onnx.Float16:
		t.Float32 = make([]float32, len(ot.Float16))
		onnx.Float16sToFloat32(t.Float32, ot.Float16)
	case onnx.BFloat16:
		t.Float32 = make([]float32, len(ot.Float16))
		for i, h := range ot.Float16 {
			t.Float32[i] = onnx.BFloat16ToFloat32(h)
		}
	case onnx.Double:
		t.Float64 = ot.Float64
	case onnx.Int64:
		t.Int64 = ot.Int64
	case onnx.Int32:
		t.Int32 = ot.Int32
	case onnx.Bool:
		t.Bool = ot.Bool
	case onnx.Uint8:
		t.Uint8 = ot.Uint8
	case onnx.Int8:
		t.Int8 = ot.Int8
	case onnx.Uint32:
		t.Uint32 = ot.Uint32
	case onnx.Uint64:
		t.Uint64 = ot.Uint64
	default:
		return nil, fmt.Errorf("tensor %q: element type %s is not supported", ot.Name, DTypeName(ot.DataType))
	}
	if t.Len() == 0 && n > 0 && ot.DataType != onnx.Float16 && ot.DataType != onnx.BFloat16 {
		// Empty typed field with non-empty dims: treat as zeros only if
		// the producer really stored nothing; report it instead.
		return nil, fmt.Errorf("tensor %q: dims %v but no data", ot.Name, ot.Dims)
	}
	if err := t.Check(); err != nil {
		return nil, fmt.Errorf("tensor %q: %w", ot.Name, err)
	}
	return t, nil
}
