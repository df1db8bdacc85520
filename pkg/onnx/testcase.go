package onnx

import (
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
)

// TestCase is one test of ONNX's backend suite in its on-disk layout:
// DIR/model.onnx and DIR/test_data_set_K/{input,output}_N.pb.
type TestCase struct {
	Name      string // base name of the directory, e.g. "test_add_bcast"
	Dir       string
	ModelPath string
	DataSets  []TestDataSet
}

// TestDataSet is one test_data_set_K directory: inputs and expected outputs
// in the order of the graph's inputs and outputs (input_0, input_1, ...).
type TestDataSet struct {
	Dir     string
	Inputs  []*Tensor
	Outputs []*Tensor
}

// ReadTestCase reads the data sets of the test in dir (the model itself is
// opened with Load(tc.ModelPath)). A .pb that is not a TensorProto (the
// sequence and optional tests) makes it fail with an error naming the file.
func ReadTestCase(dir string) (*TestCase, error) {
	tc := &TestCase{Name: filepath.Base(dir), Dir: dir, ModelPath: filepath.Join(dir, "model.onnx")}
	if _, err := os.Stat(tc.ModelPath); err != nil {
		return nil, &Error{File: tc.ModelPath, Err: err}
	}
	sets, err := numbered(dir, "test_data_set_", "")
	if err != nil {
		return nil, &Error{File: dir, Err: err}
	}
	for _, sd := range sets {
		ds := TestDataSet{Dir: sd}
		for _, kind := range []string{"input_", "output_"} {
			files, err := numbered(sd, kind, ".pb")
			if err != nil {
				return nil, &Error{File: sd, Err: err}
			}
			for _, f := range files {
				t, err := ReadTensor(f)
				if err != nil {
					return nil, err
				}
				if kind == "input_" {
					ds.Inputs = append(ds.Inputs, t)
				} else {
					ds.Outputs = append(ds.Outputs, t)
				}
			}
		}
		tc.DataSets = append(tc.DataSets, ds)
	}
	return tc, nil
}

// numbered lists dir's entries named prefix+N+suffix in numeric order of N
// (so input_10 comes after input_9), refusing gaps.
func numbered(dir, prefix, suffix string) ([]string, error) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, err
	}
	byIndex := map[int]string{}
	for _, e := range entries {
		name := e.Name()
		if !strings.HasPrefix(name, prefix) || !strings.HasSuffix(name, suffix) {
			continue
		}
		n, err := strconv.Atoi(strings.TrimSuffix(strings.TrimPrefix(name, prefix), suffix))
		if err != nil || n < 0 {
			continue
		}
		byIndex[n] = filepath.Join(dir, name)
	}
	idx := make([]int, 0, len(byIndex))
	for n := range byIndex {
		idx = append(idx, n)
	}
	sort.Ints(idx)
	out := make([]string, len(idx))
	for i, n := range idx {
		if n != i {
			return nil, fmt.Errorf("%s%d%s is missing", prefix, i, suffix)
		}
		out[i] = byIndex[n]
	}
	return out, nil
}

// FindTestCases returns the directories under root that hold a
// model.onnx, sorted (e.g. root = /usr/share/libonnx-testdata/data/node).
func FindTestCases(root string) ([]string, error) {
	var dirs []string
	err := filepath.WalkDir(root, func(p string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if !d.IsDir() && d.Name() == "model.onnx" {
			dirs = append(dirs, filepath.Dir(p))
		}
		return nil
	})
	sort.Strings(dirs)
	return dirs, err
}
