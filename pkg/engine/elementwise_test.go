package engine

import (
	"context"
	"encoding/json"
	"math"
	"os"
	"path/filepath"
	"sort"
	"testing"

	"github.com/clip-go/clip/pkg/npytensor"
)

// TestElementwiseChainsExact runs every golden model (the onnxruntime
// differential test's files and inputs) op by op and with the generic
// fusions, whose elementwise chains run as one step each: the outputs
// must be equal bit for bit, since each instruction of a chain computes
// what its operator's own kernel does; and every float32 model must have
// chains to fuse (its LayerNorms and activations written out).
func TestElementwiseChainsExact(t *testing.T) {
	specs, _ := filepath.Glob(filepath.Join(projectRoot, "testdata", "golden", "ort", "*", "*", "inputs", "cases.json"))
	if len(specs) == 0 {
		t.Skip("no onnxruntime goldens under testdata/golden/ort (make fixtures writes them)")
	}
	sort.Strings(specs)
	chains := 0
	for _, specPath := range specs {
		b, err := os.ReadFile(specPath)
		if err != nil {
			t.Fatal(err)
		}
		var spec goldenSpec
		if err := json.Unmarshal(b, &spec); err != nil {
			t.Fatalf("%s: %v", specPath, err)
		}
		stemDir := filepath.Dir(filepath.Dir(specPath))
		path := filepath.Join(projectRoot, spec.Model)
		plain, err := Open(context.Background(), path, Options{NoFusion: true})
		if err != nil {
			t.Fatal(err)
		}
		generic, err := Open(context.Background(), path, Options{GenericFusion: true})
		if err != nil {
			t.Fatal(err)
		}
		for c := range spec.Cases {
			feeds := map[string]*Tensor{}
			for name := range spec.Cases[c].Inputs {
				if feeds[name], err = npytensor.ReadFile(filepath.Join(stemDir, "inputs", c+"."+name+".npy")); err != nil {
					t.Fatal(err)
				}
			}
			want, err := plain.Run(context.Background(), feeds)
			if err != nil {
				t.Fatalf("%s case %s op by op: %v", spec.Model, c, err)
			}
			got, err := generic.Run(context.Background(), feeds)
			if err != nil {
				t.Fatalf("%s case %s with elementwise chains: %v", spec.Model, c, err)
			}
			for name, w := range want {
				g := got[name]
				if len(g.Float32) != len(w.Float32) {
					t.Fatalf("%s case %s output %s: %d values, want %d", spec.Model, c, name, len(g.Float32), len(w.Float32))
				}
				for i := range w.Float32 {
					if math.Float32bits(g.Float32[i]) != math.Float32bits(w.Float32[i]) {
						t.Errorf("%s case %s output %s[%d] = %v with elementwise chains, %v op by op", spec.Model, c, name, i, g.Float32[i], w.Float32[i])
						break
					}
				}
			}
		}
		for _, e := range generic.plans {
			chains += e.fused["Elementwise"]
		}
		plain.Close()
		generic.Close()
	}
	if chains == 0 {
		t.Error("no elementwise chain fused in any golden model")
	}
	t.Logf("%d elementwise chains over %d models", chains, len(specs))
}
