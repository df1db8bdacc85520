// Package info implements `clip onnx info MODEL.onnx`: what an ONNX file
// declares (inputs and outputs with their dims, opsets, producer, operator
// histogram, parameter count and bytes) and how long it took to load.
package info

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
	"sort"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/clip-go/clip/pkg/cli/cmdutil"
	"github.com/clip-go/clip/pkg/cli/iostreams"
	"github.com/clip-go/clip/pkg/graph"
	"github.com/clip-go/clip/pkg/onnx"
)

// InfoOptions are the arguments of one `clip onnx info`.
type InfoOptions struct {
	IO      *iostreams.IOStreams
	Factory *cmdutil.Factory

	ModelPath string
	// Plan binds the model for one item and reports the fused steps and,
	// per transformer block, what was not fused.
	Plan bool
}

// NewCmdInfo returns `clip onnx info`. runF replaces infoRun in tests.
func NewCmdInfo(f *cmdutil.Factory, runF func(*InfoOptions) error) *cobra.Command {
	opts := &InfoOptions{IO: f.IOStreams, Factory: f}
	cmd := &cobra.Command{
		Use:   "info MODEL.onnx",
		Short: "Describe an ONNX model: inputs, outputs, opsets, operators, parameters",
		Long: `Describe an ONNX model file without running it: graph inputs and outputs
with their element types and dims (symbolic dims by name), the opset
imports, the producer, how often each operator occurs, and the number and
size of the parameters (initializers, including external data). The load
time is the time to map and decode the file.

On a terminal the description is a table; with --format json (or when
piped) it is one JSON object, for jq.

With --plan the model is also prepared as clip runs it (batch 1) and the
report adds the engine's steps after fusion and, per transformer block,
what was fused (Q/K/V in one Linear, the attention — "(causal)" when its
constant causal mask runs as the kernel's causal mode —, LayerNorms as
Linear prologues, the MLP activation and residual Adds as epilogues) and what
runs op by op, and why the block is slower when it does.`,
		Example: `  clip onnx info vision_model.onnx
  clip onnx info --format json text_model.onnx | jq .ops
  clip onnx info --plan vision_model.onnx`,
		Args: func(cmd *cobra.Command, args []string) error {
			if len(args) != 1 {
				return cmdutil.UsageErrorf("clip onnx info takes exactly one MODEL.onnx argument, got %d", len(args))
			}
			return nil
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.ModelPath = args[0]
			if runF != nil {
				return runF(opts)
			}
			return infoRun(opts)
		},
	}
	cmd.Flags().BoolVar(&opts.Plan, "plan", false, "also report the engine's fused plan, per transformer block")
	return cmd
}

// Summary is the JSON form of `clip onnx info`.
type Summary struct {
	Path            string            `json:"path"`
	FileBytes       int64             `json:"file_bytes"`
	IRVersion       int64             `json:"ir_version"`
	ProducerName    string            `json:"producer_name"`
	ProducerVersion string            `json:"producer_version"`
	OpsetImports    []Opset           `json:"opset_import"`
	Inputs          []Value           `json:"inputs"`
	Outputs         []Value           `json:"outputs"`
	Nodes           int               `json:"nodes"`
	Ops             map[string]int    `json:"ops"`
	Parameters      int64             `json:"parameters"`
	ParameterBytes  int64             `json:"parameter_bytes"`
	ParametersBy    map[string]int64  `json:"parameters_by_dtype"`
	ExternalData    bool              `json:"external_data"`
	Metadata        map[string]string `json:"metadata,omitempty"`
	LoadMillis      float64           `json:"load_ms"`
	// Plan is the fused plan's report (with --plan).
	Plan *graph.FusionReport `json:"plan,omitempty"`
}

// Opset is one opset import; Domain "" is the default ai.onnx domain.
type Opset struct {
	Domain  string `json:"domain"`
	Version int64  `json:"version"`
}

// Value is a graph input or output.
type Value = onnx.ValueSummary

func infoRun(opts *InfoOptions) error {
	format := cmdutil.FormatJSON
	if opts.Factory != nil {
		var err error
		if format, err = opts.Factory.OutputFormat(); err != nil {
			return err
		}
	}
	if format == cmdutil.FormatCSV {
		return cmdutil.UsageErrorf("clip onnx info has no csv output (use table, json or jsonl)")
	}
	st, err := os.Stat(opts.ModelPath)
	if err != nil {
		return cmdutil.NewExitError(cmdutil.ExitInputErrors, err)
	}
	start := time.Now()
	m, err := onnx.Load(opts.ModelPath)
	if err != nil {
		return cmdutil.NewExitError(cmdutil.ExitRuntime, err)
	}
	elapsed := time.Since(start)
	defer m.Close()
	s := Summarize(m)
	s.FileBytes = st.Size()
	s.LoadMillis = float64(elapsed.Microseconds()) / 1000
	if opts.Plan {
		if s.Plan, err = fusionReport(opts.ModelPath); err != nil {
			return cmdutil.NewExitError(cmdutil.ExitRuntime, err)
		}
	}

	switch format {
	case cmdutil.FormatTable:
		if err := writeTable(opts.IO.Out, s); err != nil || s.Plan == nil {
			return err
		}
		return writePlan(opts.IO.Out, s.Plan)
	case cmdutil.FormatJSON:
		enc := json.NewEncoder(opts.IO.Out)
		enc.SetIndent("", "  ")
		return enc.Encode(s)
	default: // jsonl: the same object on one line
		return json.NewEncoder(opts.IO.Out).Encode(s)
	}
}

// Summarize describes a decoded model (FileBytes and LoadMillis are left
// to the caller, who knows the file and the clock).
func Summarize(m *onnx.Model) *Summary {
	s := &Summary{
		Path:            m.Path,
		IRVersion:       m.IRVersion,
		ProducerName:    m.ProducerName,
		ProducerVersion: m.ProducerVersion,
		OpsetImports:    []Opset{},
		Inputs:          []Value{},
		Outputs:         []Value{},
		Ops:             map[string]int{},
		ParametersBy:    map[string]int64{},
		Metadata:        m.MetadataProps,
	}
	for _, o := range m.OpsetImports {
		s.OpsetImports = append(s.OpsetImports, Opset{Domain: o.Domain, Version: o.Version})
	}
	g := m.Graph
	inits := map[string]bool{}
	for _, t := range g.Initializers {
		inits[t.Name] = true
	}
	for _, vi := range g.Inputs {
		if inits[vi.Name] {
			continue // an initializer's optional override, not a model input
		}
		s.Inputs = append(s.Inputs, onnx.SummarizeValue(vi))
	}
	for _, vi := range g.Outputs {
		s.Outputs = append(s.Outputs, onnx.SummarizeValue(vi))
	}
	countGraph(s, g)
	return s
}

// countGraph adds g's nodes and initializers, and those of its subgraphs.
func countGraph(s *Summary, g *onnx.Graph) {
	for _, t := range g.Initializers {
		n := t.NumElements()
		s.Parameters += n
		s.ParameterBytes += n * int64(t.DataType.Size())
		s.ParametersBy[t.DataType.String()] += n
		if t.External != nil {
			s.ExternalData = true
		}
	}
	for _, n := range g.Nodes {
		s.Nodes++
		op := n.OpType
		if n.Domain != "" && n.Domain != "ai.onnx" {
			op = n.Domain + "." + op
		}
		s.Ops[op]++
		for _, a := range n.Attributes {
			if a.G != nil {
				countGraph(s, a.G)
			}
			for _, sg := range a.Graphs {
				countGraph(s, sg)
			}
		}
	}
}

func humanBytes(n int64) string {
	switch {
	case n >= 1<<30:
		return fmt.Sprintf("%.2f GiB", float64(n)/(1<<30))
	case n >= 1<<20:
		return fmt.Sprintf("%.1f MiB", float64(n)/(1<<20))
	case n >= 1<<10:
		return fmt.Sprintf("%.1f KiB", float64(n)/(1<<10))
	}
	return strconv.FormatInt(n, 10) + " B"
}

func humanCount(n int64) string {
	switch {
	case n >= 1e9:
		return fmt.Sprintf("%.2f G", float64(n)/1e9)
	case n >= 1e6:
		return fmt.Sprintf("%.2f M", float64(n)/1e6)
	case n >= 1e3:
		return fmt.Sprintf("%.1f k", float64(n)/1e3)
	}
	return strconv.FormatInt(n, 10)
}

func writeTable(out io.Writer, s *Summary) error {
	tw := tabwriter.NewWriter(out, 0, 4, 2, ' ', 0)
	fmt.Fprintf(tw, "Model\t%s (%s, loaded in %.1f ms)\n", s.Path, humanBytes(s.FileBytes), s.LoadMillis)
	producer := strings.TrimSpace(s.ProducerName + " " + s.ProducerVersion)
	if producer == "" {
		producer = "(not recorded)"
	}
	fmt.Fprintf(tw, "Producer\t%s, IR version %d\n", producer, s.IRVersion)
	var opsets []string
	for _, o := range s.OpsetImports {
		d := o.Domain
		if d == "" {
			d = "ai.onnx"
		}
		opsets = append(opsets, fmt.Sprintf("%s %d", d, o.Version))
	}
	fmt.Fprintf(tw, "Opsets\t%s\n", strings.Join(opsets, ", "))
	for i, v := range s.Inputs {
		label := ""
		if i == 0 {
			label = "Inputs"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", label, v.Name, v.DType, onnx.ShapeString(v.Shape))
	}
	for i, v := range s.Outputs {
		label := ""
		if i == 0 {
			label = "Outputs"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", label, v.Name, v.DType, onnx.ShapeString(v.Shape))
	}
	var by []string
	for dt, n := range s.ParametersBy {
		by = append(by, fmt.Sprintf("%s %s", humanCount(n), dt))
	}
	sort.Strings(by)
	ext := ""
	if s.ExternalData {
		ext = ", some in external data"
	}
	fmt.Fprintf(tw, "Parameters\t%s (%s: %s%s)\n", humanCount(s.Parameters), humanBytes(s.ParameterBytes), strings.Join(by, ", "), ext)
	type opCount struct {
		op string
		n  int
	}
	var ops []opCount
	for op, n := range s.Ops {
		ops = append(ops, opCount{op, n})
	}
	sort.Slice(ops, func(i, j int) bool {
		if ops[i].n != ops[j].n {
			return ops[i].n > ops[j].n
		}
		return ops[i].op < ops[j].op
	})
	fmt.Fprintf(tw, "Nodes\t%d\n", s.Nodes)
	for i, o := range ops {
		label := ""
		if i == 0 {
			label = "Ops"
		}
		fmt.Fprintf(tw, "%s\t%s\t%d\n", label, o.op, o.n)
	}
	return tw.Flush()
}
