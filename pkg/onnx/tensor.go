package onnx

import (
	"encoding/binary"
	"fmt"
	"math"
	"math/bits"
	"strconv"
	"unsafe"

	"google.golang.org/protobuf/encoding/protowire"
)

var dataTypeNames = [...]string{
	Undefined: "undefined", Float: "float32", Uint8: "uint8", Int8: "int8",
	Uint16: "uint16", Int16: "int16", Int32: "int32", Int64: "int64",
	String: "string", Bool: "bool", Float16: "float16", Double: "float64",
	Uint32: "uint32", Uint64: "uint64", Complex64: "complex64",
	Complex128: "complex128", BFloat16: "bfloat16",
}

// String is the NumPy-style name of the type ("float32", "int64", ...).
func (t DataType) String() string {
	if t >= 0 && int(t) < len(dataTypeNames) {
		return dataTypeNames[t]
	}
	return "dtype(" + strconv.Itoa(int(t)) + ")"
}

// Size is the size in bytes of one element in raw_data, or 0 for strings
// and unknown types.
func (t DataType) Size() int {
	switch t {
	case Uint8, Int8, Bool:
		return 1
	case Uint16, Int16, Float16, BFloat16:
		return 2
	case Float, Int32, Uint32:
		return 4
	case Int64, Double, Uint64, Complex64:
		return 8
	case Complex128:
		return 16
	}
	return 0
}

// Supported reports whether tensors of this type can be decoded.
func (t DataType) Supported() bool {
	return t >= Float && t <= BFloat16 && t != Complex64 && t != Complex128
}

// tensorParts is what a TensorProto message holds before its data is
// interpreted by data_type.
type tensorParts struct {
	dims             []int64
	dataType         int64
	haveType         bool
	raw              []byte
	haveRaw          bool
	f32, f64         leBuf
	i32, i64, u64    []int64
	strs             [][]byte
	external         bool
	location         string
	offset, length   int64
	haveLen          bool
	haveI32, haveI64 bool
	haveU64          bool
}

func (d *decoder) decodeTensor(b []byte, at *loc) (*Tensor, error) {
	t := &Tensor{}
	var p tensorParts
	err := d.each(b, at, func(f field) error {
		var err error
		switch f.num {
		case 1:
			p.dims, err = d.varints(at, f, "dims", p.dims)
		case 2:
			err = d.want(at, f, "data_type", protowire.VarintType)
			p.dataType, p.haveType = int64(int32(f.x)), true
		case 3:
			err = d.errf(at, "segmented tensors (TensorProto.segment) are not supported")
		case 4:
			err = d.fixed(at, f, "float_data", 4, &p.f32)
		case 5:
			p.i32, err = d.varints(at, f, "int32_data", p.i32)
			p.haveI32 = true
		case 6:
			err = d.want(at, f, "string_data", protowire.BytesType)
			p.strs = append(p.strs, f.v)
		case 7:
			p.i64, err = d.varints(at, f, "int64_data", p.i64)
			p.haveI64 = true
		case 8:
			err = d.want(at, f, "name", protowire.BytesType)
			t.Name = string(f.v)
		case 9:
			err = d.want(at, f, "raw_data", protowire.BytesType)
			p.raw, p.haveRaw = f.v, true
		case 10:
			err = d.fixed(at, f, "double_data", 8, &p.f64)
		case 11:
			p.u64, err = d.varints(at, f, "uint64_data", p.u64)
			p.haveU64 = true
		case 12:
			err = d.want(at, f, "doc_string", protowire.BytesType)
			t.DocString = string(f.v)
		case 13:
			if err = d.want(at, f, "external_data", protowire.BytesType); err != nil {
				return err
			}
			k, v, err := d.stringPair(at, f.v)
			if err != nil {
				return err
			}
			switch k {
			case "location":
				p.location = v
			case "offset", "length":
				n, perr := strconv.ParseInt(v, 10, 64)
				if perr != nil || n < 0 {
					return d.errf(at, "external_data %s %q is not a non-negative integer", k, v)
				}
				if k == "offset" {
					p.offset = n
				} else {
					p.length, p.haveLen = n, true
				}
			}
		case 14:
			err = d.want(at, f, "data_location", protowire.VarintType)
			switch f.x {
			case 0:
				p.external = false
			case 1:
				p.external = true
			default:
				return d.errf(at, "unknown data_location %d", f.x)
			}
		}
		return err
	})
	if err != nil {
		return nil, err
	}
	if err := d.fillTensor(t, &p, at); err != nil {
		return nil, err
	}
	return t, nil
}

// numElements checks dims and returns their product.
func numElements(dims []int64) (int64, error) {
	n := uint64(1)
	for i, v := range dims {
		if v < 0 {
			return 0, fmt.Errorf("dims %v: dim %d is negative", dims, i)
		}
		hi, lo := bits.Mul64(n, uint64(v))
		if hi != 0 || lo > math.MaxInt64 {
			return 0, fmt.Errorf("dims %v: element count overflows", dims)
		}
		n = lo
	}
	return int64(n), nil
}

func (d *decoder) fillTensor(t *Tensor, p *tensorParts, at *loc) error {
	if !p.haveType || p.dataType == int64(Undefined) {
		return d.errf(at, "tensor has no data_type")
	}
	t.DataType = DataType(p.dataType)
	if !t.DataType.Supported() {
		return d.errf(at, "tensor data type %v is not supported", t.DataType)
	}
	t.Dims = p.dims
	if t.Dims == nil {
		t.Dims = []int64{}
	}
	n, err := numElements(t.Dims)
	if err != nil {
		return d.errf(at, "%v", err)
	}

	// Little-endian bytes: external file, raw_data, or a packed fixed-width field.
	var data []byte
	haveBytes := false
	switch {
	case p.external:
		data, err = d.externalBytes(p)
		if err != nil {
			return d.errf(at, "%v", err)
		}
		t.External = &ExternalData{Location: p.location, Offset: p.offset, Length: int64(len(data))}
		haveBytes = true
	case p.haveRaw:
		data, haveBytes = p.raw, true
	case t.DataType == Float && p.f32.seen:
		data, haveBytes = p.f32.b, true
	case t.DataType == Double && p.f64.seen:
		data, haveBytes = p.f64.b, true
	}
	if haveBytes {
		size := int64(t.DataType.Size())
		if size == 0 {
			return d.errf(at, "%v tensor cannot have raw or external data", t.DataType)
		}
		if int64(len(data))%size != 0 || int64(len(data))/size != n {
			return d.errf(at, "data is %d bytes but dims %v of %v need %d elements × %d bytes", len(data), t.Dims, t.DataType, n, size)
		}
		setFromBytes(t, data)
		return nil
	}

	var count int
	switch t.DataType {
	case String:
		count = len(p.strs)
	case Int64:
		count = len(p.i64)
	case Uint32, Uint64:
		count = len(p.u64)
	case Float:
		count = len(p.f32.b) / 4
	case Double:
		count = len(p.f64.b) / 8
	default: // carried in int32_data
		count = len(p.i32)
	}
	if int64(count) != n {
		return d.errf(at, "tensor holds %d %v values but dims %v need %d", count, t.DataType, t.Dims, n)
	}
	switch t.DataType {
	case String:
		t.Strings = p.strs
		if t.Strings == nil {
			t.Strings = [][]byte{}
		}
	case Float:
		t.Float32 = leView[float32](p.f32.b)
	case Double:
		t.Float64 = leView[float64](p.f64.b)
	case Int64:
		t.Int64 = p.i64
		if t.Int64 == nil {
			t.Int64 = []int64{}
		}
	case Uint64:
		t.Uint64 = convert(p.u64, func(v int64) uint64 { return uint64(v) })
	case Uint32:
		t.Uint32 = convert(p.u64, func(v int64) uint32 { return uint32(v) })
	case Int32:
		t.Int32 = convert(p.i32, func(v int64) int32 { return int32(v) })
	case Int16:
		t.Int16 = convert(p.i32, func(v int64) int16 { return int16(v) })
	case Uint16:
		t.Uint16 = convert(p.i32, func(v int64) uint16 { return uint16(v) })
	case Float16, BFloat16:
		// ONNX stores the 16 bits of each value in the low half of an int32.
		t.Float16 = convert(p.i32, func(v int64) uint16 { return uint16(v) })
	case Int8:
		t.Int8 = convert(p.i32, func(v int64) int8 { return int8(v) })
	case Uint8:
		t.Uint8 = convert(p.i32, func(v int64) uint8 { return uint8(v) })
	case Bool:
		t.Bool = convert(p.i32, func(v int64) bool { return v != 0 })
	}
	return nil
}

func convert[T any](src []int64, f func(int64) T) []T {
	out := make([]T, len(src))
	for i, v := range src {
		out[i] = f(v)
	}
	return out
}

// setFromBytes points the typed slice for t.DataType at data (length
// already checked).
func setFromBytes(t *Tensor, data []byte) {
	switch t.DataType {
	case Float:
		t.Float32 = leView[float32](data)
	case Double:
		t.Float64 = leView[float64](data)
	case Float16, BFloat16:
		t.Float16 = leView[uint16](data)
	case Uint16:
		t.Uint16 = leView[uint16](data)
	case Int16:
		t.Int16 = leView[int16](data)
	case Int8:
		t.Int8 = leView[int8](data)
	case Uint8:
		t.Uint8 = leView[uint8](data)
	case Int32:
		t.Int32 = leView[int32](data)
	case Uint32:
		t.Uint32 = leView[uint32](data)
	case Int64:
		t.Int64 = leView[int64](data)
	case Uint64:
		t.Uint64 = leView[uint64](data)
	case Bool:
		// Copied: a byte other than 0 or 1 is not a valid Go bool.
		t.Bool = make([]bool, len(data))
		for i, v := range data {
			t.Bool[i] = v != 0
		}
	}
}

type fixedWidth interface {
	~float32 | ~float64 | ~int8 | ~uint8 | ~int16 | ~uint16 | ~int32 | ~uint32 | ~int64 | ~uint64
}

// leView reinterprets little-endian bytes as a []T without copying when
// the host is little-endian and the address is suitably aligned (or the
// CPU tolerates misaligned loads, see align_*.go); otherwise it copies.
// The result is never nil.
func leView[T fixedWidth](b []byte) []T { return leViewOpt[T](b, misalignedLoadsOK) }

// leViewOpt is leView with the misalignment policy as a parameter, so
// tests can exercise the copying path on any CPU.
func leViewOpt[T fixedWidth](b []byte, misalignedOK bool) []T {
	var zero T
	size := int(unsafe.Sizeof(zero))
	n := len(b) / size
	if n == 0 {
		return []T{}
	}
	le := binary.NativeEndian.Uint16([]byte{1, 0}) == 1
	if le && (misalignedOK || uintptr(unsafe.Pointer(&b[0]))%uintptr(size) == 0) {
		return unsafe.Slice((*T)(unsafe.Pointer(&b[0])), n)
	}
	out := make([]T, n)
	dst := unsafe.Slice((*byte)(unsafe.Pointer(&out[0])), n*size)
	copy(dst, b[:n*size])
	if !le {
		for i := 0; i < len(dst); i += size {
			for j, k := i, i+size-1; j < k; j, k = j+1, k-1 {
				dst[j], dst[k] = dst[k], dst[j]
			}
		}
	}
	return out
}

// AsLEBytes returns the tensor's data as little-endian bytes, aliasing the
// typed slice on little-endian hosts (for writing .npy files or hashing).
// Bool is one byte per element; strings have no byte form.
func (t *Tensor) AsLEBytes() ([]byte, error) {
	le := binary.NativeEndian.Uint16([]byte{1, 0}) == 1
	asBytes := func(p unsafe.Pointer, n, size int) []byte {
		if n == 0 {
			return []byte{}
		}
		b := unsafe.Slice((*byte)(p), n*size)
		if le {
			return b
		}
		out := append([]byte(nil), b...)
		for i := 0; i < len(out); i += size {
			for j, k := i, i+size-1; j < k; j, k = j+1, k-1 {
				out[j], out[k] = out[k], out[j]
			}
		}
		return out
	}
	switch t.DataType {
	case Float:
		return asBytes(unsafe.Pointer(unsafe.SliceData(t.Float32)), len(t.Float32), 4), nil
	case Double:
		return asBytes(unsafe.Pointer(unsafe.SliceData(t.Float64)), len(t.Float64), 8), nil
	case Float16, BFloat16:
		return asBytes(unsafe.Pointer(unsafe.SliceData(t.Float16)), len(t.Float16), 2), nil
	case Uint16:
		return asBytes(unsafe.Pointer(unsafe.SliceData(t.Uint16)), len(t.Uint16), 2), nil
	case Int16:
		return asBytes(unsafe.Pointer(unsafe.SliceData(t.Int16)), len(t.Int16), 2), nil
	case Int8:
		return asBytes(unsafe.Pointer(unsafe.SliceData(t.Int8)), len(t.Int8), 1), nil
	case Uint8:
		return asBytes(unsafe.Pointer(unsafe.SliceData(t.Uint8)), len(t.Uint8), 1), nil
	case Int32:
		return asBytes(unsafe.Pointer(unsafe.SliceData(t.Int32)), len(t.Int32), 4), nil
	case Uint32:
		return asBytes(unsafe.Pointer(unsafe.SliceData(t.Uint32)), len(t.Uint32), 4), nil
	case Int64:
		return asBytes(unsafe.Pointer(unsafe.SliceData(t.Int64)), len(t.Int64), 8), nil
	case Uint64:
		return asBytes(unsafe.Pointer(unsafe.SliceData(t.Uint64)), len(t.Uint64), 8), nil
	case Bool:
		out := make([]byte, len(t.Bool))
		for i, v := range t.Bool {
			if v {
				out[i] = 1
			}
		}
		return out, nil
	}
	return nil, fmt.Errorf("onnx: tensor %q: %v has no little-endian byte form", t.Name, t.DataType)
}

// Float32s returns the data as float32: the tensor's own slice for float32
// tensors, a new widened (or narrowed, for float64) slice otherwise.
func (t *Tensor) Float32s() ([]float32, error) {
	switch t.DataType {
	case Float:
		return t.Float32, nil
	case Float16:
		out := make([]float32, len(t.Float16))
		Float16sToFloat32(out, t.Float16)
		return out, nil
	case BFloat16:
		out := make([]float32, len(t.Float16))
		for i, h := range t.Float16 {
			out[i] = BFloat16ToFloat32(h)
		}
		return out, nil
	case Double:
		return widen[float32](t.Float64), nil
	case Int8:
		return widen[float32](t.Int8), nil
	case Uint8:
		return widen[float32](t.Uint8), nil
	case Int16:
		return widen[float32](t.Int16), nil
	case Uint16:
		return widen[float32](t.Uint16), nil
	case Int32:
		return widen[float32](t.Int32), nil
	case Uint32:
		return widen[float32](t.Uint32), nil
	case Int64:
		return widen[float32](t.Int64), nil
	case Uint64:
		return widen[float32](t.Uint64), nil
	case Bool:
		out := make([]float32, len(t.Bool))
		for i, v := range t.Bool {
			if v {
				out[i] = 1
			}
		}
		return out, nil
	}
	return nil, fmt.Errorf("onnx: tensor %q: cannot convert %v to float32", t.Name, t.DataType)
}

// Int64s returns the data of an integer or bool tensor as int64: the
// tensor's own slice for int64, a new slice otherwise. Floating-point
// tensors are refused rather than truncated.
func (t *Tensor) Int64s() ([]int64, error) {
	switch t.DataType {
	case Int64:
		return t.Int64, nil
	case Int8:
		return widen[int64](t.Int8), nil
	case Uint8:
		return widen[int64](t.Uint8), nil
	case Int16:
		return widen[int64](t.Int16), nil
	case Uint16:
		return widen[int64](t.Uint16), nil
	case Int32:
		return widen[int64](t.Int32), nil
	case Uint32:
		return widen[int64](t.Uint32), nil
	case Uint64:
		out := make([]int64, len(t.Uint64))
		for i, v := range t.Uint64 {
			if v > math.MaxInt64 {
				return nil, fmt.Errorf("onnx: tensor %q: uint64 value %d does not fit int64", t.Name, v)
			}
			out[i] = int64(v)
		}
		return out, nil
	case Bool:
		out := make([]int64, len(t.Bool))
		for i, v := range t.Bool {
			if v {
				out[i] = 1
			}
		}
		return out, nil
	}
	return nil, fmt.Errorf("onnx: tensor %q: cannot convert %v to int64", t.Name, t.DataType)
}

func widen[D float32 | int64, S fixedWidth](src []S) []D {
	out := make([]D, len(src))
	for i, v := range src {
		out[i] = D(v)
	}
	return out
}

// decodeSparse decodes a SparseTensorProto and returns it densified.
func (d *decoder) decodeSparse(b []byte, at *loc) (*Tensor, error) {
	var values, indices *Tensor
	var dims []int64
	err := d.each(b, at, func(f field) error {
		var err error
		switch f.num {
		case 1:
			if err = d.want(at, f, "values", protowire.BytesType); err == nil {
				values, err = d.decodeTensor(f.v, at.child("values", -1, peekString(f.v, 8)))
			}
		case 2:
			if err = d.want(at, f, "indices", protowire.BytesType); err == nil {
				indices, err = d.decodeTensor(f.v, at.child("indices", -1, peekString(f.v, 8)))
			}
		case 3:
			dims, err = d.varints(at, f, "dims", dims)
		}
		return err
	})
	if err != nil {
		return nil, err
	}
	if values == nil || indices == nil {
		return nil, d.errf(at, "sparse tensor lacks values or indices")
	}
	at = at.child("", -1, values.Name)
	dense, err := densify(values, indices, dims)
	if err != nil {
		return nil, d.errf(at, "%v", err)
	}
	return dense, nil
}

func densify(values, indices *Tensor, dims []int64) (*Tensor, error) {
	if dims == nil {
		dims = []int64{}
	}
	n, err := numElements(dims)
	if err != nil {
		return nil, err
	}
	size := int64(values.DataType.Size())
	if size == 0 {
		return nil, fmt.Errorf("sparse %v tensors are not supported", values.DataType)
	}
	if n > maxDenseBytes/size {
		return nil, fmt.Errorf("sparse tensor of dims %v is too large to densify", dims)
	}
	nnz := values.NumElements()
	if len(values.Dims) != 1 {
		return nil, fmt.Errorf("sparse values must be 1-D, got dims %v", values.Dims)
	}
	idx, err := indices.Int64s()
	if err != nil {
		return nil, err
	}
	linear := make([]int64, nnz)
	switch {
	case len(indices.Dims) == 1 && indices.Dims[0] == nnz:
		for k, i := range idx {
			if i < 0 || i >= n {
				return nil, fmt.Errorf("sparse index %d out of range [0,%d)", i, n)
			}
			linear[k] = i
		}
	case len(indices.Dims) == 2 && indices.Dims[0] == nnz && indices.Dims[1] == int64(len(dims)):
		r := len(dims)
		for k := range linear {
			var li int64
			for j := 0; j < r; j++ {
				c := idx[k*r+j]
				if c < 0 || c >= dims[j] {
					return nil, fmt.Errorf("sparse coordinate %d of entry %d out of range [0,%d)", c, k, dims[j])
				}
				li = li*dims[j] + c
			}
			linear[k] = li
		}
	default:
		return nil, fmt.Errorf("sparse indices dims %v do not match %d values of rank %d", indices.Dims, nnz, len(dims))
	}
	src, err := values.AsLEBytes()
	if err != nil {
		return nil, err
	}
	out := make([]byte, n*size)
	for k, li := range linear {
		copy(out[li*size:(li+1)*size], src[int64(k)*size:])
	}
	t := &Tensor{Name: values.Name, DataType: values.DataType, Dims: dims, DocString: values.DocString}
	setFromBytes(t, out)
	return t, nil
}
