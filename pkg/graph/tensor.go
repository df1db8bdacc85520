package graph

import (
	"fmt"
	"math"
	"sync"
	"unsafe"

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

	// lazy, when set, makes Float32 on demand from the compact data it
	// was made from (see Materialize): a large float16 initializer's
	// halves, a 4-bit weight's codes and scales, a weight transposed at
	// load. Such a weight's float32 copy is needed only until the engine
	// has packed it.
	lazy *lazyData
}

// lazyData is how a lazy tensor makes its float32 data.
type lazyData struct {
	mu      sync.Mutex
	rebuild func() []float32
	// source is the compact data rebuild reads, when it is one byte
	// range of the model (float16 halves): after Release the engine
	// hands its pages back to the kernel too (see Source).
	source []byte
}

// lazyElements is the size from which a float16 initializer is widened
// only when read (Materialize): weight matrices, not biases or scales
// (ViT-B/32: ≤ 3,072 values; the test models' weights: ≥ 9,216).
const lazyElements = 1 << 12

// newLazy returns a float tensor of shape whose data rebuild makes when
// it is first read.
func newLazy(dt onnx.DataType, shape []int, rebuild func() []float32, source []byte) *Tensor {
	return &Tensor{DType: dt, Shape: shape, lazy: &lazyData{rebuild: rebuild, source: source}}
}

// Lazy reports whether t makes its float32 data on demand (see
// Materialize) and can drop it again (Release).
func (t *Tensor) Lazy() bool { return t.lazy != nil }

// Materialize returns t's float32 data, making it first if t is lazy and
// holds none. Code that reads a constant's Float32 directly must have
// materialized it: the engine does so for every constant a plan's steps
// read, except the weights it packs (which it materializes to pack).
// Safe for concurrent use.
func (t *Tensor) Materialize() []float32 {
	if t.lazy == nil {
		return t.Float32
	}
	t.lazy.mu.Lock()
	defer t.lazy.mu.Unlock()
	if t.Float32 == nil {
		t.Float32 = t.lazy.rebuild()
	}
	return t.Float32
}

// Release drops the float32 data of a lazy tensor, keeping its shape and
// type, and reports whether it held any. Only a caller that keeps a copy
// made before (a packed weight) may go on using t without Materialize.
func (t *Tensor) Release() bool {
	if t.lazy == nil {
		return false
	}
	t.lazy.mu.Lock()
	defer t.lazy.mu.Unlock()
	had := t.Float32 != nil
	t.Float32 = nil
	return had
}

// Materialized reports whether t holds its float32 data (always, for a
// tensor that is not lazy).
func (t *Tensor) Materialized() bool {
	if t.lazy == nil {
		return true
	}
	t.lazy.mu.Lock()
	defer t.lazy.mu.Unlock()
	return t.Float32 != nil
}

// Source returns the bytes a lazy tensor is made from, when they are one
// range of the model's data (nil otherwise).
func (t *Tensor) Source() []byte {
	if t.lazy == nil {
		return nil
	}
	return t.lazy.source
}

// halfBytes returns the bytes of h (nil when empty).
func halfBytes(h []uint16) []byte {
	if len(h) == 0 {
		return nil
	}
	return unsafe.Slice((*byte)(unsafe.Pointer(&h[0])), 2*len(h))
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
		if t.lazy != nil {
			return NumElements(t.Shape) // held or not
		}
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
	case onnx.Float16, onnx.BFloat16:
		h, half := ot.Float16, ot.DataType == onnx.Float16
		widen := func() []float32 {
			f := make([]float32, len(h))
			if half {
				onnx.Float16sToFloat32(f, h)
				return f
			}
			for i, v := range h {
				f[i] = onnx.BFloat16ToFloat32(v)
			}
			return f
		}
		if len(h) >= lazyElements {
			t.lazy = &lazyData{rebuild: widen, source: halfBytes(h)}
			break
		}
		t.Float32 = widen()
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
