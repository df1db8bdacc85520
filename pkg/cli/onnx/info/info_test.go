package info

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/clip-go/clip/pkg/cli/cmdutil"
	"github.com/clip-go/clip/pkg/cli/iostreams"
)

// The fixture models and their description by onnx's Python API come from
// scripts/onnx_decoder_fixtures.py.
var testdata = filepath.Join("..", "..", "..", "onnx", "testdata")

type pyModel struct {
	IRVersion    int64  `json:"ir_version"`
	ProducerName string `json:"producer_name"`
	OpsetImport  []Opset
	Graph        struct {
		Nodes []struct {
			OpType string `json:"op_type"`
		} `json:"nodes"`
		Initializers []struct {
			DataType int     `json:"data_type"`
			Dims     []int64 `json:"dims"`
		} `json:"initializers"`
		Inputs []struct {
			Name  string `json:"name"`
			Shape []struct {
				Value *int64 `json:"value"`
				Param string `json:"param"`
			} `json:"shape"`
		} `json:"inputs"`
	} `json:"graph"`
}

func expected(t *testing.T, name string) pyModel {
	b, err := os.ReadFile(filepath.Join(testdata, "expected.json"))
	if err != nil {
		t.Fatal(err)
	}
	var e struct {
		Models map[string]json.RawMessage `json:"models"`
	}
	if err := json.Unmarshal(b, &e); err != nil {
		t.Fatal(err)
	}
	var m pyModel
	if err := json.Unmarshal(e.Models[name], &m); err != nil {
		t.Fatal(err)
	}
	return m
}

func run(t *testing.T, format string, tty bool, args ...string) (string, string, error) {
	ios, _, out, errOut := iostreams.Test()
	ios.SetStdoutTTY(tty)
	f := &cmdutil.Factory{IOStreams: ios, Globals: &cmdutil.GlobalOptions{Format: format}, Getenv: func(string) string { return "" }}
	cmd := NewCmdInfo(f, nil)
	cmd.SetArgs(args)
	cmd.SetOut(out)
	cmd.SetErr(errOut)
	cmd.SilenceUsage = true
	cmd.SilenceErrors = true
	err := cmd.Execute()
	return out.String(), errOut.String(), err
}

func TestJSONMatchesOnnxPython(t *testing.T) {
	path := filepath.Join(testdata, "shapes.onnx")
	out, _, err := run(t, "json", false, path)
	if err != nil {
		t.Fatal(err)
	}
	var s Summary
	if err := json.Unmarshal([]byte(out), &s); err != nil {
		t.Fatalf("output is not one JSON object: %v\n%s", err, out)
	}
	want := expected(t, "shapes.onnx")
	if s.IRVersion != want.IRVersion || s.ProducerName != want.ProducerName || len(s.OpsetImports) != 2 {
		t.Errorf("header %+v, want %+v", s, want)
	}
	if len(s.Inputs) != len(want.Graph.Inputs) {
		t.Fatalf("%d inputs, want %d", len(s.Inputs), len(want.Graph.Inputs))
	}
	for i, wi := range want.Graph.Inputs {
		gi := s.Inputs[i]
		if gi.Name != wi.Name {
			t.Errorf("input %d = %q, want %q", i, gi.Name, wi.Name)
		}
		if wi.Shape == nil {
			if gi.Shape != nil {
				t.Errorf("%s: shape %v, want null", gi.Name, gi.Shape)
			}
			continue
		}
		if len(gi.Shape) != len(wi.Shape) {
			t.Fatalf("%s: shape %v, want %d dims", gi.Name, gi.Shape, len(wi.Shape))
		}
		for j, d := range wi.Shape {
			switch {
			case d.Value != nil:
				if v, ok := gi.Shape[j].(float64); !ok || int64(v) != *d.Value {
					t.Errorf("%s: dim %d = %v, want %d", gi.Name, j, gi.Shape[j], *d.Value)
				}
			case d.Param != "":
				if gi.Shape[j] != d.Param {
					t.Errorf("%s: dim %d = %v, want %q", gi.Name, j, gi.Shape[j], d.Param)
				}
			default:
				if gi.Shape[j] != nil {
					t.Errorf("%s: dim %d = %v, want null", gi.Name, j, gi.Shape[j])
				}
			}
		}
	}
	if s.Ops["Identity"] != len(want.Graph.Nodes) || s.Nodes != len(want.Graph.Nodes) {
		t.Errorf("ops %v nodes %d, want %d Identity", s.Ops, s.Nodes, len(want.Graph.Nodes))
	}
	if st, _ := os.Stat(path); s.FileBytes != st.Size() {
		t.Errorf("file_bytes %d, want %d", s.FileBytes, st.Size())
	}
}

func TestParameterCount(t *testing.T) {
	out, _, err := run(t, "json", false, filepath.Join(testdata, "dtypes.onnx"))
	if err != nil {
		t.Fatal(err)
	}
	var s Summary
	if err := json.Unmarshal([]byte(out), &s); err != nil {
		t.Fatal(err)
	}
	sizes := map[int]int64{1: 4, 2: 1, 3: 1, 4: 2, 5: 2, 6: 4, 7: 8, 8: 0, 9: 1, 10: 2, 11: 8, 12: 4, 13: 8, 16: 2}
	var params, bytes int64
	for _, in := range expected(t, "dtypes.onnx").Graph.Initializers {
		n := int64(1)
		for _, d := range in.Dims {
			n *= d
		}
		params += n
		bytes += n * sizes[in.DataType]
	}
	if s.Parameters != params || s.ParameterBytes != bytes {
		t.Errorf("parameters %d (%d bytes), want %d (%d bytes)", s.Parameters, s.ParameterBytes, params, bytes)
	}
	if s.ParametersBy["float16"] != 24 {
		t.Errorf("float16 parameters %d, want 24 (two 3×4 tensors)", s.ParametersBy["float16"])
	}
}

func TestTableOnTerminal(t *testing.T) {
	out, _, err := run(t, "", true, filepath.Join(testdata, "shapes.onnx"))
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"pixel_values", "[batch_size, 3, 224, 224]", "[?, 2]", "unknown", "ai.onnx 14", "com.microsoft 1", "pytorch 2.0.1", "Identity", "loaded in"} {
		if !strings.Contains(out, want) {
			t.Errorf("table lacks %q:\n%s", want, out)
		}
	}
}

func TestPipedIsOneJSONLine(t *testing.T) {
	out, _, err := run(t, "", false, filepath.Join(testdata, "shapes.onnx"))
	if err != nil {
		t.Fatal(err)
	}
	if strings.Count(out, "\n") != 1 || !json.Valid(bytes.TrimSpace([]byte(out))) {
		t.Errorf("piped output is not one JSON line:\n%s", out)
	}
}

func TestExternalDataModel(t *testing.T) {
	out, _, err := run(t, "json", false, filepath.Join(testdata, "ext", "model.onnx"))
	if err != nil {
		t.Fatal(err)
	}
	var s Summary
	if err := json.Unmarshal([]byte(out), &s); err != nil {
		t.Fatal(err)
	}
	// ext_a 2×3 float32, ext_b 6 int64, ext_c 5 float16, ext_whole 4 float32.
	if !s.ExternalData || s.Parameters != 21 || s.ParameterBytes != 6*4+6*8+5*2+4*4 {
		t.Errorf("external %v, %d parameters (%d bytes)", s.ExternalData, s.Parameters, s.ParameterBytes)
	}
}

func TestErrorsAndExitCodes(t *testing.T) {
	cases := []struct {
		args []string
		code int
		want string
	}{
		{nil, cmdutil.ExitUsage, "exactly one"},
		{[]string{"a.onnx", "b.onnx"}, cmdutil.ExitUsage, "exactly one"},
		{[]string{filepath.Join(testdata, "missing.onnx")}, cmdutil.ExitInputErrors, "missing.onnx"},
		{[]string{filepath.Join(testdata, "bad", "duplicate_output.onnx")}, cmdutil.ExitRuntime, "second"},
		{[]string{filepath.Join(testdata, "ext", "ext_escape.onnx")}, cmdutil.ExitRuntime, "escapes"},
	}
	for _, c := range cases {
		_, _, err := run(t, "json", false, c.args...)
		if err == nil || cmdutil.ExitCode(err) != c.code || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%v: err = %v (exit %d), want exit %d saying %q", c.args, err, cmdutil.ExitCode(err), c.code, c.want)
		}
	}
	if _, _, err := run(t, "csv", false, filepath.Join(testdata, "shapes.onnx")); cmdutil.ExitCode(err) != cmdutil.ExitUsage {
		t.Errorf("--format csv: err = %v, want a usage error", err)
	}
}

func TestRunFGetsOptions(t *testing.T) {
	ios, _, _, _ := iostreams.Test()
	f := &cmdutil.Factory{IOStreams: ios, Globals: &cmdutil.GlobalOptions{}}
	var got *InfoOptions
	cmd := NewCmdInfo(f, func(o *InfoOptions) error { got = o; return nil })
	cmd.SetArgs([]string{"model.onnx"})
	if err := cmd.Execute(); err != nil {
		t.Fatal(err)
	}
	if got == nil || got.ModelPath != "model.onnx" || got.IO != ios {
		t.Errorf("options %+v", got)
	}
}

// The operator histogram of a torch.onnx export equals the count of op
// types onnx's Python API lists.
func TestOpHistogramOfTorchExport(t *testing.T) {
	path := filepath.Join(testdata, "torch_tiny.onnx")
	if _, err := os.Stat(path); err != nil {
		t.Skipf("%v (torch was not importable when the fixtures were made)", err)
	}
	out, _, err := run(t, "json", false, path)
	if err != nil {
		t.Fatal(err)
	}
	var s Summary
	if err := json.Unmarshal([]byte(out), &s); err != nil {
		t.Fatal(err)
	}
	want := map[string]int{}
	for _, n := range expected(t, "torch_tiny.onnx").Graph.Nodes {
		want[n.OpType]++
	}
	if len(s.Ops) != len(want) {
		t.Errorf("ops %v, want %v", s.Ops, want)
	}
	for op, n := range want {
		if s.Ops[op] != n {
			t.Errorf("%s: %d, want %d", op, s.Ops[op], n)
		}
	}
	if len(s.Inputs) != 1 || s.Inputs[0].Shape[0] != "batch_size" {
		t.Errorf("inputs %+v, want pixel_values with symbolic batch_size", s.Inputs)
	}
}
