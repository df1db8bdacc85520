package onnx

import (
	"path/filepath"
	"testing"
)

func TestReadTestCase(t *testing.T) {
	e := loadExpected(t)
	dir := filepath.Join("testdata", "testcase_add")
	tc, err := ReadTestCase(dir)
	if err != nil {
		t.Fatal(err)
	}
	if tc.Name != "testcase_add" || len(tc.DataSets) != 2 {
		t.Fatalf("got %q with %d data sets, want testcase_add with 2", tc.Name, len(tc.DataSets))
	}
	for k, ds := range tc.DataSets {
		if len(ds.Inputs) != 2 || len(ds.Outputs) != 1 {
			t.Fatalf("set %d: %d inputs %d outputs", k, len(ds.Inputs), len(ds.Outputs))
		}
		set := filepath.Base(ds.Dir)
		checkTensor(t, set+" input_0", ds.Inputs[0], e.Tensors["testcase_add/"+set+"/input_0.pb"])
		checkTensor(t, set+" input_1", ds.Inputs[1], e.Tensors["testcase_add/"+set+"/input_1.pb"])
		checkTensor(t, set+" output_0", ds.Outputs[0], e.Tensors["testcase_add/"+set+"/output_0.pb"])
	}
	m, err := Load(tc.ModelPath)
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	if m.Graph.Nodes[0].OpType != "Add" {
		t.Errorf("model op %q", m.Graph.Nodes[0].OpType)
	}
	if _, err := ReadTestCase(filepath.Join("testdata", "nope")); err == nil {
		t.Error("ReadTestCase of a missing directory succeeded")
	}
}

// Over ONNX's node suite, every test whose .pb files are tensors reads with
// one input per graph input that has no initializer.
func TestReadTestCaseLibonnx(t *testing.T) {
	libonnxFiles(t)
	dirs, err := FindTestCases("/usr/share/libonnx-testdata/data/node")
	if err != nil {
		t.Fatal(err)
	}
	if len(dirs) < 500 {
		t.Fatalf("found %d node tests", len(dirs))
	}
	read := 0
	for _, d := range dirs {
		tc, err := ReadTestCase(d)
		if err != nil {
			continue // sequence/optional tests: not TensorProto files
		}
		read++
		m, err := Load(tc.ModelPath)
		if err != nil {
			t.Fatal(err)
		}
		for _, ds := range tc.DataSets {
			if len(ds.Inputs) > len(m.Graph.Inputs) || len(ds.Outputs) != len(m.Graph.Outputs) {
				t.Errorf("%s: %d inputs, %d outputs for a graph of %d inputs, %d outputs", ds.Dir, len(ds.Inputs), len(ds.Outputs), len(m.Graph.Inputs), len(m.Graph.Outputs))
			}
		}
		m.Close()
	}
	if read < len(dirs)*9/10 {
		t.Errorf("only %d of %d node tests read", read, len(dirs))
	}
}
