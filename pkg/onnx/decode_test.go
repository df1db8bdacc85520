package onnx

import (
	"bytes"
	"encoding/json"
	"errors"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// The expectations below come from scripts/onnx_decoder_fixtures.py, which
// reads the fixture files back with onnx's own Python API.

type jTensor struct {
	Name     string   `json:"name"`
	DataType DataType `json:"data_type"`
	Dims     []int64  `json:"dims"`
	Values   []any    `json:"values"`
	Strings  []string `json:"strings"`
}

type jDim struct {
	Value *int64 `json:"value"`
	Param string `json:"param"`
}

type jValueInfo struct {
	Name     string   `json:"name"`
	ElemType DataType `json:"elem_type"`
	Shape    *[]jDim  `json:"shape"`
}

type jAttribute struct {
	Name    string        `json:"name"`
	Type    int           `json:"type"`
	F       any           `json:"f"`
	I       json.Number   `json:"i"`
	S       *string       `json:"s"`
	T       *jTensor      `json:"t"`
	G       *jGraph       `json:"g"`
	Floats  []any         `json:"floats"`
	Ints    []json.Number `json:"ints"`
	Strings []string      `json:"strings"`
	Tensors []jTensor     `json:"tensors"`
	Graphs  []jGraph      `json:"graphs"`
	Dense   *jTensor      `json:"dense"`
}

type jNode struct {
	Name       string       `json:"name"`
	OpType     string       `json:"op_type"`
	Domain     string       `json:"domain"`
	Inputs     []string     `json:"inputs"`
	Outputs    []string     `json:"outputs"`
	Attributes []jAttribute `json:"attributes"`
}

type jGraph struct {
	Name         string       `json:"name"`
	Nodes        []jNode      `json:"nodes"`
	Initializers []jTensor    `json:"initializers"`
	Inputs       []jValueInfo `json:"inputs"`
	Outputs      []jValueInfo `json:"outputs"`
	ValueInfo    []jValueInfo `json:"value_info"`
	SparseDense  []jTensor    `json:"sparse_initializers_dense"`
}

type jModel struct {
	IRVersion       int64             `json:"ir_version"`
	ProducerName    string            `json:"producer_name"`
	ProducerVersion string            `json:"producer_version"`
	Domain          string            `json:"domain"`
	ModelVersion    int64             `json:"model_version"`
	DocString       string            `json:"doc_string"`
	OpsetImport     []OpsetImport     `json:"opset_import"`
	MetadataProps   map[string]string `json:"metadata_props"`
	Graph           jGraph            `json:"graph"`
}

type jError struct {
	Error   string `json:"error"`
	Element string `json:"element"`
}

type expectedFile struct {
	Generator string             `json:"generator"`
	Models    map[string]jModel  `json:"models"`
	Errors    map[string]jError  `json:"errors"`
	Tensors   map[string]jTensor `json:"tensors"`
	External  []jTensor          `json:"external"`
}

func readJSON(t testing.TB, path string, v any) {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (regenerate with /usr/bin/python3 scripts/onnx_decoder_fixtures.py)", err)
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	if err := dec.Decode(v); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
}

func loadExpected(t *testing.T) expectedFile {
	var e expectedFile
	readJSON(t, filepath.Join("testdata", "expected.json"), &e)
	return e
}

// wantFloat turns a JSON value written by the script into a float64.
func wantFloat(t *testing.T, v any) float64 {
	t.Helper()
	switch x := v.(type) {
	case json.Number:
		f, err := x.Float64()
		if err != nil {
			t.Fatalf("bad number %v", x)
		}
		return f
	case string:
		switch x {
		case "nan":
			return math.NaN()
		case "inf":
			return math.Inf(1)
		case "-inf":
			return math.Inf(-1)
		}
	case bool:
		if x {
			return 1
		}
		return 0
	}
	t.Fatalf("unexpected JSON value %#v", v)
	return 0
}

func sameFloat(a, b float64) bool {
	if math.IsNaN(a) || math.IsNaN(b) {
		return math.IsNaN(a) && math.IsNaN(b)
	}
	return a == b && math.Signbit(a) == math.Signbit(b)
}

func checkTensor(t *testing.T, where string, got *Tensor, want jTensor) {
	t.Helper()
	if got == nil {
		t.Errorf("%s: tensor missing", where)
		return
	}
	if got.Name != want.Name || got.DataType != want.DataType || !equalInts(got.Dims, want.Dims) {
		t.Errorf("%s: got %q %v %v, want %q %v %v", where, got.Name, got.DataType, got.Dims, want.Name, want.DataType, want.Dims)
		return
	}
	if want.DataType == String {
		if len(got.Strings) != len(want.Strings) {
			t.Errorf("%s: %d strings, want %d", where, len(got.Strings), len(want.Strings))
			return
		}
		for i := range want.Strings {
			if string(got.Strings[i]) != want.Strings[i] {
				t.Errorf("%s: string %d = %q, want %q", where, i, got.Strings[i], want.Strings[i])
			}
		}
		return
	}
	if int64(len(want.Values)) != got.NumElements() {
		t.Errorf("%s: %d elements, want %d", where, got.NumElements(), len(want.Values))
		return
	}
	switch want.DataType {
	case Float, Float16, BFloat16, Double:
		f32, err := got.Float32s()
		if err != nil {
			t.Fatalf("%s: %v", where, err)
		}
		for i, v := range want.Values {
			w := wantFloat(t, v)
			g := float64(f32[i])
			if want.DataType == Double {
				g = got.Float64[i]
			}
			if !sameFloat(g, w) {
				t.Errorf("%s: element %d = %v, want %v", where, i, g, w)
				return
			}
		}
	case Uint64:
		for i, v := range want.Values {
			w, err := strconv.ParseUint(string(v.(json.Number)), 10, 64)
			if err != nil || got.Uint64[i] != w {
				t.Errorf("%s: element %d = %v, want %v", where, i, got.Uint64[i], v)
				return
			}
		}
	default:
		ints, err := got.Int64s()
		if err != nil {
			t.Fatalf("%s: %v", where, err)
		}
		for i, v := range want.Values {
			var w int64
			if b, ok := v.(bool); ok {
				if b {
					w = 1
				}
			} else {
				w, err = v.(json.Number).Int64()
				if err != nil {
					t.Fatalf("%s: %v", where, err)
				}
			}
			if ints[i] != w {
				t.Errorf("%s: element %d = %v, want %v", where, i, ints[i], w)
				return
			}
		}
	}
}

func equalInts(a, b []int64) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

func checkValueInfo(t *testing.T, where string, got *ValueInfo, want jValueInfo) {
	t.Helper()
	if got.Name != want.Name || got.ElemType != want.ElemType {
		t.Errorf("%s: got %q %v, want %q %v", where, got.Name, got.ElemType, want.Name, want.ElemType)
	}
	if want.Shape == nil {
		if got.Shape != nil {
			t.Errorf("%s: shape %v, want unknown (nil)", where, got.Shape)
		}
		return
	}
	ws := *want.Shape
	if got.Shape == nil || len(got.Shape) != len(ws) {
		t.Errorf("%s: shape %v, want %d dims", where, got.Shape, len(ws))
		return
	}
	for i, d := range ws {
		wantDim := Dim{Value: -1, Param: d.Param}
		if d.Value != nil {
			wantDim.Value = *d.Value
		}
		if got.Shape[i] != wantDim {
			t.Errorf("%s: dim %d = %+v, want %+v", where, i, got.Shape[i], wantDim)
		}
	}
}

func checkGraph(t *testing.T, where string, got *Graph, want jGraph) {
	t.Helper()
	if got.Name != want.Name {
		t.Errorf("%s: name %q, want %q", where, got.Name, want.Name)
	}
	if len(got.Nodes) != len(want.Nodes) {
		t.Fatalf("%s: %d nodes, want %d", where, len(got.Nodes), len(want.Nodes))
	}
	for i, wn := range want.Nodes {
		gn := got.Nodes[i]
		nw := where + "/node " + wn.Name
		if gn.Name != wn.Name || gn.OpType != wn.OpType || gn.Domain != wn.Domain ||
			strings.Join(gn.Inputs, ",") != strings.Join(wn.Inputs, ",") || strings.Join(gn.Outputs, ",") != strings.Join(wn.Outputs, ",") {
			t.Errorf("%s: got %+v, want %+v", nw, *gn, wn)
		}
		if len(gn.Attributes) != len(wn.Attributes) {
			t.Fatalf("%s: %d attributes, want %d", nw, len(gn.Attributes), len(wn.Attributes))
		}
		for j, wa := range wn.Attributes {
			checkAttribute(t, nw+"/attr "+wa.Name, gn.Attributes[j], wa)
		}
	}
	wantInits := append(append([]jTensor{}, want.Initializers...), want.SparseDense...)
	if len(got.Initializers) != len(wantInits) {
		t.Fatalf("%s: %d initializers, want %d", where, len(got.Initializers), len(wantInits))
	}
	for i, wt := range wantInits {
		checkTensor(t, where+"/initializer "+wt.Name, got.Initializers[i], wt)
	}
	for _, l := range []struct {
		what string
		got  []*ValueInfo
		want []jValueInfo
	}{{"input", got.Inputs, want.Inputs}, {"output", got.Outputs, want.Outputs}, {"value_info", got.ValueInfo, want.ValueInfo}} {
		if len(l.got) != len(l.want) {
			t.Fatalf("%s: %d %ss, want %d", where, len(l.got), l.what, len(l.want))
		}
		for i := range l.want {
			checkValueInfo(t, where+"/"+l.what+" "+l.want[i].Name, l.got[i], l.want[i])
		}
	}
}

func checkAttribute(t *testing.T, where string, got *Attribute, want jAttribute) {
	t.Helper()
	if got.Name != want.Name || int(got.Type) != want.Type {
		t.Fatalf("%s: got %q type %d, want %q type %d", where, got.Name, got.Type, want.Name, want.Type)
	}
	switch got.Type {
	case AttrFloat:
		if !sameFloat(float64(got.F), wantFloat(t, want.F)) {
			t.Errorf("%s: f = %v, want %v", where, got.F, want.F)
		}
	case AttrInt:
		if w, _ := want.I.Int64(); got.I != w {
			t.Errorf("%s: i = %v, want %v", where, got.I, w)
		}
	case AttrString:
		if string(got.S) != *want.S {
			t.Errorf("%s: s = %q, want %q", where, got.S, *want.S)
		}
	case AttrTensor:
		checkTensor(t, where, got.T, *want.T)
	case AttrGraph:
		checkGraph(t, where, got.G, *want.G)
	case AttrFloats:
		if len(got.Floats) != len(want.Floats) {
			t.Fatalf("%s: floats %v, want %v", where, got.Floats, want.Floats)
		}
		for i := range want.Floats {
			if !sameFloat(float64(got.Floats[i]), wantFloat(t, want.Floats[i])) {
				t.Errorf("%s: floats %v, want %v", where, got.Floats, want.Floats)
			}
		}
	case AttrInts:
		if len(got.Ints) != len(want.Ints) {
			t.Fatalf("%s: ints %v, want %v", where, got.Ints, want.Ints)
		}
		for i := range want.Ints {
			if w, _ := want.Ints[i].Int64(); got.Ints[i] != w {
				t.Errorf("%s: ints %v, want %v", where, got.Ints, want.Ints)
			}
		}
	case AttrStrings:
		if len(got.Strings) != len(want.Strings) {
			t.Fatalf("%s: strings %q, want %q", where, got.Strings, want.Strings)
		}
		for i := range want.Strings {
			if string(got.Strings[i]) != want.Strings[i] {
				t.Errorf("%s: strings %q, want %q", where, got.Strings, want.Strings)
			}
		}
	case AttrTensors:
		if len(got.Tensors) != len(want.Tensors) {
			t.Fatalf("%s: %d tensors, want %d", where, len(got.Tensors), len(want.Tensors))
		}
		for i := range want.Tensors {
			checkTensor(t, where, got.Tensors[i], want.Tensors[i])
		}
	case AttrGraphs:
		if len(got.Graphs) != len(want.Graphs) {
			t.Fatalf("%s: %d graphs, want %d", where, len(got.Graphs), len(want.Graphs))
		}
		for i := range want.Graphs {
			checkGraph(t, where, got.Graphs[i], want.Graphs[i])
		}
	case AttrSparse:
		checkTensor(t, where, got.T, *want.Dense)
	default:
		t.Errorf("%s: attribute type %d not covered by the fixture", where, got.Type)
	}
}

func checkModel(t *testing.T, name string, got *Model, want jModel) {
	t.Helper()
	if got.IRVersion != want.IRVersion || got.ProducerName != want.ProducerName || got.ProducerVersion != want.ProducerVersion ||
		got.Domain != want.Domain || got.ModelVersion != want.ModelVersion || got.DocString != want.DocString {
		t.Errorf("%s: header %d %q %q %q %d %q, want %+v", name, got.IRVersion, got.ProducerName, got.ProducerVersion,
			got.Domain, got.ModelVersion, got.DocString, want)
	}
	if len(got.OpsetImports) != len(want.OpsetImport) {
		t.Errorf("%s: opsets %v, want %v", name, got.OpsetImports, want.OpsetImport)
	} else {
		for i := range want.OpsetImport {
			if got.OpsetImports[i] != want.OpsetImport[i] {
				t.Errorf("%s: opsets %v, want %v", name, got.OpsetImports, want.OpsetImport)
			}
		}
	}
	if len(got.MetadataProps) != len(want.MetadataProps) {
		t.Errorf("%s: metadata %v, want %v", name, got.MetadataProps, want.MetadataProps)
	}
	for k, v := range want.MetadataProps {
		if got.MetadataProps[k] != v {
			t.Errorf("%s: metadata %q = %q, want %q", name, k, got.MetadataProps[k], v)
		}
	}
	checkGraph(t, name+": graph", got.Graph, want.Graph)
}

func TestModelsMatchOnnxPython(t *testing.T) {
	e := loadExpected(t)
	if len(e.Models) < 4 {
		t.Fatalf("expected.json lists %d models", len(e.Models))
	}
	for name, want := range e.Models {
		t.Run(name, func(t *testing.T) {
			path := filepath.Join("testdata", name)
			m, err := Load(path)
			if err != nil {
				t.Fatal(err)
			}
			defer m.Close()
			if m.Path != path {
				t.Errorf("Path = %q, want %q", m.Path, path)
			}
			checkModel(t, name, m, want)

			// Decode over bytes reads the same thing.
			b, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			m2, err := Decode(b)
			if err != nil {
				t.Fatal(err)
			}
			checkModel(t, name+" (Decode)", m2, want)
		})
	}
}

func TestOpsetLookup(t *testing.T) {
	m, err := Load(filepath.Join("testdata", "shapes.onnx"))
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	if got := m.Opset("ai.onnx"); got != 14 {
		t.Errorf("Opset(ai.onnx) = %d, want 14", got)
	}
	if got := m.Opset("com.microsoft"); got != 1 {
		t.Errorf("Opset(com.microsoft) = %d, want 1", got)
	}
	if got := m.Opset("nope"); got != 0 {
		t.Errorf("Opset(nope) = %d, want 0", got)
	}
}

func TestInputsMayShareNamesWithInitializers(t *testing.T) {
	m, err := Load(filepath.Join("testdata", "input_shadowed_by_initializer.onnx"))
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	if init := m.Graph.Initializer("x"); init == nil || init.Float32[0] != 3 {
		t.Errorf("initializer x = %+v, want [3]", init)
	}
}

func TestExternalData(t *testing.T) {
	e := loadExpected(t)
	path := filepath.Join("testdata", "ext", "model.onnx")
	m, err := Load(path)
	if err != nil {
		t.Fatal(err)
	}
	if len(m.Graph.Initializers) != len(e.External) {
		t.Fatalf("%d initializers, want %d", len(m.Graph.Initializers), len(e.External))
	}
	for i, want := range e.External {
		got := m.Graph.Initializers[i]
		checkTensor(t, want.Name, got, want)
		if got.External == nil {
			t.Errorf("%s: External not set", want.Name)
		}
	}
	if err := m.Close(); err != nil {
		t.Fatal(err)
	}
	if err := m.Close(); err != nil {
		t.Fatalf("second Close: %v", err)
	}

	// Decode has no directory to resolve against: refused, not guessed.
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := Decode(b); err == nil || !strings.Contains(err.Error(), "ext_a") {
		t.Errorf("Decode of a model with external data: err = %v, want a refusal naming ext_a", err)
	}
	m2, err := DecodeFile(path, b)
	if err != nil {
		t.Fatal(err)
	}
	checkTensor(t, "DecodeFile", m2.Graph.Initializers[0], e.External[0])
	m2.Close()
}

func TestBadInputsFail(t *testing.T) {
	e := loadExpected(t)
	if len(e.Errors) < 20 {
		t.Fatalf("expected.json lists %d bad inputs", len(e.Errors))
	}
	for name, want := range e.Errors {
		t.Run(name, func(t *testing.T) {
			path := filepath.Join("testdata", name)
			m, err := Load(path)
			if err == nil {
				m.Close()
				t.Fatalf("Load succeeded, want an error containing %q", want.Error)
			}
			msg := err.Error()
			if !strings.Contains(msg, path) {
				t.Errorf("error %q does not name the file %s", msg, path)
			}
			if !strings.Contains(strings.ToLower(msg), strings.ToLower(want.Error)) {
				t.Errorf("error %q does not say %q", msg, want.Error)
			}
			if !strings.Contains(msg, want.Element) {
				t.Errorf("error %q does not name %q", msg, want.Element)
			}
			var oe *Error
			if name != "bad/empty.onnx" && !errors.As(err, &oe) {
				t.Errorf("error %T is not an *onnx.Error", err)
			}
			// Decode over the same bytes must fail too (never panic).
			if b, rerr := os.ReadFile(path); rerr == nil {
				if _, err := Decode(b); err == nil {
					t.Errorf("Decode succeeded on %s", name)
				}
			}
		})
	}
}

func TestLoneTensors(t *testing.T) {
	e := loadExpected(t)
	for name, want := range e.Tensors {
		got, err := ReadTensor(filepath.Join("testdata", name))
		if err != nil {
			t.Errorf("%s: %v", name, err)
			continue
		}
		checkTensor(t, name, got, want)
	}
}

func TestMissingFileNamesIt(t *testing.T) {
	_, err := Load(filepath.Join("testdata", "does-not-exist.onnx"))
	if err == nil || !strings.Contains(err.Error(), "does-not-exist.onnx") {
		t.Errorf("err = %v", err)
	}
}

func TestResolveExternal(t *testing.T) {
	dir := filepath.Join("models", "clip")
	for loc, ok := range map[string]bool{
		"w.bin":              true,
		"sub/w.bin":          true,
		"./a/../w.bin":       true,
		"../w.bin":           false,
		"a/../../w.bin":      false,
		"..":                 false,
		"/etc/passwd":        false,
		"":                   false,
		"a\x00b":             false,
		"a/b/../../../x.bin": false,
	} {
		_, err := resolveExternal(dir, loc)
		if (err == nil) != ok {
			t.Errorf("resolveExternal(%q) err = %v, want ok=%v", loc, err, ok)
		}
	}
}
