// Command benchtool is the Go side of scripts/bench/run.sh: it measures
// the machine's FMA peak with the kernels' register-only loop, and runs
// `clip onnx bench` in-process when the clip binary at hand does not have
// that verb yet. It is not part of the clip CLI.
//
//	go run ./scripts/bench/benchtool fma-peak [--seconds 2]
//	go run ./scripts/bench/benchtool bench MODEL.onnx --batch 8 --threads 2 --format json
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
	root.AddCommand(bench.NewCmdBench(f, nil), newCmdFMAPeak())
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
			r.EachCore = make([]float64, r.Cores)
			var wg sync.WaitGroup
			for i := range r.EachCore {
				wg.Add(1)
				go func() {
					defer wg.Done()
					r.EachCore[i] = kernels.MeasureFMAPeak(d)
				}()
			}
			wg.Wait()
			for _, g := range r.EachCore {
				r.AllCoresGFLOPs += g
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
