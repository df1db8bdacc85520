// Package npy reads and writes NumPy .npy files (format versions 1, 2 and
// 3; little-endian numeric and bool dtypes; C order), the format clip uses
// to pass tensors to and from `clip onnx run` and reference scripts.
package npy

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math"
	"math/bits"
	"os"
	"strconv"
	"strings"
)

// DType is an element type a .npy file can hold here.
type DType int

// The supported element types.
const (
	Float32 DType = iota + 1
	Float64
	Float16 // IEEE half, held as raw bits in []uint16
	Int64
	Int32
	Uint8
	Int8
	Bool
)

var dtypeInfo = map[DType]struct {
	descr string // what numpy writes
	size  int
}{
	Float32: {"<f4", 4}, Float64: {"<f8", 8}, Float16: {"<f2", 2}, Int64: {"<i8", 8},
	Int32: {"<i4", 4}, Uint8: {"|u1", 1}, Int8: {"|i1", 1}, Bool: {"|b1", 1},
}

// String is the numpy descr ("<f4", "|u1", ...).
func (d DType) String() string {
	if i, ok := dtypeInfo[d]; ok {
		return i.descr
	}
	return "dtype(" + strconv.Itoa(int(d)) + ")"
}

// Size is the element size in bytes.
func (d DType) Size() int { return dtypeInfo[d].size }

// Array is an n-dimensional array in C order. Data is a []float32,
// []float64, []uint16 (float16 bits), []int64, []int32, []uint8, []int8 or
// []bool matching DType, with as many elements as Shape's product.
type Array struct {
	DType DType
	Shape []int64 // empty for a scalar
	Data  any
}

// New returns an array of data (one of the slice types Array.Data allows;
// []uint16 is taken as float16) with the given shape.
func New(shape []int64, data any) (*Array, error) {
	var dt DType
	var n int
	switch d := data.(type) {
	case []float32:
		dt, n = Float32, len(d)
	case []float64:
		dt, n = Float64, len(d)
	case []uint16:
		dt, n = Float16, len(d)
	case []int64:
		dt, n = Int64, len(d)
	case []int32:
		dt, n = Int32, len(d)
	case []uint8:
		dt, n = Uint8, len(d)
	case []int8:
		dt, n = Int8, len(d)
	case []bool:
		dt, n = Bool, len(d)
	default:
		return nil, fmt.Errorf("npy: unsupported data type %T", data)
	}
	count, err := elements(shape)
	if err != nil {
		return nil, err
	}
	if count != int64(n) {
		return nil, fmt.Errorf("npy: shape %v needs %d elements, data has %d", shape, count, n)
	}
	return &Array{DType: dt, Shape: append([]int64{}, shape...), Data: data}, nil
}

func elements(shape []int64) (int64, error) {
	n := uint64(1)
	for _, d := range shape {
		if d < 0 {
			return 0, fmt.Errorf("npy: negative dimension in shape %v", shape)
		}
		hi, lo := bits.Mul64(n, uint64(d))
		if hi != 0 || lo > math.MaxInt64 {
			return 0, fmt.Errorf("npy: shape %v is too large", shape)
		}
		n = lo
	}
	return int64(n), nil
}

// Len is the number of elements.
func (a *Array) Len() int64 {
	n, _ := elements(a.Shape)
	return n
}

// Float32s returns the data as float32, converting other types (float16
// widened exactly, float64 rounded, ints and bools converted).
func (a *Array) Float32s() []float32 {
	switch d := a.Data.(type) {
	case []float32:
		return d
	case []float64:
		return conv(d, func(v float64) float32 { return float32(v) })
	case []uint16:
		return conv(d, halfToFloat32)
	case []int64:
		return conv(d, func(v int64) float32 { return float32(v) })
	case []int32:
		return conv(d, func(v int32) float32 { return float32(v) })
	case []uint8:
		return conv(d, func(v uint8) float32 { return float32(v) })
	case []int8:
		return conv(d, func(v int8) float32 { return float32(v) })
	case []bool:
		return conv(d, func(v bool) float32 {
			if v {
				return 1
			}
			return 0
		})
	}
	return nil
}

func conv[S, D any](src []S, f func(S) D) []D {
	out := make([]D, len(src))
	for i, v := range src {
		out[i] = f(v)
	}
	return out
}

// halfToFloat32 widens IEEE half bits (kept here so npy stays independent
// of pkg/onnx).
func halfToFloat32(h uint16) float32 {
	sign := uint32(h>>15) << 31
	exp := uint32(h>>10) & 0x1f
	mant := uint32(h) & 0x3ff
	switch {
	case exp == 0 && mant == 0:
		return math.Float32frombits(sign)
	case exp == 0:
		e := uint32(113)
		for mant&0x400 == 0 {
			mant <<= 1
			e--
		}
		return math.Float32frombits(sign | e<<23 | (mant&0x3ff)<<13)
	case exp == 0x1f:
		return math.Float32frombits(sign | 0xff<<23 | mant<<13)
	}
	return math.Float32frombits(sign | (exp+112)<<23 | mant<<13)
}

var magic = []byte("\x93NUMPY")

// ReadFile reads a .npy file; errors name the file.
func ReadFile(path string) (*Array, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	a, err := Read(bufio.NewReader(f))
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return a, nil
}

// Read reads one .npy array from r.
func Read(r io.Reader) (*Array, error) {
	var pre [8]byte
	if _, err := io.ReadFull(r, pre[:]); err != nil {
		return nil, fmt.Errorf("npy: not a .npy file (too short): %w", err)
	}
	if !bytes.Equal(pre[:6], magic) {
		return nil, errors.New("npy: not a .npy file (bad magic)")
	}
	var hlen int
	switch pre[6] {
	case 1:
		var b [2]byte
		if _, err := io.ReadFull(r, b[:]); err != nil {
			return nil, fmt.Errorf("npy: truncated header: %w", err)
		}
		hlen = int(binary.LittleEndian.Uint16(b[:]))
	case 2, 3:
		var b [4]byte
		if _, err := io.ReadFull(r, b[:]); err != nil {
			return nil, fmt.Errorf("npy: truncated header: %w", err)
		}
		hlen = int(binary.LittleEndian.Uint32(b[:]))
		if hlen > 1<<20 {
			return nil, fmt.Errorf("npy: header of %d bytes is implausibly large", hlen)
		}
	default:
		return nil, fmt.Errorf("npy: unsupported format version %d.%d", pre[6], pre[7])
	}
	header := make([]byte, hlen)
	if _, err := io.ReadFull(r, header); err != nil {
		return nil, fmt.Errorf("npy: truncated header: %w", err)
	}
	descr, fortran, shape, err := parseHeader(string(header))
	if err != nil {
		return nil, err
	}
	dt, err := parseDescr(descr)
	if err != nil {
		return nil, err
	}
	if fortran {
		return nil, errors.New("npy: fortran_order arrays are not supported (save a C-ordered array: np.ascontiguousarray)")
	}
	n, err := elements(shape)
	if err != nil {
		return nil, err
	}
	size := int64(dt.Size())
	if n > math.MaxInt64/size {
		return nil, fmt.Errorf("npy: shape %v is too large", shape)
	}
	need := n * size
	// Read through a limit rather than allocating need bytes up front, so a
	// lying header cannot make us allocate more than the input holds.
	data, err := io.ReadAll(io.LimitReader(r, need))
	if err != nil {
		return nil, fmt.Errorf("npy: reading data: %w", err)
	}
	if int64(len(data)) != need {
		return nil, fmt.Errorf("npy: truncated data: shape %v of %v needs %d bytes, file has %d", shape, dt, need, len(data))
	}
	return &Array{DType: dt, Shape: shape, Data: decodeData(dt, data)}, nil
}

func parseDescr(descr string) (DType, error) {
	switch descr {
	case "<f4":
		return Float32, nil
	case "<f8":
		return Float64, nil
	case "<f2":
		return Float16, nil
	case "<i8":
		return Int64, nil
	case "<i4":
		return Int32, nil
	case "|u1", "<u1", "=u1":
		return Uint8, nil
	case "|i1", "<i1", "=i1":
		return Int8, nil
	case "|b1", "<b1", "=b1", "?":
		return Bool, nil
	}
	if strings.HasPrefix(descr, ">") {
		return 0, fmt.Errorf("npy: big-endian dtype %q is not supported (use arr.astype(arr.dtype.newbyteorder('<')))", descr)
	}
	return 0, fmt.Errorf("npy: dtype %q is not supported (want float32, float64, float16, int64, int32, uint8, int8 or bool)", descr)
}

func decodeData(dt DType, b []byte) any {
	le := binary.LittleEndian
	switch dt {
	case Float32:
		out := make([]float32, len(b)/4)
		for i := range out {
			out[i] = math.Float32frombits(le.Uint32(b[4*i:]))
		}
		return out
	case Float64:
		out := make([]float64, len(b)/8)
		for i := range out {
			out[i] = math.Float64frombits(le.Uint64(b[8*i:]))
		}
		return out
	case Float16:
		out := make([]uint16, len(b)/2)
		for i := range out {
			out[i] = le.Uint16(b[2*i:])
		}
		return out
	case Int64:
		out := make([]int64, len(b)/8)
		for i := range out {
			out[i] = int64(le.Uint64(b[8*i:]))
		}
		return out
	case Int32:
		out := make([]int32, len(b)/4)
		for i := range out {
			out[i] = int32(le.Uint32(b[4*i:]))
		}
		return out
	case Uint8:
		return b
	case Int8:
		out := make([]int8, len(b))
		for i, v := range b {
			out[i] = int8(v)
		}
		return out
	case Bool:
		out := make([]bool, len(b))
		for i, v := range b {
			out[i] = v != 0
		}
		return out
	}
	return nil
}

// parseHeader reads the Python dict literal of a .npy header, e.g.
// {'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }
func parseHeader(h string) (descr string, fortran bool, shape []int64, err error) {
	s := strings.TrimSpace(h)
	if !strings.HasPrefix(s, "{") || !strings.HasSuffix(s, "}") {
		return "", false, nil, fmt.Errorf("npy: header %q is not a dict", h)
	}
	s = strings.TrimSpace(s[1 : len(s)-1])
	seen := map[string]bool{}
	for s != "" {
		key, rest, ok := pyString(s)
		if !ok {
			return "", false, nil, fmt.Errorf("npy: bad header key in %q", h)
		}
		rest = strings.TrimSpace(rest)
		if !strings.HasPrefix(rest, ":") {
			return "", false, nil, fmt.Errorf("npy: missing ':' after %q in header", key)
		}
		rest = strings.TrimSpace(rest[1:])
		switch key {
		case "descr":
			descr, rest, ok = pyString(rest)
			if !ok {
				return "", false, nil, fmt.Errorf("npy: descr is not a plain string in %q (structured dtypes are not supported)", h)
			}
		case "fortran_order":
			switch {
			case strings.HasPrefix(rest, "True"):
				fortran, rest = true, rest[4:]
			case strings.HasPrefix(rest, "False"):
				fortran, rest = false, rest[5:]
			default:
				return "", false, nil, fmt.Errorf("npy: fortran_order is not True/False in %q", h)
			}
		case "shape":
			if !strings.HasPrefix(rest, "(") {
				return "", false, nil, fmt.Errorf("npy: shape is not a tuple in %q", h)
			}
			end := strings.IndexByte(rest, ')')
			if end < 0 {
				return "", false, nil, fmt.Errorf("npy: unterminated shape in %q", h)
			}
			shape = []int64{}
			for _, f := range strings.Split(rest[1:end], ",") {
				f = strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(f), "L"))
				if f == "" {
					continue
				}
				v, perr := strconv.ParseInt(f, 10, 64)
				if perr != nil || v < 0 {
					return "", false, nil, fmt.Errorf("npy: bad dimension %q in shape", f)
				}
				shape = append(shape, v)
			}
			rest = rest[end+1:]
		default:
			return "", false, nil, fmt.Errorf("npy: unexpected header key %q", key)
		}
		seen[key] = true
		rest = strings.TrimSpace(rest)
		rest = strings.TrimPrefix(rest, ",")
		s = strings.TrimSpace(rest)
	}
	for _, k := range []string{"descr", "fortran_order", "shape"} {
		if !seen[k] {
			return "", false, nil, fmt.Errorf("npy: header lacks %q", k)
		}
	}
	return descr, fortran, shape, nil
}

// pyString reads a single- or double-quoted Python string without escapes.
func pyString(s string) (val, rest string, ok bool) {
	if len(s) < 2 || (s[0] != '\'' && s[0] != '"') {
		return "", s, false
	}
	end := strings.IndexByte(s[1:], s[0])
	if end < 0 {
		return "", s, false
	}
	return s[1 : 1+end], s[2+end:], true
}

// WriteFile writes a as a .npy file at path.
func WriteFile(path string, a *Array) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	w := bufio.NewWriter(f)
	if err := Write(w, a); err != nil {
		f.Close()
		return fmt.Errorf("%s: %w", path, err)
	}
	if err := w.Flush(); err != nil {
		f.Close()
		return fmt.Errorf("%s: %w", path, err)
	}
	return f.Close()
}

// Write writes a in .npy format: version 1.0 unless the header needs 2.0,
// header padded to a multiple of 64 bytes as numpy does.
func Write(w io.Writer, a *Array) error {
	info, ok := dtypeInfo[a.DType]
	if !ok {
		return fmt.Errorf("npy: unsupported dtype %v", a.DType)
	}
	n, err := elements(a.Shape)
	if err != nil {
		return err
	}
	data, err := encodeData(a)
	if err != nil {
		return err
	}
	if int64(len(data)) != n*int64(info.size) {
		return fmt.Errorf("npy: shape %v needs %d elements, data has %d", a.Shape, n, len(data)/info.size)
	}
	var shape strings.Builder
	shape.WriteString("(")
	for i, d := range a.Shape {
		if i > 0 {
			shape.WriteString(", ")
		}
		shape.WriteString(strconv.FormatInt(d, 10))
	}
	if len(a.Shape) == 1 {
		shape.WriteString(",")
	}
	shape.WriteString(")")
	dict := fmt.Sprintf("{'descr': '%s', 'fortran_order': False, 'shape': %s, }", info.descr, shape.String())
	pre := 10 // magic(6) + version(2) + uint16 length
	if len(dict)+1+pre+64 > math.MaxUint16 {
		pre = 12
	}
	pad := 64 - (pre+len(dict)+1)%64
	if pad == 64 {
		pad = 0
	}
	header := dict + strings.Repeat(" ", pad) + "\n"
	var buf bytes.Buffer
	buf.Write(magic)
	if pre == 10 {
		buf.Write([]byte{1, 0})
		binary.Write(&buf, binary.LittleEndian, uint16(len(header)))
	} else {
		buf.Write([]byte{2, 0})
		binary.Write(&buf, binary.LittleEndian, uint32(len(header)))
	}
	buf.WriteString(header)
	if _, err := w.Write(buf.Bytes()); err != nil {
		return err
	}
	_, err = w.Write(data)
	return err
}

func encodeData(a *Array) ([]byte, error) {
	le := binary.LittleEndian
	switch d := a.Data.(type) {
	case []float32:
		if a.DType == Float32 {
			out := make([]byte, 4*len(d))
			for i, v := range d {
				le.PutUint32(out[4*i:], math.Float32bits(v))
			}
			return out, nil
		}
	case []float64:
		if a.DType == Float64 {
			out := make([]byte, 8*len(d))
			for i, v := range d {
				le.PutUint64(out[8*i:], math.Float64bits(v))
			}
			return out, nil
		}
	case []uint16:
		if a.DType == Float16 {
			out := make([]byte, 2*len(d))
			for i, v := range d {
				le.PutUint16(out[2*i:], v)
			}
			return out, nil
		}
	case []int64:
		if a.DType == Int64 {
			out := make([]byte, 8*len(d))
			for i, v := range d {
				le.PutUint64(out[8*i:], uint64(v))
			}
			return out, nil
		}
	case []int32:
		if a.DType == Int32 {
			out := make([]byte, 4*len(d))
			for i, v := range d {
				le.PutUint32(out[4*i:], uint32(v))
			}
			return out, nil
		}
	case []uint8:
		if a.DType == Uint8 {
			return d, nil
		}
	case []int8:
		if a.DType == Int8 {
			out := make([]byte, len(d))
			for i, v := range d {
				out[i] = byte(v)
			}
			return out, nil
		}
	case []bool:
		if a.DType == Bool {
			out := make([]byte, len(d))
			for i, v := range d {
				if v {
					out[i] = 1
				}
			}
			return out, nil
		}
	}
	return nil, fmt.Errorf("npy: data %T does not match dtype %v", a.Data, a.DType)
}
