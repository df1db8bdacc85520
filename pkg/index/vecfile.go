package index

import (
	"bufio"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"
	"unsafe"
)

// The vector file, FILE.vectors beside the index FILE, is the images
// table's vectors laid out for searching, so that a cold `clip search`
// maps them instead of stepping through a million SQLite rows (about 4 s
// for 1M rows in modernc.org/sqlite, plus 4 s decoding them into one
// slice; the scan itself is tens of milliseconds). It is derived data:
// written whole to a temporary file and renamed over the old one (by
// `clip index` at the end of a run, and by Load when it finds it missing
// or stale), and used only when its header names the index's current
// uid and generation (generation.go), so a file that lags behind the
// index, or belongs to another index, is never read. Blocks of vectors
// packed into fewer SQLite rows were the other candidate; they make
// every write rewrite a block and still decode every row on load.
//
// Layout (little-endian), sections 64-byte aligned in the order below:
//
//	header (vecHeaderSize bytes): magic, version, dim, count, generation,
//	  uid, encoding, the sections' offsets, CRC-32 of the fields before it
//	scales  float32 × count      int8 scale of each vector
//	int8    int8 × count·dim     scan codes: round(x / scale)
//	half    uint16 × count·dim   float16 vectors, as in the images table
//	ends    uint64 × count       end of each path in the path bytes
//	paths   the paths, concatenated
const (
	vecMagic      = "CLIPVEC\x00"
	vecVersion    = 1
	vecEncoding   = "int8+float16"
	vecHeaderSize = 4096 // a page: the half section stays aligned in the mapping
	vecFieldsSize = 128
)

// VectorFile is the vector file derived from the index at indexPath.
func VectorFile(indexPath string) string { return indexPath + ".vectors" }

type vecHeader struct {
	dim, count int
	gen        generation
	scales     int64 // section offsets
	int8s      int64
	halves     int64
	ends       int64
	paths      int64
	size       int64 // file size
}

func align64(x int64) int64 { return (x + 63) &^ 63 }

func layout(dim, count int, pathBytes int64) vecHeader {
	h := vecHeader{dim: dim, count: count}
	n, d := int64(count), int64(dim)
	h.scales = vecHeaderSize
	h.int8s = align64(h.scales + 4*n)
	h.halves = align64(h.int8s + n*d)
	h.ends = align64(h.halves + 2*n*d)
	h.paths = align64(h.ends + 8*n)
	h.size = h.paths + pathBytes
	return h
}

func (h vecHeader) marshal() []byte {
	b := make([]byte, vecHeaderSize)
	copy(b, vecMagic)
	le := binary.LittleEndian
	le.PutUint32(b[8:], vecVersion)
	le.PutUint32(b[12:], uint32(h.dim))
	le.PutUint64(b[16:], uint64(h.count))
	le.PutUint64(b[24:], uint64(h.gen.n))
	copy(b[32:64], h.gen.uid)
	copy(b[64:80], vecEncoding)
	for i, off := range []int64{h.scales, h.int8s, h.halves, h.ends, h.paths, h.size} {
		le.PutUint64(b[80+8*i:], uint64(off))
	}
	le.PutUint32(b[vecFieldsSize:], crc32.ChecksumIEEE(b[:vecFieldsSize]))
	return b
}

// errStale says the vector file is missing, damaged, or not of the index's
// current generation: Load reads SQLite instead.
var errStale = errors.New("vector file stale")

func unmarshalHeader(b []byte, gen generation, dim int, size int64) (vecHeader, error) {
	le := binary.LittleEndian
	switch {
	case len(b) < vecHeaderSize || string(b[:8]) != vecMagic || le.Uint32(b[8:]) != vecVersion:
		return vecHeader{}, fmt.Errorf("%w: not a version %d vector file", errStale, vecVersion)
	case le.Uint32(b[vecFieldsSize:]) != crc32.ChecksumIEEE(b[:vecFieldsSize]):
		return vecHeader{}, fmt.Errorf("%w: header checksum", errStale)
	case string(b[64:64+len(vecEncoding)]) != vecEncoding:
		return vecHeader{}, fmt.Errorf("%w: encoding", errStale)
	}
	h := layout(int(le.Uint32(b[12:])), int(le.Uint64(b[16:])), 0)
	h.gen = generation{uid: string(b[32:64]), n: int64(le.Uint64(b[24:])), ok: true}
	h.size = int64(le.Uint64(b[80+8*5:]))
	switch {
	case !gen.ok || h.gen.uid != gen.uid || h.gen.n != gen.n:
		return vecHeader{}, fmt.Errorf("%w: generation %s/%d, index at %s/%d", errStale, h.gen.uid, h.gen.n, gen.uid, gen.n)
	case h.dim != dim:
		return vecHeader{}, fmt.Errorf("%w: dimension %d, index has %d", errStale, h.dim, dim)
	case h.size != size || h.size < h.paths:
		return vecHeader{}, fmt.Errorf("%w: %d bytes, header says %d", errStale, size, h.size)
	}
	for i, off := range []int64{h.scales, h.int8s, h.halves, h.ends, h.paths} {
		if int64(le.Uint64(b[80+8*i:])) != off {
			return vecHeader{}, fmt.Errorf("%w: section offsets", errStale)
		}
	}
	return h, nil
}

// readVectorFile maps the vector file at path when it is of generation gen
// and dimension dim, else returns an error wrapping errStale.
func readVectorFile(path string, gen generation, dim int) (*Vectors, error) {
	return readVectorFileWith(path, gen, dim, mapFile)
}

// readVectorFileWith is readVectorFile with the mapping function given
// (tests compare mapFile with the readFile fallback).
func readVectorFileWith(path string, gen generation, dim int, mapFile func(*os.File, int64) ([]byte, func() error, error)) (*Vectors, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", errStale, err)
	}
	keepOpen := false
	defer func() {
		if !keepOpen {
			f.Close()
		}
	}()
	st, err := f.Stat()
	if err != nil {
		return nil, err
	}
	head := make([]byte, vecHeaderSize)
	if _, err := io.ReadFull(f, head); err != nil {
		return nil, fmt.Errorf("%w: %w", errStale, err)
	}
	h, err := unmarshalHeader(head, gen, dim, st.Size())
	if err != nil {
		return nil, err
	}
	data, unmap, err := mapFile(f, h.size)
	if err != nil {
		return nil, fmt.Errorf("vector file %s: %w", path, err)
	}
	n, d := h.count, h.dim
	v := &Vectors{Dim: d, unmap: unmap}
	if n == 0 {
		return v, nil
	}
	v.scale = unsafe.Slice((*float32)(unsafe.Pointer(&data[h.scales])), n)
	v.q8 = unsafe.Slice((*int8)(unsafe.Pointer(&data[h.int8s])), n*d)
	if unmap != nil {
		willNeed(data[h.int8s : h.int8s+int64(n*d)])
		// Rescoring reads its few rows with pread: through the mapping,
		// each touch mapped a whole large folio (up to 2 MB on Linux 6.x),
		// and 5 searches at 1M vectors left 370 MB more resident.
		keepOpen, v.file, v.halfOffset = true, f, h.halves
	}
	v.Codes = unsafe.Slice((*uint16)(unsafe.Pointer(&data[h.halves])), n*d)
	ends := unsafe.Slice((*uint64)(unsafe.Pointer(&data[h.ends])), n)
	// The paths are copied to the heap (one string, sliced): a Hit's path
	// outlives the mapping.
	all := string(data[h.paths:h.size])
	v.Paths = make([]string, n)
	var start uint64
	for i, end := range ends {
		if end < start || end > uint64(len(all)) {
			v.Close()
			return nil, fmt.Errorf("%w: path %d ends at %d", errStale, i, end)
		}
		v.Paths[i] = all[start:end]
		start = end
	}
	if !littleEndian {
		// The sections are little-endian; swap them into a heap copy.
		scale, q8, codes := append([]float32(nil), v.scale...), append([]int8(nil), v.q8...), append([]uint16(nil), v.Codes...)
		for i, s := range scale {
			scale[i] = float32frombitsLE(s)
		}
		for i, c := range codes {
			codes[i] = c>>8 | c<<8
		}
		v.Close()
		v.scale, v.q8, v.Codes = scale, q8, codes
	}
	return v, nil
}

// writeVectorFile writes v (all of the index's vectors, quantized) as
// generation gen's vector file at path: a temporary file beside it,
// synced, then renamed over it, so a reader sees the old file or the new
// one, never a part.
func writeVectorFile(path string, v *Vectors, gen generation) (err error) {
	n, d := v.Len(), v.Dim
	if len(v.q8) != n*d || len(v.scale) != n || len(v.Codes) != n*d {
		return fmt.Errorf("vector file %s: vectors not quantized", path)
	}
	var pathBytes int64
	for _, p := range v.Paths {
		pathBytes += int64(len(p))
	}
	h := layout(d, n, pathBytes)
	h.gen = gen
	removeAbandoned(path)
	tmp, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".*.tmp")
	if err != nil {
		return err
	}
	defer func() {
		if err != nil {
			tmp.Close()
			os.Remove(tmp.Name())
		}
	}()
	// Readable by whoever can read the index (CreateTemp makes it 0600).
	mode := os.FileMode(0o644)
	if st, err := os.Stat(strings.TrimSuffix(path, ".vectors")); err == nil {
		mode = st.Mode().Perm()
	}
	if err = tmp.Chmod(mode); err != nil {
		return err
	}
	w := bufio.NewWriterSize(tmp, 1<<20)
	var off int64
	put := func(at int64, b []byte) {
		if err != nil {
			return
		}
		if pad := at - off; pad > 0 {
			_, err = w.Write(make([]byte, pad))
		}
		if err == nil {
			_, err = w.Write(b)
		}
		off = at + int64(len(b))
	}
	put(0, h.marshal())
	le := binary.LittleEndian
	buf := make([]byte, 0, 8*max(n, 1))
	for _, s := range v.scale {
		buf = le.AppendUint32(buf, float32bits(s))
	}
	put(h.scales, buf)
	if n > 0 {
		put(h.int8s, unsafe.Slice((*byte)(unsafe.Pointer(&v.q8[0])), n*d))
		// In place where the bytes are already little-endian: a copy
		// would hold another 1 GB at 1M vectors.
		if littleEndian {
			put(h.halves, unsafe.Slice((*byte)(unsafe.Pointer(&v.Codes[0])), 2*n*d))
		} else {
			put(h.halves, halfBytes(v.Codes))
		}
	}
	buf = buf[:0]
	var end uint64
	for _, p := range v.Paths {
		end += uint64(len(p))
		buf = le.AppendUint64(buf, end)
	}
	put(h.ends, buf)
	put(h.paths, nil)
	for _, p := range v.Paths {
		if err == nil {
			_, err = w.WriteString(p)
		}
	}
	if err == nil {
		err = w.Flush()
	}
	if err == nil {
		err = tmp.Sync()
	}
	if err == nil {
		err = tmp.Close()
	}
	if err == nil {
		err = os.Rename(tmp.Name(), path)
	}
	if err != nil {
		return fmt.Errorf("vector file %s: %w", path, err)
	}
	return nil
}

// removeAbandoned deletes the temporary files of writers of path killed
// mid-write (a vector file of 1M images is 1.6 GB): those not written to
// for ten minutes, when a live writer writes every few milliseconds.
func removeAbandoned(path string) {
	tmps, _ := filepath.Glob(filepath.Join(filepath.Dir(path), "."+globEscape(filepath.Base(path))+".*.tmp"))
	for _, t := range tmps {
		if st, err := os.Stat(t); err == nil && time.Since(st.ModTime()) > 10*time.Minute {
			os.Remove(t)
		}
	}
}

func globEscape(s string) string {
	return strings.NewReplacer(`\`, `\\`, `*`, `\*`, `?`, `\?`, `[`, `\[`).Replace(s)
}

// WriteVectorFile brings the vector file beside the index up to date
// (`clip index` calls it at the end of a run): nothing when it already is,
// else the vectors are read from SQLite and written anew.
func (ix *Index) WriteVectorFile(ctx context.Context) error {
	m, ok, err := ix.Meta(ctx)
	if err != nil || !ok {
		return err
	}
	gen, err := ix.generation(ctx)
	if err != nil || !gen.ok {
		return err
	}
	if v, err := readVectorFile(VectorFile(ix.path), gen, m.Dim); err == nil {
		return v.Close()
	}
	v, gen, err := ix.loadRows(ctx, m.Dim)
	if err != nil || !gen.ok {
		return err
	}
	return writeVectorFile(VectorFile(ix.path), v, gen)
}
