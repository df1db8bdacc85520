package npy

import (
	"bytes"
	"encoding/json"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// testdata/*.npy and npy.json are written by numpy
// (scripts/onnx_decoder_fixtures.py); npy.json lists each file's dtype,
// shape and values as numpy reads them.
type fixture struct {
	DType  string  `json:"dtype"`
	Shape  []int64 `json:"shape"`
	Values []any   `json:"values"`
}

type fixtures struct {
	Files   map[string]fixture `json:"files"`
	Refused map[string]string  `json:"refused"`
}

func readFixtures(t *testing.T) fixtures {
	b, err := os.ReadFile(filepath.Join("testdata", "npy.json"))
	if err != nil {
		t.Fatalf("%v (regenerate with /usr/bin/python3 scripts/onnx_decoder_fixtures.py)", err)
	}
	var f fixtures
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	if err := dec.Decode(&f); err != nil {
		t.Fatal(err)
	}
	return f
}

func num(t *testing.T, v any) float64 {
	switch x := v.(type) {
	case json.Number:
		f, err := x.Float64()
		if err != nil {
			t.Fatal(err)
		}
		return f
	case bool:
		if x {
			return 1
		}
		return 0
	case string:
		switch x {
		case "inf":
			return math.Inf(1)
		case "-inf":
			return math.Inf(-1)
		case "nan":
			return math.NaN()
		}
	}
	t.Fatalf("bad value %#v", v)
	return 0
}

// values returns the array's elements as float64 (exact for every
// supported dtype except int64 beyond 2^53, compared separately).
func values(a *Array) []float64 {
	var out []float64
	switch d := a.Data.(type) {
	case []float64:
		out = append(out, d...)
	case []int64:
		for _, v := range d {
			out = append(out, float64(v))
		}
	default:
		for _, v := range a.Float32s() {
			out = append(out, float64(v))
		}
	}
	return out
}

func checkArray(t *testing.T, name string, a *Array, want fixture) {
	t.Helper()
	if a.DType.String() != want.DType && !(want.DType == "|b1" && a.DType == Bool) {
		t.Errorf("%s: dtype %v, want %s", name, a.DType, want.DType)
	}
	if len(a.Shape) != len(want.Shape) {
		t.Fatalf("%s: shape %v, want %v", name, a.Shape, want.Shape)
	}
	for i := range want.Shape {
		if a.Shape[i] != want.Shape[i] {
			t.Fatalf("%s: shape %v, want %v", name, a.Shape, want.Shape)
		}
	}
	got := values(a)
	if len(got) != len(want.Values) {
		t.Fatalf("%s: %d values, want %d", name, len(got), len(want.Values))
	}
	for i, v := range want.Values {
		w := num(t, v)
		if !(got[i] == w && math.Signbit(got[i]) == math.Signbit(w)) && !(math.IsNaN(w) && math.IsNaN(got[i])) {
			t.Errorf("%s: element %d = %v, want %v", name, i, got[i], w)
		}
	}
	if d, ok := a.Data.([]int64); ok {
		for i, v := range want.Values {
			if w, _ := v.(json.Number).Int64(); d[i] != w {
				t.Errorf("%s: element %d = %d, want %d", name, i, d[i], w)
			}
		}
	}
}

func TestReadNumpyFiles(t *testing.T) {
	f := readFixtures(t)
	if len(f.Files) < 10 {
		t.Fatalf("npy.json lists %d files", len(f.Files))
	}
	for name, want := range f.Files {
		a, err := ReadFile(filepath.Join("testdata", name))
		if err != nil {
			t.Errorf("%v", err)
			continue
		}
		checkArray(t, name, a, want)
	}
}

func TestRefusedFiles(t *testing.T) {
	f := readFixtures(t)
	for name, want := range f.Refused {
		path := filepath.Join("testdata", name)
		_, err := ReadFile(path)
		if err == nil || !strings.Contains(err.Error(), want) || !strings.Contains(err.Error(), path) {
			t.Errorf("%s: err = %v, want one naming the file and saying %q", name, err, want)
		}
	}
}

func TestTruncatedAndGarbage(t *testing.T) {
	b, err := os.ReadFile(filepath.Join("testdata", "f32_2x3.npy"))
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		name string
		data []byte
		want string
	}{
		{"empty", nil, "too short"},
		{"magic", []byte("PK\x03\x04 not numpy at all"), "bad magic"},
		{"header cut", b[:20], "truncated header"},
		{"data cut", b[:len(b)-3], "truncated data"},
		{"lying shape", bytes.Replace(b, []byte("(2, 3)"), []byte("(9999999999, 3)"), 1), "truncated data"},
		{"negative shape", bytes.Replace(b, []byte("(2, 3)"), []byte("(-2, 3)"), 1), "bad dimension"},
	} {
		_, err := Read(bytes.NewReader(c.data))
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: err = %v, want %q", c.name, err, c.want)
		}
	}
}

// Arrays written by Write are read back by numpy itself to the same dtype,
// shape and values.
func TestRoundTripThroughNumpy(t *testing.T) {
	py := "/usr/bin/python3"
	if err := exec.Command(py, "-c", "import numpy").Run(); err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("%s with numpy is required under CI: %v", py, err)
		}
		t.Skipf("%s with numpy is not available: %v", py, err)
	}
	f := readFixtures(t)
	dir := t.TempDir()
	var names []string
	for name := range f.Files {
		a, err := ReadFile(filepath.Join("testdata", name))
		if err != nil {
			t.Fatal(err)
		}
		// Rebuild through New so the writer sees a freshly made array.
		b, err := New(a.Shape, a.Data)
		if err != nil {
			t.Fatal(err)
		}
		if err := WriteFile(filepath.Join(dir, name), b); err != nil {
			t.Fatal(err)
		}
		names = append(names, name)
	}
	script := `
import json, sys, os, numpy as np
out = {}
for name in sys.argv[2:]:
    a = np.load(os.path.join(sys.argv[1], name))
    if not a.flags.c_contiguous: raise SystemExit(name + " not C order")
    vals = []
    for v in a.reshape(-1).tolist():
        if isinstance(v, float) and v != v: v = "nan"
        elif isinstance(v, float) and v in (float("inf"), float("-inf")): v = "inf" if v > 0 else "-inf"
        vals.append(v)
    out[name] = {"dtype": a.dtype.str, "shape": list(a.shape), "values": vals}
print(json.dumps(out))
`
	cmd := exec.Command(py, append([]string{"-c", script, dir}, names...)...)
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("numpy could not read our files: %v", err)
	}
	var back map[string]fixture
	dec := json.NewDecoder(bytes.NewReader(out))
	dec.UseNumber()
	if err := dec.Decode(&back); err != nil {
		t.Fatal(err)
	}
	for _, name := range names {
		got, want := back[name], f.Files[name]
		if got.DType != want.DType {
			t.Errorf("%s: numpy reads dtype %s, want %s", name, got.DType, want.DType)
		}
		if len(got.Shape) != len(want.Shape) || len(got.Values) != len(want.Values) {
			t.Errorf("%s: numpy reads shape %v (%d values), want %v", name, got.Shape, len(got.Values), want.Shape)
			continue
		}
		for i := range want.Values {
			if g, w := num(t, got.Values[i]), num(t, want.Values[i]); g != w && !(g != g && w != w) {
				t.Errorf("%s: numpy reads element %d = %v, want %v", name, i, g, w)
			}
		}
	}
}

func TestNewRejectsMismatch(t *testing.T) {
	if _, err := New([]int64{2, 2}, []float32{1, 2, 3}); err == nil {
		t.Error("New accepted 3 values for shape [2 2]")
	}
	if _, err := New([]int64{2}, []string{"a", "b"}); err == nil {
		t.Error("New accepted []string")
	}
}
