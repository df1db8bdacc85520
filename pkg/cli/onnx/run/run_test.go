package run

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strconv"
	"testing"

	"github.com/clip-go/clip/pkg/cli/cmdutil"
	"github.com/clip-go/clip/pkg/cli/iostreams"
	"github.com/clip-go/clip/pkg/graph"
	"github.com/clip-go/clip/pkg/npy"
	"github.com/clip-go/clip/pkg/npytensor"
	"github.com/clip-go/clip/pkg/onnx"
)

const nodeTests = "/usr/share/libonnx-testdata/data/node"

func needNodeTests(t *testing.T) {
	if _, err := os.Stat(nodeTests); err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("libonnx-testdata is not installed (%s)", nodeTests)
		}
		t.Skipf("libonnx-testdata is not installed (%s)", nodeTests)
	}
}

func pbToNpy(t *testing.T, pb, out string) *graph.Tensor {
	t.Helper()
	ot, err := onnx.ReadTensor(pb)
	if err != nil {
		t.Fatal(err)
	}
	gt, err := graph.FromONNX(ot)
	if err != nil {
		t.Fatal(err)
	}
	if out != "" {
		a, err := npytensor.ToArray(gt)
		if err != nil {
			t.Fatal(err)
		}
		if err := npy.WriteFile(out, a); err != nil {
			t.Fatal(err)
		}
	}
	return gt
}

// TestRunWritesOutputsMatchingONNX runs ONNX's Gemm node test through the
// command and compares the written .npy with ONNX's expected output.
func TestRunWritesOutputsMatchingONNX(t *testing.T) {
	needNodeTests(t)
	dir := filepath.Join(nodeTests, "test_gemm_all_attributes")
	tmp := t.TempDir()
	var inputs []string
	for i, name := range []string{"a", "b", "c"} {
		p := filepath.Join(tmp, name+".npy")
		pbToNpy(t, filepath.Join(dir, "test_data_set_0", "input_"+string(rune('0'+i))+".pb"), p)
		inputs = append(inputs, name+"="+p)
	}
	want := pbToNpy(t, filepath.Join(dir, "test_data_set_0", "output_0.pb"), "")
	ios, _, _, _ := iostreams.Test()
	f := &cmdutil.Factory{IOStreams: ios, Globals: &cmdutil.GlobalOptions{}, Getenv: func(string) string { return "" }}
	cmd := NewCmdRun(f, nil)
	args := []string{filepath.Join(dir, "model.onnx"), "--output-dir", filepath.Join(tmp, "out")}
	for _, in := range inputs {
		args = append(args, "--input", in)
	}
	cmd.SetArgs(args)
	cmd.SetContext(context.Background())
	if err := cmd.Execute(); err != nil {
		t.Fatal(err)
	}
	a, err := npy.ReadFile(filepath.Join(tmp, "out", "y.npy"))
	if err != nil {
		t.Fatal(err)
	}
	got := a.Data.([]float32)
	if len(got) != len(want.Float32) {
		t.Fatalf("got %d values, want %d", len(got), len(want.Float32))
	}
	for i := range got {
		d := got[i] - want.Float32[i]
		if d < 0 {
			d = -d
		}
		if d > 1e-4+1e-3*abs(want.Float32[i]) {
			t.Fatalf("y[%d] = %v, ONNX says %v", i, got[i], want.Float32[i])
		}
	}
}

func abs(x float32) float32 {
	if x < 0 {
		return -x
	}
	return x
}

func TestRunRandomNeedsNoInputs(t *testing.T) {
	needNodeTests(t)
	tmp := t.TempDir()
	opts := &RunOptions{IO: nil, Model: filepath.Join(nodeTests, "test_softmax_axis_1", "model.onnx"), Random: true, Seed: 3, OutputDir: tmp, Quiet: true}
	if err := runRun(context.Background(), opts); err != nil {
		t.Fatal(err)
	}
	a, err := npy.ReadFile(filepath.Join(tmp, "y.npy"))
	if err != nil {
		t.Fatal(err)
	}
	// softmax over axis 1 of a 3×4×5 input: each (i,·,k) column sums to 1.
	x := a.Data.([]float32)
	for i := 0; i < 3; i++ {
		for k := 0; k < 5; k++ {
			var s float32
			for j := 0; j < 4; j++ {
				s += x[(i*4+j)*5+k]
			}
			if s < 0.9999 || s > 1.0001 {
				t.Fatalf("column (%d,·,%d) sums to %v", i, k, s)
			}
		}
	}
}

func TestRunUsageErrors(t *testing.T) {
	needNodeTests(t)
	model := filepath.Join(nodeTests, "test_softmax_axis_1", "model.onnx")
	cases := [][]string{
		{model},                              // no --output-dir
		{model, "--output-dir", t.TempDir()}, // input missing, no --random
		{model, "--output-dir", t.TempDir(), "--input", "nosuch=x.npy", "--random"},
		{model, "--output-dir", t.TempDir(), "--input", "bad"},
	}
	for _, args := range cases {
		ios, _, _, _ := iostreams.Test()
		f := &cmdutil.Factory{IOStreams: ios, Globals: &cmdutil.GlobalOptions{}, Getenv: func(string) string { return "" }}
		cmd := NewCmdRun(f, nil)
		cmd.SetArgs(args)
		cmd.SilenceErrors, cmd.SilenceUsage = true, true
		err := cmd.Execute()
		if code := cmdutil.ExitCode(err); code != cmdutil.ExitUsage {
			t.Errorf("%v: exit %d (%v), want %d", args, code, err, cmdutil.ExitUsage)
		}
	}
}

// TestRunFixtureRandom runs the tiny CLIP vision tower with --random and
// checks every graph output was written with the declared dtype and the
// bound shape.
func TestRunFixtureRandom(t *testing.T) {
	model := filepath.Join("..", "..", "..", "..", "testdata", "models", "tiny-shapes", "onnx", "vision_model.onnx")
	if _, err := os.Stat(model); err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("fixture missing: %v", err)
		}
		t.Skipf("fixture missing (make fixtures): %v", err)
	}
	b, err := os.ReadFile(filepath.Join(filepath.Dir(filepath.Dir(model)), "config.json"))
	if err != nil {
		t.Fatal(err)
	}
	var cfg struct {
		Vision struct {
			ImageSize int `json:"image_size"`
		} `json:"vision_config"`
	}
	if err := json.Unmarshal(b, &cfg); err != nil {
		t.Fatal(err)
	}
	size := strconv.Itoa(cfg.Vision.ImageSize)
	tmp := t.TempDir()
	opts := &RunOptions{Model: model, Random: true, Seed: 1, OutputDir: tmp, Quiet: true,
		Dims: []string{"batch_size=2", "num_channels=3", "height=" + size, "width=" + size}}
	if err := runRun(context.Background(), opts); err != nil {
		t.Fatal(err)
	}
	emb, err := npy.ReadFile(filepath.Join(tmp, "image_embeds.npy"))
	if err != nil {
		t.Fatal(err)
	}
	if emb.DType != npy.Float32 || len(emb.Shape) != 2 || emb.Shape[0] != 2 {
		t.Errorf("image_embeds: %v %v, want float32 [2, dim]", emb.DType, emb.Shape)
	}
	hid, err := npy.ReadFile(filepath.Join(tmp, "last_hidden_state.npy"))
	if err != nil {
		t.Fatal(err)
	}
	if hid.DType != npy.Float32 || len(hid.Shape) != 3 || hid.Shape[0] != 2 {
		t.Errorf("last_hidden_state: %v %v, want float32 [2, tokens, width]", hid.DType, hid.Shape)
	}
}
