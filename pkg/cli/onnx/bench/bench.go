// Package bench implements `clip onnx bench`: time clip's engine on one
// ONNX file with random inputs of a chosen batch size, and report time per
// run and per item, throughput, load time, peak memory and achieved
// GFLOP/s (the matrix FLOPs counted from the bound plan by graph.Plan.FLOPs).
package bench

import (
	"cmp"
	"context"
	"encoding/json"
	"fmt"
	"math"
	"runtime"
	"slices"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/clip-go/clip/pkg/cli/cmdutil"
	"github.com/clip-go/clip/pkg/cli/iostreams"
	"github.com/clip-go/clip/pkg/engine"
	"github.com/clip-go/clip/pkg/engine/feeds"
	"github.com/clip-go/clip/pkg/engine/kernels"
	"github.com/clip-go/clip/pkg/engine/ops"
)

// BenchOptions are the inputs of `clip onnx bench`.
type BenchOptions struct {
	IO      *iostreams.IOStreams
	Threads int
	Format  string // table or json (jsonl is the same single object)

	Model  string
	Batch  int
	Runs   int
	Warmup int
	Seq    int
	Seed   int64
	// Dims sets symbolic dimensions by name (name=value), before the
	// batch/seq/image rules apply.
	Dims []string
	// SaveInputs, when set, is a directory that receives the random
	// inputs as <name>.npy plus inputs.json, so another runtime (see
	// scripts/bench/ort_bench.mjs) can time the very same inputs.
	SaveInputs string
	// Outputs, when set, are the only graph outputs each run returns
	// (engine.Session.Run copies just those, as clip classify and embed
	// ask only for the embeddings); empty returns them all, as
	// onnxruntime's bench does.
	Outputs []string
	// ISA limits the engine's kernels to an instruction-set level by name
	// (--isa: native, generic, avx2, avx2vnni, avx512; "" is native).
	ISA string
	// Profile times each step of the timed runs and reports the time by
	// operator (--profile).
	Profile bool
	// Fusion is --fusion: all (the default, "" too), generic (only the
	// fusions that match no pattern: how a graph no pattern fusion
	// recognises runs) or none (op by op).
	Fusion string
}

// Result is what one benchmark measured; its JSON form is the output of
// --format json.
type Result struct {
	Model   string `json:"model"`
	Batch   int    `json:"batch"`
	Threads int    `json:"threads"`
	Runs    int    `json:"runs"`
	Warmup  int    `json:"warmup"`
	// ISA is the instruction-set level the kernels ran at (--isa,
	// resolved: "native" becomes this CPU's best level).
	ISA string `json:"isa"`
	// Fusion is the fusion level the graph ran with (--fusion): all,
	// generic or none.
	Fusion string `json:"fusion"`
	// Outputs are the graph outputs each run returned (--output; all
	// when empty).
	Outputs []string `json:"outputs,omitempty"`
	// Inputs records the shapes the model ran on, by input name.
	Inputs map[string][]int `json:"inputs"`

	MedianMs       float64 `json:"median_ms"` // per run of Batch items
	MinMs          float64 `json:"min_ms"`
	MsPerItem      float64 `json:"ms_per_item"` // median_ms / batch
	MinMsPerItem   float64 `json:"min_ms_per_item"`
	ItemsPerSecond float64 `json:"items_per_second"`
	// LoadMs is engine.Open (decode, graph checks, optimisation);
	// FirstRunMs is the first run, which also binds shapes, fuses and
	// lowers the graph for this batch size.
	LoadMs     float64 `json:"load_ms"`
	FirstRunMs float64 `json:"first_run_ms"`
	// PeakRSSBytes is the process's peak resident set (VmHWM).
	PeakRSSBytes int64 `json:"peak_rss_bytes"`
	// GFLOPs is the counted matrix work per item; GFLOPsPerSecond is the
	// rate achieved at the median run time.
	GFLOPs          float64            `json:"gflops"`
	GFLOPsPerSecond float64            `json:"gflops_per_second"`
	GFLOPsByOp      map[string]float64 `json:"gflops_by_op"` // per item, by ONNX operator
	// AllocsPerRun and BytesPerRun are Go heap allocations during the
	// timed runs, averaged.
	AllocsPerRun float64 `json:"allocs_per_run"`
	BytesPerRun  float64 `json:"bytes_per_run"`
	// Profile (--profile) is the timed runs' step time by operator, the
	// most first; ProfiledMsPerRun is its sum, which leaves out the time
	// between steps.
	Profile          []OpTime `json:"profile,omitempty"`
	ProfiledMsPerRun float64  `json:"profiled_ms_per_run,omitempty"`
}

// OpTime is one operator's share of the profiled runs: its steps' mean
// time per run and that time as a fraction of the median run.
type OpTime struct {
	Op       string  `json:"op"`
	Steps    int     `json:"steps"`
	MsPerRun float64 `json:"ms_per_run"`
	Share    float64 `json:"share_of_median_run"`
}

// NewCmdBench returns `clip onnx bench`. runF replaces benchRun in tests.
func NewCmdBench(f *cmdutil.Factory, runF func(*BenchOptions) error) *cobra.Command {
	opts := &BenchOptions{IO: f.IOStreams}
	cmd := &cobra.Command{
		Use:   "bench MODEL.onnx [--batch N] [--runs R] [--warmup W] [--seq L]",
		Short: "Time clip's engine on an ONNX file with random inputs",
		Long: `Time clip's engine on an ONNX file. Inputs are random, shaped from the
graph's declared inputs: a symbolic first (batch) dimension becomes --batch,
other symbolic dimensions --seq. Floats come from a seeded standard normal;
integer token ids are small valid ids (the vocabulary size is read from the
embedding table) starting with the start token and ending with the end
token, the largest id, as CLIP's argmax pooling expects; inputs named like
*mask* are all ones.

After --warmup runs (the first also compiles the graph for the shapes),
--runs timed runs follow. Reported: median and fastest time per run and per
item, items/s, load time (engine.Open), peak RSS, the matrix work per item
(2·M·N·K per MatMul/Gemm/Linear, 2·Cout·Cin/g·kh·kw·Hout·Wout per Conv,
integer variants included) and the GFLOP/s achieved at the median.
Use --threads to set the cores used and --format json for one JSON object.

--isa LEVEL limits the kernels to an instruction-set level, to time on this
machine the code an older CPU runs: generic (portable Go), avx2 (AVX2+FMA,
what an AVX2-only machine runs), avx2vnni (plus AVX-VNNI int8), avx512, or
native (the default: everything this CPU has). The level run is reported
("kernels" in the table, "isa" in json); a level this CPU lacks is a usage
error. It limits the matrix products (Linear with its epilogue, MatMul,
attention, the int8 GEMM); the row and elementwise kernels (LayerNorm,
Softmax, the int8 epilogue's QuickGELU) still run at the native level.

--profile also times every step of the timed runs and reports the time per
operator (fused steps by their clip.* name: clip.Linear, clip.QLinear,
clip.Attention, …), with its share of the median run. Timing adds two clock
reads per step; the time between steps belongs to no operator.

--fusion generic runs only the fusions that match no pattern (chains of
elementwise operators as one step, canonical Casts and Transposes), as the
engine runs a graph none of its pattern fusions recognises (an exporter's
way of writing a block not yet known): the speed of that path beside the
fused one. --fusion none runs every operator on its own.`,
		Example: `  clip onnx bench onnx/vision_model.onnx --batch 8 --runs 10
  clip onnx bench onnx/text_model.onnx --batch 8 --seq 77 --threads 2 --format json
  clip onnx bench onnx/text_model_quantized.onnx --batch 8 --threads 1 --profile`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.Model = args[0]
			opts.Threads = f.Threads()
			if !cmd.Flags().Changed("seq") {
				// SigLIP's text tower has 64 positions: 77 tokens do not run.
				opts.Seq = feeds.SeqNear(opts.Model, opts.Seq)
			}
			switch f.Globals.Format {
			case "", cmdutil.FormatTable:
				opts.Format = cmdutil.FormatTable
			case cmdutil.FormatJSON, cmdutil.FormatJSONL:
				opts.Format = cmdutil.FormatJSON
			default:
				return cmdutil.UsageErrorf("--format %q: bench prints table or json", f.Globals.Format)
			}
			if opts.Batch < 1 || opts.Runs < 1 || opts.Warmup < 0 || opts.Seq < 1 {
				return cmdutil.UsageErrorf("--batch, --runs and --seq must be at least 1 and --warmup at least 0")
			}
			if _, err := parseDims(opts.Dims); err != nil {
				return err
			}
			if _, err := parseISA(opts.ISA); err != nil {
				return err
			}
			switch opts.Fusion {
			case "all", "generic", "none":
			default:
				return cmdutil.UsageErrorf("--fusion %q: want all, generic or none", opts.Fusion)
			}
			if runF != nil {
				return runF(opts)
			}
			return benchRun(cmd.Context(), opts)
		},
	}
	fl := cmd.Flags()
	fl.IntVarP(&opts.Batch, "batch", "b", 1, "items per run (the value of symbolic batch dimensions)")
	fl.IntVarP(&opts.Runs, "runs", "n", 10, "timed runs")
	fl.IntVar(&opts.Warmup, "warmup", 2, "untimed runs first (the first compiles the graph)")
	fl.IntVar(&opts.Seq, "seq", 77, "value of other symbolic dimensions (sequence length; by default fewer when the config.json beside the model gives fewer positions)")
	fl.Int64Var(&opts.Seed, "seed", 1, "seed of the random inputs")
	fl.StringArrayVar(&opts.Dims, "dim", nil, "value of a symbolic dimension, as name=value (repeatable; overrides the rules above)")
	fl.StringVar(&opts.SaveInputs, "save-inputs", "", "also write the random inputs to this directory (<name>.npy and inputs.json)")
	fl.StringArrayVar(&opts.Outputs, "output", nil, "return only this graph output from each run (repeatable; default all), as clip classify asks only for the embeddings; the engine then computes only what it needs")
	fl.BoolVar(&opts.Profile, "profile", false, "also report the time per operator of the timed runs")
	fl.StringVar(&opts.ISA, "isa", "native", "instruction-set level of the kernels: native, generic, avx2, avx2vnni, avx512")
	fl.StringVar(&opts.Fusion, "fusion", "all", "fusions to run: all, generic (only those matching no pattern) or none (op by op)")
	// For benchmarking only: documented in the long help, kept out of
	// the flag list.
	_ = fl.MarkHidden("isa")
	_ = fl.MarkHidden("fusion")
	return cmd
}

func benchRun(ctx context.Context, opts *BenchOptions) error {
	if ctx == nil {
		ctx = context.Background()
	}
	if err := cmdutil.CheckOutputDir("--save-inputs", opts.SaveInputs); err != nil {
		return err
	}
	r, err := Measure(ctx, opts)
	if err != nil {
		return err
	}
	if opts.Format == cmdutil.FormatJSON {
		enc := json.NewEncoder(opts.IO.Out)
		enc.SetIndent("", "  ")
		return enc.Encode(r)
	}
	printTable(opts.IO, r)
	return nil
}

// Measure loads the model, runs the warm-up and the timed runs and
// returns what was measured. Errors carry cmdutil exit codes.
func Measure(ctx context.Context, opts *BenchOptions) (*Result, error) {
	isa, err := parseISA(opts.ISA)
	if err != nil {
		return nil, err
	}
	t0 := time.Now()
	s, err := engine.Open(ctx, opts.Model, engine.Options{Threads: opts.Threads, ISA: isa, Profile: opts.Profile,
		NoFusion: opts.Fusion == "none", GenericFusion: opts.Fusion == "generic"})
	if err != nil {
		return nil, cmdutil.NewExitError(cmdutil.ExitRuntime, err)
	}
	defer s.Close()
	loadMs := msSince(t0)

	dims, err := parseDims(opts.Dims)
	if err != nil {
		return nil, err
	}
	in, items, err := feeds.RandomInputs(s.Graph(), feeds.InputSpec{Batch: opts.Batch, Seq: opts.Seq, Seed: opts.Seed,
		Dims: dims, ImageSize: feeds.ImageSizeNear(opts.Model)})
	if err != nil {
		return nil, cmdutil.NewExitError(cmdutil.ExitUsage, fmt.Errorf("%s: %w", opts.Model, err))
	}
	if opts.SaveInputs != "" {
		if err := saveInputs(opts.SaveInputs, in); err != nil {
			return nil, cmdutil.NewExitError(cmdutil.ExitRuntime, err)
		}
	}
	if items != opts.Batch {
		fmt.Fprintf(opts.IO.ErrOut, "%s: the batch dimension is fixed at %d; timing %d items per run, not --batch %d\n",
			opts.Model, items, items, opts.Batch)
	}
	shapes := map[string][]int{}
	for name, t := range in {
		shapes[name] = t.Shape
	}
	// Count on the plan bound to these shapes, before fusion: its steps
	// are ONNX operators, so a new fused step cannot hide work from the
	// count. The fused plan (what the engine runs) must count the same.
	plan, err := s.Graph().Bind(ctx, shapes, nil, ops.Eval)
	if err != nil {
		return nil, cmdutil.NewExitError(cmdutil.ExitRuntime, fmt.Errorf("%s: %w", opts.Model, err))
	}
	flops := plan.FLOPs()
	switch opts.Fusion {
	case "none":
	case "generic":
		plan.FuseGeneric()
	default:
		plan.Fuse()
	}
	if fused := plan.FLOPs(); math.Abs(fused.Total-flops.Total) > 1e-6*flops.Total {
		fmt.Fprintf(opts.IO.ErrOut, "%s: warning: the fused plan counts %.4g FLOPs, the unfused one %.4g; a fused step's work is not counted\n",
			opts.Model, fused.Total, flops.Total)
	}
	// Asked for some outputs, the engine computes what they need, and of
	// a pooled output only the pooled tokens' rows of the last block
	// (graph.Plan.KeepOutputs): the work counted is the work done.
	if len(opts.Outputs) > 0 && opts.Fusion != "none" {
		if _, err := plan.KeepOutputs(opts.Outputs); err == nil {
			flops = plan.FLOPs()
		}
	}
	if r := plan.Report(); r.UnfusedAttentions > 0 && (opts.Fusion == "all" || opts.Fusion == "") {
		fmt.Fprintf(opts.IO.ErrOut, "%s: warning: %d transformer blocks run unfused, op by op (clip onnx info --plan says what)\n",
			opts.Model, r.UnfusedAttentions)
	}

	run := func() (float64, error) {
		if err := ctx.Err(); err != nil {
			return 0, err
		}
		t := time.Now()
		if _, err := s.Run(ctx, in, opts.Outputs...); err != nil {
			return 0, cmdutil.NewExitError(cmdutil.ExitRuntime, fmt.Errorf("%s: %w", opts.Model, err))
		}
		return msSince(t), nil
	}
	var firstMs float64
	for i := 0; i < max(opts.Warmup, 1); i++ {
		ms, err := run()
		if err != nil {
			return nil, err
		}
		if i == 0 {
			firstMs = ms
		}
	}
	// Without a requested warm-up, the compiling first run above is the
	// only untimed one.
	times := make([]float64, 0, opts.Runs)
	warmProfile := s.Profile()
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	for i := 0; i < opts.Runs; i++ {
		ms, err := run()
		if err != nil {
			return nil, err
		}
		times = append(times, ms)
	}
	runtime.ReadMemStats(&after)

	slices.Sort(times)
	med := median(times)
	res := &Result{
		Model:          opts.Model,
		Batch:          items,
		Threads:        opts.Threads,
		Runs:           opts.Runs,
		Warmup:         opts.Warmup,
		ISA:            isa.Resolve().String(),
		Fusion:         cmp.Or(opts.Fusion, "all"),
		Outputs:        opts.Outputs,
		Inputs:         shapes,
		MedianMs:       med,
		MinMs:          times[0],
		MsPerItem:      med / float64(items),
		MinMsPerItem:   times[0] / float64(items),
		ItemsPerSecond: float64(items) * 1000 / med,
		LoadMs:         loadMs,
		FirstRunMs:     firstMs,
		PeakRSSBytes:   PeakRSSBytes(),
		GFLOPs:         flops.Total / float64(items) / 1e9,
		GFLOPsByOp:     map[string]float64{},
		AllocsPerRun:   float64(after.Mallocs-before.Mallocs) / float64(opts.Runs),
		BytesPerRun:    float64(after.TotalAlloc-before.TotalAlloc) / float64(opts.Runs),
	}
	if med > 0 {
		res.GFLOPsPerSecond = flops.Total / (med / 1000) / 1e9
	}
	for op, f := range flops.ByOp {
		res.GFLOPsByOp[op] = f / float64(items) / 1e9
	}
	if opts.Profile {
		res.Profile, res.ProfiledMsPerRun = byOperator(warmProfile, s.Profile(), med)
	}
	return res, nil
}

// byOperator sums the steps' time between two profiles of the same
// plan (before and after the timed runs) by operator, per run, the most
// first; shares are of medianMs. It also returns the total per run.
func byOperator(before, after []engine.StepTime, medianMs float64) ([]OpTime, float64) {
	idx := map[string]int{}
	var out []OpTime
	var total float64
	for i, st := range after {
		d, runs := st.Total, st.Runs
		if i < len(before) && before[i].Op == st.Op {
			d, runs = d-before[i].Total, runs-before[i].Runs
		}
		if runs <= 0 {
			continue
		}
		ms := float64(d.Nanoseconds()) / 1e6 / float64(runs)
		j, ok := idx[st.Op]
		if !ok {
			j = len(out)
			idx[st.Op] = j
			out = append(out, OpTime{Op: st.Op})
		}
		out[j].Steps++
		out[j].MsPerRun += ms
		total += ms
	}
	for i := range out {
		if medianMs > 0 {
			out[i].Share = out[i].MsPerRun / medianMs
		}
	}
	slices.SortStableFunc(out, func(a, b OpTime) int { return cmp.Compare(b.MsPerRun, a.MsPerRun) })
	return out, total
}

// parseISA reads --isa: a known level this CPU supports, else a usage
// error.
func parseISA(name string) (kernels.ISA, error) {
	isa, err := kernels.ParseISA(name)
	if err != nil {
		return 0, cmdutil.UsageErrorf("--isa %q: unknown level (want native, generic, avx2, avx2vnni or avx512)", name)
	}
	if !isa.Supported() {
		return 0, cmdutil.UsageErrorf("--isa %s: this CPU lacks it (supported: %v)", isa, kernels.SupportedISAs())
	}
	return isa, nil
}

func msSince(t time.Time) float64 { return float64(time.Since(t).Nanoseconds()) / 1e6 }

// median of sorted values.
func median(sorted []float64) float64 {
	n := len(sorted)
	if n%2 == 1 {
		return sorted[n/2]
	}
	return (sorted[n/2-1] + sorted[n/2]) / 2
}

func printTable(io *iostreams.IOStreams, r *Result) {
	w := io.Out
	var ins []string
	for name, sh := range r.Inputs {
		ins = append(ins, fmt.Sprintf("%s%v", name, sh))
	}
	slices.Sort(ins)
	fmt.Fprintf(w, "model       %s\n", r.Model)
	fmt.Fprintf(w, "inputs      %s\n", strings.Join(ins, " "))
	fmt.Fprintf(w, "setup       batch %d, %d threads, %d warm-up + %d timed runs\n", r.Batch, r.Threads, r.Warmup, r.Runs)
	fmt.Fprintf(w, "kernels     %s\n", r.ISA)
	switch r.Fusion {
	case "generic":
		fmt.Fprintf(w, "fusion      generic only (no pattern fusions)\n")
	case "none":
		fmt.Fprintf(w, "fusion      none (op by op)\n")
	}
	fmt.Fprintf(w, "load        %.0f ms (engine.Open); first run %.0f ms (compiles for these shapes)\n", r.LoadMs, r.FirstRunMs)
	fmt.Fprintf(w, "per run     median %.2f ms, min %.2f ms\n", r.MedianMs, r.MinMs)
	fmt.Fprintf(w, "per item    median %.2f ms, min %.2f ms; %.2f items/s\n", r.MsPerItem, r.MinMsPerItem, r.ItemsPerSecond)
	fmt.Fprintf(w, "compute     %.3f GFLOP/item (matrix products), %.1f GFLOP/s at the median\n", r.GFLOPs, r.GFLOPsPerSecond)
	fmt.Fprintf(w, "peak RSS    %.1f MiB\n", float64(r.PeakRSSBytes)/(1<<20))
	fmt.Fprintf(w, "Go heap     %.0f allocations, %.2f MiB per run\n", r.AllocsPerRun, r.BytesPerRun/(1<<20))
	if len(r.Profile) > 0 {
		fmt.Fprintf(w, "profile     %.2f ms per run in steps (median run %.2f ms):\n", r.ProfiledMsPerRun, r.MedianMs)
		for _, o := range r.Profile {
			fmt.Fprintf(w, "  %-28s %9.2f ms  %5.1f%%  %d steps\n", o.Op, o.MsPerRun, 100*o.Share, o.Steps)
		}
	}
}
