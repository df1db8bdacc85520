package imageproc

import (
	"encoding/binary"
	"fmt"
	"math"
	"os"
	"regexp"
	"strconv"
	"strings"
)

// npyArray is a NumPy .npy file as the golden scripts write them
// (version 1/2, little-endian uint8 or float32, C order).
type npyArray struct {
	dtype string
	shape []int
	u8    []uint8
	f32   []float32
}

func readNPY(path string) (*npyArray, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	if len(b) < 10 || string(b[:6]) != "\x93NUMPY" {
		return nil, fmt.Errorf("%s: not a .npy file", path)
	}
	var hlen, off int
	if b[6] == 1 {
		hlen, off = int(binary.LittleEndian.Uint16(b[8:])), 10
	} else {
		hlen, off = int(binary.LittleEndian.Uint32(b[8:])), 12
	}
	header := string(b[off : off+hlen])
	data := b[off+hlen:]
	descr := regexp.MustCompile(`'descr':\s*'([^']+)'`).FindStringSubmatch(header)
	shapeM := regexp.MustCompile(`'shape':\s*\(([^)]*)\)`).FindStringSubmatch(header)
	if descr == nil || shapeM == nil || strings.Contains(header, "'fortran_order': True") {
		return nil, fmt.Errorf("%s: unsupported header %q", path, header)
	}
	a := &npyArray{dtype: descr[1]}
	n := 1
	for _, s := range strings.Split(shapeM[1], ",") {
		s = strings.TrimSpace(s)
		if s == "" {
			continue
		}
		v, err := strconv.Atoi(s)
		if err != nil {
			return nil, fmt.Errorf("%s: shape %q", path, shapeM[1])
		}
		a.shape = append(a.shape, v)
		n *= v
	}
	switch a.dtype {
	case "|u1":
		a.u8 = data[:n]
	case "<u2": // kept as its little-endian bytes
		a.u8 = data[:2*n]
	case "<f4":
		a.f32 = make([]float32, n)
		for i := range a.f32 {
			a.f32[i] = math.Float32frombits(binary.LittleEndian.Uint32(data[4*i:]))
		}
	default:
		return nil, fmt.Errorf("%s: dtype %s not handled", path, a.dtype)
	}
	return a, nil
}
