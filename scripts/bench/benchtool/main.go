// Command benchtool is the Go side of scripts/bench/run.sh: it measures
// the machine's FMA peak (the kernels' register-only loops), runs
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
	"golang.org/x/sys/cpu"

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
	// PerCore and AllCores are kernels.MeasureFMAPeak: FMAs of the vector
	// width the Sgemm kernels use on this CPU (zmm with AVX-512F, else
	// ymm), on one core alone and summed over every core measured at once
	// — the ceiling our GEMM efficiency is quoted against.
	PerCoreGFLOPs  float64   `json:"per_core_gflops"`
	AllCoresGFLOPs float64   `json:"all_cores_gflops"`
	EachCore       []float64 `json:"each_core_gflops"`
	Width          string    `json:"vector_width"`
	// The same with 256-bit AVX2 FMAs (kernels.MeasureFMAPeakAVX2).
	PerCoreAVX2GFLOPs  float64 `json:"per_core_avx2_gflops"`
	AllCoresAVX2GFLOPs float64 `json:"all_cores_avx2_gflops"`
	Cores              int     `json:"cores"`
	Seconds            float64 `json:"seconds"`
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
		Long: `Measure the float32 FMA peak with the kernels' register-only loops: at the
vector width Sgemm uses on this CPU (kernels.MeasureFMAPeak) and at 256-bit
AVX2 width (kernels.MeasureFMAPeakAVX2), on one core and on every core at once.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			d := time.Duration(seconds * float64(time.Second))
			r := fmaPeak{Cores: runtime.NumCPU(), Seconds: seconds, Width: "ymm (AVX2)"}
			if cpu.X86.HasAVX512F {
				r.Width = "zmm (AVX-512F)"
			}
			r.PerCoreGFLOPs = kernels.MeasureFMAPeak(d)
			if r.PerCoreGFLOPs == 0 {
				return fmt.Errorf("fma-peak: this CPU has no AVX2+FMA (or is not amd64): no peak measured")
			}
			r.AllCoresGFLOPs, r.EachCore = onEveryCore(r.Cores, func() float64 { return kernels.MeasureFMAPeak(d) })
			r.PerCoreAVX2GFLOPs = kernels.MeasureFMAPeakAVX2(d)
			r.AllCoresAVX2GFLOPs, _ = onEveryCore(r.Cores, func() float64 { return kernels.MeasureFMAPeakAVX2(d) })
			return json.NewEncoder(cmd.OutOrStdout()).Encode(r)
		},
	}
	cmd.Flags().Float64Var(&seconds, "seconds", 2, "measuring time per pass")
	return cmd
}
