package onnx

import (
	"encoding/json"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// libonnxFiles lists the model.onnx files of Debian's libonnx-testdata, or
// skips (fails under CI=true) when the package is not installed.
func libonnxFiles(t *testing.T) []string {
	t.Helper()
	out, err := exec.Command("dpkg", "-L", "libonnx-testdata").Output()
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("libonnx-testdata is not installed (dpkg -L: %v); .ci/run installs it", err)
		}
		t.Skip("libonnx-testdata is not installed (apt-get install libonnx-testdata)")
	}
	var models []string
	for _, p := range strings.Fields(string(out)) {
		if strings.HasSuffix(p, "/model.onnx") {
			models = append(models, p)
		}
	}
	return models
}

// Every model of ONNX's own test suite decodes, and so does every .pb that
// is a TensorProto (sequence and optional .pb files are other messages).
func TestLibonnxTestdataDecodes(t *testing.T) {
	models := libonnxFiles(t)
	if len(models) < 500 {
		t.Fatalf("only %d models in libonnx-testdata", len(models))
	}
	for _, p := range models {
		m, err := Load(p)
		if err != nil {
			t.Errorf("%v", err)
			continue
		}
		if m.Graph == nil || len(m.Graph.Nodes) == 0 {
			t.Errorf("%s: empty graph", p)
		}
		m.Close()
	}
}

type libonnxSample struct {
	Base   string `json:"base"`
	Models map[string]struct {
		IRVersion    int64         `json:"ir_version"`
		ProducerName string        `json:"producer_name"`
		OpsetImport  []OpsetImport `json:"opset_import"`
		GraphName    string        `json:"graph_name"`
		Nodes        []struct {
			OpType     string   `json:"op_type"`
			Domain     string   `json:"domain"`
			Inputs     []string `json:"inputs"`
			Outputs    []string `json:"outputs"`
			Attributes []struct {
				Name string `json:"name"`
				Type int    `json:"type"`
			} `json:"attributes"`
		} `json:"nodes"`
		Inputs       []jValueInfo    `json:"inputs"`
		Outputs      []jValueInfo    `json:"outputs"`
		Initializers []tensorSummary `json:"initializers"`
	} `json:"models"`
	Tensors map[string]tensorSummary `json:"tensors"`
}

type tensorSummary struct {
	Name     string   `json:"name"`
	DataType DataType `json:"data_type"`
	Dims     []int64  `json:"dims"`
	Count    *int64   `json:"count"`
	Finite   int64    `json:"finite"`
	Sum      float64  `json:"sum"`
	AbsSum   float64  `json:"abs_sum"`
}

// checkSummary compares a tensor with numpy's count, sum and absolute sum
// of its values (float64 accumulation on both sides).
func checkSummary(t *testing.T, where string, got *Tensor, want tensorSummary) {
	t.Helper()
	if got.Name != want.Name || got.DataType != want.DataType || !equalInts(got.Dims, want.Dims) {
		t.Errorf("%s: got %q %v %v, want %q %v %v", where, got.Name, got.DataType, got.Dims, want.Name, want.DataType, want.Dims)
		return
	}
	if want.Count == nil {
		return
	}
	var vals []float64
	switch got.DataType {
	case Double:
		vals = got.Float64
	case Uint64:
		for _, v := range got.Uint64 {
			vals = append(vals, float64(v))
		}
	case Int64:
		for _, v := range got.Int64 {
			vals = append(vals, float64(v))
		}
	default:
		f, err := got.Float32s()
		if err != nil {
			t.Errorf("%s: %v", where, err)
			return
		}
		for _, v := range f {
			vals = append(vals, float64(v))
		}
	}
	var n, finite int64
	var sum, abs float64
	for _, v := range vals {
		n++
		if math.IsInf(v, 0) || math.IsNaN(v) {
			continue
		}
		finite++
		sum += v
		abs += math.Abs(v)
	}
	tol := 1e-9 * math.Max(1, want.AbsSum)
	if n != *want.Count || finite != want.Finite || math.Abs(sum-want.Sum) > tol || math.Abs(abs-want.AbsSum) > tol {
		t.Errorf("%s: count %d finite %d sum %v abs %v, numpy says %d %d %v %v", where, n, finite, sum, abs, *want.Count, want.Finite, want.Sum, want.AbsSum)
	}
}

func TestLibonnxSampleMatchesOnnxPython(t *testing.T) {
	libonnxFiles(t)
	var s libonnxSample
	readJSON(t, filepath.Join("testdata", "libonnx_sample.json"), &s)
	if len(s.Models) < 50 || len(s.Tensors) < 50 {
		t.Fatalf("sample has %d models and %d tensors", len(s.Models), len(s.Tensors))
	}
	for rel, want := range s.Models {
		p := filepath.Join(s.Base, rel)
		m, err := Load(p)
		if err != nil {
			t.Errorf("%v", err)
			continue
		}
		g := m.Graph
		if m.IRVersion != want.IRVersion || m.ProducerName != want.ProducerName || g.Name != want.GraphName || len(m.OpsetImports) != len(want.OpsetImport) {
			t.Errorf("%s: header %d %q %q %v, want %d %q %q %v", rel, m.IRVersion, m.ProducerName, g.Name, m.OpsetImports,
				want.IRVersion, want.ProducerName, want.GraphName, want.OpsetImport)
		}
		if len(g.Nodes) != len(want.Nodes) {
			t.Errorf("%s: %d nodes, want %d", rel, len(g.Nodes), len(want.Nodes))
		} else {
			for i, wn := range want.Nodes {
				n := g.Nodes[i]
				ok := n.OpType == wn.OpType && n.Domain == wn.Domain && strings.Join(n.Inputs, "|") == strings.Join(wn.Inputs, "|") &&
					strings.Join(n.Outputs, "|") == strings.Join(wn.Outputs, "|") && len(n.Attributes) == len(wn.Attributes)
				for j := 0; ok && j < len(wn.Attributes); j++ {
					ok = n.Attributes[j].Name == wn.Attributes[j].Name && int(n.Attributes[j].Type) == wn.Attributes[j].Type
				}
				if !ok {
					b, _ := json.Marshal(wn)
					t.Errorf("%s: node %d = %+v, want %s", rel, i, *n, b)
				}
			}
		}
		for i, w := range want.Inputs {
			if i < len(g.Inputs) {
				checkValueInfo(t, rel+" input", g.Inputs[i], w)
			}
		}
		for i, w := range want.Outputs {
			if i < len(g.Outputs) {
				checkValueInfo(t, rel+" output", g.Outputs[i], w)
			}
		}
		if len(g.Initializers) != len(want.Initializers) {
			t.Errorf("%s: %d initializers, want %d", rel, len(g.Initializers), len(want.Initializers))
		} else {
			for i, w := range want.Initializers {
				checkSummary(t, rel+" initializer", g.Initializers[i], w)
			}
		}
		m.Close()
	}
	for rel, want := range s.Tensors {
		got, err := ReadTensor(filepath.Join(s.Base, rel))
		if err != nil {
			t.Errorf("%v", err)
			continue
		}
		checkSummary(t, rel, got, want)
	}
}
