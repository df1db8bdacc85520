package npy

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"
)

// FuzzRead: Read must return an array or an error for any bytes, and an
// array it returns must write back and read again to the same shape.
func FuzzRead(f *testing.F) {
	files, _ := filepath.Glob(filepath.Join("testdata", "*.npy"))
	for _, p := range files {
		if b, err := os.ReadFile(p); err == nil {
			f.Add(b)
		}
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		a, err := Read(bytes.NewReader(b))
		if err != nil {
			return
		}
		var buf bytes.Buffer
		if err := Write(&buf, a); err != nil {
			t.Fatalf("cannot write back what was read: %v", err)
		}
		back, err := Read(&buf)
		if err != nil {
			t.Fatalf("cannot read back what was written: %v", err)
		}
		if back.DType != a.DType || len(back.Shape) != len(a.Shape) || back.Len() != a.Len() {
			t.Fatalf("round trip changed %v %v into %v %v", a.DType, a.Shape, back.DType, back.Shape)
		}
	})
}
