package index

import (
	"encoding/binary"
	"io"
	"math"
	"os"
)

// readFile is mapFile's fallback: the file read into memory.
func readFile(f *os.File, size int64) ([]byte, func() error, error) {
	data := make([]byte, size)
	if _, err := f.ReadAt(data, 0); err != nil && err != io.EOF {
		return nil, nil, err
	}
	return data, nil, nil
}

var littleEndian = binary.NativeEndian.Uint16([]byte{1, 0}) == 1

func float32bits(f float32) uint32 { return math.Float32bits(f) }

// float32frombitsLE reinterprets a float32 read in native order from
// little-endian bytes (big-endian hosts only).
func float32frombitsLE(f float32) float32 {
	b := math.Float32bits(f)
	return math.Float32frombits(b>>24 | (b>>8)&0xff00 | (b<<8)&0xff0000 | b<<24)
}
