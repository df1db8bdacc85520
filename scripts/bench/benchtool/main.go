// Command benchtool is the Go side of scripts/bench/run.sh: it measures
// the machine's FMA peak (the kernels' AVX2 loop, and an AVX-512 one), runs
// `clip onnx bench` in-process when the clip binary at hand lacks that verb,
// and writes BENCHMARKS.md from run.sh's result files. It is not part of
// the clip CLI.
//
//	go run ./scripts/bench/benchtool fma-peak [--seconds 2]
//	go run ./scripts/bench/benchtool bench MODEL.onnx --batch 8 --threads 2 --format json
//	go run ./scripts/bench/benchtool report --dir tmp/bench/results --out BENCHMARKS.md
package main

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"runtime"
	"sync"
	"time"

	"github.com/spf13/cobra"

	"github.com/clip-go/clip/pkg/cli/cmdutil"
	"github.com/clip-go/clip/pkg/cli/onnx/bench"
	"github.com/clip-go/clip/pkg/engine/kernels"
)

func main() {
	f := cmdutil.New("benchtool", "")
	root := &cobra.Command{Use: "benchtool", SilenceUsage: true}
	pf := root.PersistentFlags()
	pf.StringVar(&f.Globals.Format, "format", "", "table|json")
	pf.IntVar(&f.Globals.Threads, "threads", 0, "CPU threads (0: all cores)")
	root.AddCommand(bench.NewCmdBench(f, nil), newCmdFMAPeak(), newCmdReport())
	root.SetContext(context.Background())
	if err := root.Execute(); err != nil {
		os.Exit(cmdutil.ExitCode(err))
	}
}

// fmaPeak is the JSON printed by fma-peak.
type fmaPeak struct {
	// PerCore is one core alone; AllCores sums every core measured at
	// once (what a multi-threaded kernel can reach).
	PerCoreGFLOPs  float64   `json:"per_core_gflops"`
	AllCoresGFLOPs float64   `json:"all_cores_gflops"`
	Cores          int       `json:"cores"`
	EachCore       []float64 `json:"each_core_gflops"`
	Seconds        float64   `json:"seconds"`
	// The same with 512-bit FMAs where the CPU has AVX-512F (0 otherwise):
	// the kernels use 256-bit AVX2, onnxruntime's MLAS may use 512-bit.
	PerCoreAVX512GFLOPs  float64 `json:"per_core_avx512_gflops"`
	AllCoresAVX512GFLOPs float64 `json:"all_cores_avx512_gflops"`
}

// measureZMMPeak is kernels.MeasureFMAPeak with 512-bit FMAs: the best
// GFLOP/s over short slices of d on the calling goroutine's core.
func measureZMMPeak(d time.Duration) float64 {
	if !hasAVX512 {
		return 0
	}
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	const iters = 1 << 15
	zmmLoop(iters)
	best := 0.0
	for start := time.Now(); time.Since(start) < d; {
		t0 := time.Now()
		zmmLoop(iters)
		if g := iters * zmmFlopsPerIter / time.Since(t0).Seconds() / 1e9; g > best {
			best = g
		}
	}
	return best
}

// onEveryCore runs measure on every core at once and returns the sum and
// each core's figure.
func onEveryCore(n int, measure func() float64) (float64, []float64) {
	each := make([]float64, n)
	var wg sync.WaitGroup
	for i := range each {
		wg.Add(1)
		go func() {
			defer wg.Done()
			each[i] = measure()
		}()
	}
	wg.Wait()
	sum := 0.0
	for _, g := range each {
		sum += g
	}
	return sum, each
}

func newCmdFMAPeak() *cobra.Command {
	var seconds float64
	cmd := &cobra.Command{
		Use:   "fma-peak",
		Short: "Measure the float32 FMA peak (GFLOP/s) of one core and of all cores at once, as JSON",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			d := time.Duration(seconds * float64(time.Second))
			r := fmaPeak{Cores: runtime.NumCPU(), Seconds: seconds}
			r.PerCoreGFLOPs = kernels.MeasureFMAPeak(d)
			r.AllCoresGFLOPs, r.EachCore = onEveryCore(r.Cores, func() float64 { return kernels.MeasureFMAPeak(d) })
			if hasAVX512 {
				r.PerCoreAVX512GFLOPs = measureZMMPeak(d)
				r.AllCoresAVX512GFLOPs, _ = onEveryCore(r.Cores, func() float64 { return measureZMMPeak(d) })
			}
			if r.PerCoreGFLOPs == 0 {
				return fmt.Errorf("fma-peak: this CPU has no AVX2+FMA (or not amd64): no peak measured")
			}
			return json.NewEncoder(cmd.OutOrStdout()).Encode(r)
		},
	}
	cmd.Flags().Float64Var(&seconds, "seconds", 2, "measuring time per pass")
	return cmd
}
