package info

import (
	"context"
	"fmt"
	"io"
	"sort"
	"strings"
	"text/tabwriter"

	"github.com/clip-go/clip/pkg/engine"
	"github.com/clip-go/clip/pkg/engine/feeds"
	"github.com/clip-go/clip/pkg/engine/ops"
	"github.com/clip-go/clip/pkg/graph"
)

// fusionReport prepares the model at path as the engine runs it, bound
// for one item (symbolic dims as `clip onnx bench` sizes them), fuses the
// plan and reports it.
func fusionReport(path string) (*graph.FusionReport, error) {
	ctx := context.Background()
	s, err := engine.Open(ctx, path, engine.Options{Threads: 1})
	if err != nil {
		return nil, err
	}
	defer s.Close()
	feeds, _, err := feeds.RandomInputs(s.Graph(), feeds.InputSpec{Batch: 1, Seq: feeds.SeqNear(path, 77), ImageSize: feeds.ImageSizeNear(path)})
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	shapes := map[string][]int{}
	for name, t := range feeds {
		shapes[name] = t.Shape
	}
	plan, err := s.Graph().Bind(ctx, shapes, nil, ops.Eval)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	plan.Fuse()
	r := plan.Report()
	return &r, nil
}

func writePlan(out io.Writer, r *graph.FusionReport) error {
	tw := tabwriter.NewWriter(out, 0, 4, 2, ' ', 0)
	var steps []string
	for op, n := range r.Steps {
		steps = append(steps, fmt.Sprintf("%s×%d", op, n))
	}
	sort.Strings(steps)
	fmt.Fprintf(tw, "Plan steps\t%s\n", strings.Join(steps, " "))
	full := 0
	for _, b := range r.Blocks {
		if b.Complete {
			full++
		}
	}
	fmt.Fprintf(tw, "Blocks\t%d with a fused attention, %d fully fused; %d attentions unfused\n", len(r.Blocks), full, r.UnfusedAttentions)
	for _, b := range r.Blocks {
		state := "fully fused"
		if !b.Complete {
			state = strings.Join(b.Missing, "; ")
		}
		name, norms := fmt.Sprintf("block %d", b.Index), 2
		if b.Pooling {
			name, norms = "pooling head", 1
		}
		act := ""
		if b.ActName != "" {
			act = ", fc1+" + b.ActName
		}
		attn := "attention 1/1"
		if b.Causal {
			attn += " (causal)"
		}
		fmt.Fprintf(tw, "  %s\tLinear %d/4%s, LayerNorm prologue %d/%d, %s\t%s\n", name, b.Linears, act, b.Prologues, norms, attn, state)
	}
	if r.UnfusedAttentions > 0 {
		fmt.Fprintf(tw, "  unfused\t%d attentions run op by op (no pattern matched): slower than a fused block\n", r.UnfusedAttentions)
	}
	return tw.Flush()
}
