// Package run implements `clip onnx run`: run any ONNX model on .npy
// inputs (or random ones) and write every graph output as a .npy file.
package run

import (
	"context"
	"fmt"
	"math/rand"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/spf13/cobra"

	"github.com/clip-go/clip/pkg/cli/cmdutil"
	"github.com/clip-go/clip/pkg/cli/iostreams"
	"github.com/clip-go/clip/pkg/engine"
	"github.com/clip-go/clip/pkg/engine/kernels"
	"github.com/clip-go/clip/pkg/graph"
	"github.com/clip-go/clip/pkg/npy"
	"github.com/clip-go/clip/pkg/npytensor"
	"github.com/clip-go/clip/pkg/onnx"
)

// RunOptions are the inputs of `clip onnx run`.
type RunOptions struct {
	IO      *iostreams.IOStreams
	Threads int
	Quiet   bool

	Model     string
	Inputs    []string // name=file.npy
	Dims      []string // symbolic dim=value, for --random
	Random    bool
	Seed      int64
	OutputDir string
}

// NewCmdRun returns `clip onnx run`. runF replaces runRun in tests.
func NewCmdRun(f *cmdutil.Factory, runF func(*RunOptions) error) *cobra.Command {
	opts := &RunOptions{IO: f.IOStreams}
	cmd := &cobra.Command{
		Use:   "run MODEL.onnx --output-dir DIR [--input name=file.npy ...] [--random]",
		Short: "Run an ONNX model on .npy inputs and write each output as DIR/<name>.npy",
		Long: `Run an ONNX model with clip's engine. Every graph input comes from
--input name=file.npy, or, with --random, from random values (floats from a
standard normal, integer ids in [0,100), inputs named like *mask* all ones;
symbolic dims are 1 unless set with --dim name=value). Each graph output is
written as DIR/<output name>.npy with the graph's element type.`,
		Example: `  clip onnx run vision_model.onnx --input pixel_values=x.npy --output-dir out/
  clip onnx run text_model.onnx --random --dim sequence_length=77 --seed 1 --output-dir out/`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.Model = args[0]
			opts.Threads = f.Threads()
			opts.Quiet = f.Globals.Quiet
			if opts.OutputDir == "" {
				return cmdutil.UsageErrorf("--output-dir is required")
			}
			if runF != nil {
				return runF(opts)
			}
			return runRun(cmd.Context(), opts)
		},
	}
	fl := cmd.Flags()
	fl.StringArrayVarP(&opts.Inputs, "input", "i", nil, "graph input as name=file.npy (repeatable)")
	fl.StringArrayVar(&opts.Dims, "dim", nil, "value of a symbolic dimension for --random, as name=value (repeatable)")
	fl.BoolVar(&opts.Random, "random", false, "fill inputs not given with --input with random values")
	fl.Int64Var(&opts.Seed, "seed", 1, "seed for --random")
	fl.StringVarP(&opts.OutputDir, "output-dir", "o", "", "directory for the output .npy files (created if missing)")
	return cmd
}

func runRun(ctx context.Context, opts *RunOptions) error {
	if ctx == nil {
		ctx = context.Background()
	}
	if err := cmdutil.CheckOutputDir("--output-dir", opts.OutputDir); err != nil {
		return err
	}
	given := map[string]string{}
	for _, kv := range opts.Inputs {
		name, file, ok := strings.Cut(kv, "=")
		if !ok || name == "" || file == "" {
			return cmdutil.UsageErrorf("--input %q: want name=file.npy", kv)
		}
		given[name] = file
	}
	dims := map[string]int{}
	for _, kv := range opts.Dims {
		name, v, ok := strings.Cut(kv, "=")
		n, err := strconv.Atoi(v)
		if !ok || err != nil || n < 0 {
			return cmdutil.UsageErrorf("--dim %q: want name=non-negative integer", kv)
		}
		dims[name] = n
	}
	s, err := engine.Open(ctx, opts.Model, engine.Options{Threads: opts.Threads})
	if err != nil {
		return cmdutil.NewExitError(cmdutil.ExitRuntime, err)
	}
	defer s.Close()
	rng := rand.New(rand.NewSource(opts.Seed))
	feeds := map[string]*engine.Tensor{}
	known := map[string]bool{}
	for _, in := range s.Inputs() {
		known[in.Name] = true
		if file, ok := given[in.Name]; ok {
			t, err := npytensor.ReadFile(file)
			if err != nil {
				return cmdutil.NewExitError(cmdutil.ExitInputErrors, fmt.Errorf("--input %s: %w", in.Name, err))
			}
			feeds[in.Name] = t
			continue
		}
		if !opts.Random {
			return cmdutil.UsageErrorf("no --input for model input %q (%s); give one or use --random", in.Name, describe(in))
		}
		t, err := randomInput(in, dims, rng)
		if err != nil {
			return cmdutil.UsageErrorf("%v", err)
		}
		feeds[in.Name] = t
	}
	for name := range given {
		if !known[name] {
			return cmdutil.UsageErrorf("--input %s: the model has no input of that name", name)
		}
	}
	out, err := s.Run(ctx, feeds)
	if err != nil {
		return cmdutil.NewExitError(cmdutil.ExitRuntime, fmt.Errorf("%s: %w", opts.Model, err))
	}
	if err := os.MkdirAll(opts.OutputDir, 0o755); err != nil {
		return cmdutil.NewExitError(cmdutil.ExitRuntime, err)
	}
	for _, o := range s.Outputs() {
		t := out[o.Name]
		path := filepath.Join(opts.OutputDir, safeName(o.Name)+".npy")
		a, err := npytensor.ToArray(t)
		if err != nil {
			return cmdutil.NewExitError(cmdutil.ExitRuntime, fmt.Errorf("output %q: %w", o.Name, err))
		}
		if err := npy.WriteFile(path, a); err != nil {
			return cmdutil.NewExitError(cmdutil.ExitRuntime, err)
		}
		if !opts.Quiet {
			fmt.Fprintf(opts.IO.ErrOut, "wrote %s (%s %v)\n", path, graph.DTypeName(t.DType), t.Shape)
		}
	}
	return nil
}

// safeName keeps output names from escaping the output directory.
func safeName(s string) string {
	r := strings.NewReplacer("/", "_", "\\", "_", "..", "_")
	s = r.Replace(s)
	if s == "" {
		s = "_"
	}
	return s
}

func describe(in *onnx.ValueInfo) string {
	var ds []string
	for _, d := range in.Shape {
		if d.Param != "" {
			ds = append(ds, d.Param)
		} else {
			ds = append(ds, strconv.FormatInt(d.Value, 10))
		}
	}
	return graph.DTypeName(in.ElemType) + "[" + strings.Join(ds, ",") + "]"
}

func randomInput(in *onnx.ValueInfo, dims map[string]int, rng *rand.Rand) (*engine.Tensor, error) {
	if in.Shape == nil {
		return nil, fmt.Errorf("input %q has no declared shape; give it with --input", in.Name)
	}
	shape := make([]int, len(in.Shape))
	for i, d := range in.Shape {
		switch {
		case d.Value >= 0 && d.Param == "":
			shape[i] = int(d.Value)
		case d.Param != "":
			v, ok := dims[d.Param]
			if !ok {
				v = 1
			}
			shape[i] = v
		default:
			shape[i] = 1
		}
	}
	t := graph.NewTensor(in.ElemType, shape)
	mask := strings.Contains(strings.ToLower(in.Name), "mask")
	switch in.ElemType {
	case onnx.Float, onnx.Float16, onnx.BFloat16:
		for i := range t.Float32 {
			t.Float32[i] = float32(rng.NormFloat64())
		}
		if in.ElemType == onnx.Float16 {
			kernels.RoundFloat16(nil, t.Float32)
		}
	case onnx.Double:
		for i := range t.Float64 {
			t.Float64[i] = rng.NormFloat64()
		}
	case onnx.Int64:
		for i := range t.Int64 {
			t.Int64[i] = 1
			if !mask {
				t.Int64[i] = rng.Int63n(100)
			}
		}
	case onnx.Int32:
		for i := range t.Int32 {
			t.Int32[i] = 1
			if !mask {
				t.Int32[i] = rng.Int31n(100)
			}
		}
	case onnx.Bool:
		for i := range t.Bool {
			t.Bool[i] = mask || rng.Intn(2) == 1
		}
	case onnx.Uint8:
		for i := range t.Uint8 {
			t.Uint8[i] = uint8(rng.Intn(256))
		}
	case onnx.Int8:
		for i := range t.Int8 {
			t.Int8[i] = int8(rng.Intn(256) - 128)
		}
	default:
		return nil, fmt.Errorf("input %q: cannot make random %s values", in.Name, graph.DTypeName(in.ElemType))
	}
	return t, nil
}
