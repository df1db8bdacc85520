package engine

import (
	"context"
	"math"
	"path/filepath"
	"strings"
	"testing"

	"github.com/clip-go/clip/pkg/graph"
)

// TestSelectedRows asks every fixture model for each pooled embedding
// alone, as clip classify does. The tower's last block then runs on the
// pooled tokens only (graph.Plan.KeepOutputs): the embedding must equal
// the whole plan's within 1e-5 of its scale (TestFusionMatchesUnfused
// and the differential tests hold that one to the unfused graph and to
// onnxruntime), and every tower that pools one token must have moved its
// last block onto those rows — its attention computing the pooled
// queries alone, and (float towers) the output projection and MLP
// behind it.
func TestSelectedRows(t *testing.T) {
	for _, f := range fixtureModels(t) {
		ctx := context.Background()
		s, err := Open(ctx, f, Options{})
		if err != nil {
			t.Fatal(err)
		}
		var embeds []string
		for _, o := range s.Outputs() {
			if strings.HasSuffix(o.Name, "_embeds") && len(s.Outputs()) > 1 {
				embeds = append(embeds, o.Name)
			}
		}
		feeds := benchInputs(s, 3, 9, imageSize(f))
		var want map[string]*Tensor
		if len(embeds) > 0 {
			if want, err = s.Run(ctx, feeds); err != nil {
				t.Fatal(err)
			}
		}
		for _, out := range embeds {
			name := filepath.Base(filepath.Dir(filepath.Dir(f))) + "/" + filepath.Base(f) + "/" + out
			t.Run(name, func(t *testing.T) { selectedRowsCase(t, s, feeds, want[out], out, filepath.Base(f)) })
		}
		s.Close()
	}
}

func selectedRowsCase(t *testing.T, s *Session, feeds map[string]*Tensor, want *Tensor, out, base string) {
	got, err := s.Run(context.Background(), feeds, out)
	if err != nil {
		t.Fatal(err)
	}
	scale := 0.0
	for i := 0; i < want.Len(); i++ {
		scale = math.Max(scale, math.Abs(want.Float64At(i)))
	}
	d, err := maxAbsDiff(got[out], want, false)
	if err != nil {
		t.Fatal(err)
	}
	if !within(d, 1e-5*math.Max(scale, 1)) {
		t.Errorf("%s alone differs from the whole plan's by %g (scale %g)", out, d, scale)
	}
	// The plan of the run asking for this output alone.
	var stats map[string]int
	var rowsAttention, attentions int
	for _, e := range s.plans {
		if len(e.plan.Outputs) != 1 || e.plan.Outputs[0].Name != out {
			continue
		}
		stats = e.fused
		for _, st := range e.plan.Steps {
			if st.Node.Op == graph.OpAttention {
				attentions++
				if len(st.In) > 4 && st.In[4] != nil {
					rowsAttention++
				}
			}
		}
	}
	t.Logf("%s alone: max diff %.3g; %d steps on selected rows, %d attentions on selected queries; %v", out, d, stats["SelectedRows"], rowsAttention, stats)
	quantized := strings.Contains(base, "_quantized") || strings.Contains(base, "_uint8")
	switch {
	case stats["PoolingAttention"] > 0:
		// SigLIP's vision head pools every token: nothing to drop.
	case attentions == 0:
		t.Errorf("no attention in the plan of %s: %v", out, stats)
	case quantized:
		// int8 blocks quantize each activation with one scale for the
		// whole tensor: only the last Linear (and what follows) can drop
		// rows.
		if stats["SelectedRows"] < 1 {
			t.Errorf("int8 tower: no step on selected rows: %v", stats)
		}
	default:
		if rowsAttention != 1 || stats["SelectedRows"] < 4 {
			t.Errorf("%d attentions on selected queries and %d steps on selected rows, want 1 and ≥ 4: %v", rowsAttention, stats["SelectedRows"], stats)
		}
	}
}
