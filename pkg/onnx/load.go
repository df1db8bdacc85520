package onnx

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
)

// mapping is one file's bytes, memory-mapped when mapped is true.
type mapping struct {
	data   []byte
	mapped bool
}

// openMapping maps path read-only (copy-on-write). The type is checked
// before the open too: opening a FIFO (say, external data pointing at one)
// blocks until a writer comes, which may be never.
func openMapping(path string) (mapping, error) {
	if st, err := os.Stat(path); err != nil {
		return mapping{}, err
	} else if !st.Mode().IsRegular() {
		return mapping{}, fmt.Errorf("%s is not a regular file", path)
	}
	f, err := os.Open(path)
	if err != nil {
		return mapping{}, err
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return mapping{}, err
	}
	if !st.Mode().IsRegular() {
		return mapping{}, fmt.Errorf("%s is not a regular file", path)
	}
	return mapFile(f, st.Size())
}

// externalFiles maps each external-data file once per model.
type externalFiles struct {
	byPath map[string]mapping
}

func (e *externalFiles) get(path string) ([]byte, error) {
	if m, ok := e.byPath[path]; ok {
		return m.data, nil
	}
	m, err := openMapping(path)
	if err != nil {
		return nil, err
	}
	if e.byPath == nil {
		e.byPath = map[string]mapping{}
	}
	e.byPath[path] = m
	return m.data, nil
}

func (e *externalFiles) closeAll() error {
	var errs []error
	for _, m := range e.byPath {
		errs = append(errs, unmap(m))
	}
	e.byPath = nil
	return errors.Join(errs...)
}

// externalBytes returns the byte range an external tensor points at.
func (d *decoder) externalBytes(p *tensorParts) ([]byte, error) {
	if d.dir == "" {
		return nil, errNoDir
	}
	path, err := resolveExternal(d.dir, p.location)
	if err != nil {
		return nil, err
	}
	data, err := d.ext.get(path)
	if err != nil {
		return nil, fmt.Errorf("external data: %w", err)
	}
	size := int64(len(data))
	if p.offset > size {
		return nil, fmt.Errorf("external data offset %d is past the end of %s (%d bytes)", p.offset, p.location, size)
	}
	length := size - p.offset
	if p.haveLen {
		if p.length > size-p.offset {
			return nil, fmt.Errorf("external data range [%d, %d+%d) is past the end of %s (%d bytes)", p.offset, p.offset, p.length, p.location, size)
		}
		length = p.length
	}
	return data[p.offset : p.offset+length], nil
}

// Load memory-maps the model file at path and decodes it. Tensor data
// aliases the mapping (and the mappings of any external-data files next to
// it) until Close. Errors are *Error values naming the file and element.
func Load(path string) (*Model, error) {
	m, err := openMapping(path)
	if err != nil {
		return nil, &Error{File: path, Err: err}
	}
	if len(m.data) == 0 {
		return nil, &Error{File: path, Err: errors.New("file is empty")}
	}
	dir := filepath.Dir(path)
	d := &decoder{file: path, dir: dir, ext: &externalFiles{}}
	model, err := d.decodeModel(m.data)
	if err != nil {
		_ = d.ext.closeAll()
		_ = unmap(m)
		return nil, err
	}
	model.mappings = append(model.mappings, m)
	for _, e := range d.ext.byPath {
		model.mappings = append(model.mappings, e)
	}
	return model, nil
}

// Decode decodes a model held in memory. Tensors alias b. External data
// is refused, since it is relative to a file Decode does not know.
func Decode(b []byte) (*Model, error) {
	d := &decoder{ext: &externalFiles{}}
	return d.decodeModel(b)
}

// DecodeFile decodes a model held in memory as if it were read from path:
// external data is resolved next to path and errors name it. The caller
// must Close the model to release external-data mappings.
func DecodeFile(path string, b []byte) (*Model, error) {
	d := &decoder{file: path, dir: filepath.Dir(path), ext: &externalFiles{}}
	model, err := d.decodeModel(b)
	if err != nil {
		_ = d.ext.closeAll()
		return nil, err
	}
	for _, e := range d.ext.byPath {
		model.mappings = append(model.mappings, e)
	}
	return model, nil
}

// Close releases the memory mappings behind the model's tensors; their
// data must not be used afterwards. Close is idempotent.
func (m *Model) Close() error {
	m.closeOnce.Do(func() {
		var errs []error
		for _, mp := range m.mappings {
			errs = append(errs, unmap(mp))
		}
		m.mappings = nil
		m.closeErr = errors.Join(errs...)
	})
	return m.closeErr
}

// ReadTensor reads a lone serialized TensorProto, as ONNX node tests store
// their inputs and outputs (input_0.pb, output_0.pb). The data is copied
// into Go memory, so nothing needs closing.
func ReadTensor(path string) (*Tensor, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, &Error{File: path, Err: err}
	}
	return DecodeTensor(path, b)
}

// DecodeTensor decodes a serialized TensorProto; name is used in errors.
// The tensor aliases b. External data is refused.
func DecodeTensor(name string, b []byte) (*Tensor, error) {
	d := &decoder{file: name, ext: &externalFiles{}}
	return d.decodeTensor(b, (*loc)(nil).child("tensor", -1, peekString(b, 8)))
}
