package engine

import (
	"context"
	"encoding/json"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/clip-go/clip/pkg/engine/kernels"
	"github.com/clip-go/clip/pkg/graph"
	"github.com/clip-go/clip/pkg/npytensor"
)

// projectRoot is the repository root relative to this package.
const projectRoot = "../.."

type goldenSpec struct {
	Model string `json:"model"`
	Cases map[string]struct {
		Inputs map[string]json.RawMessage `json:"inputs"`
	} `json:"cases"`
}

// tolerance returns the allowed max abs difference for an output of a
// model file (by its stem), and whether it applies to L2-normalised rows.
func tolerance(stem, output string) (tol float64, normalised bool) {
	embeds := strings.HasSuffix(output, "_embeds")
	switch {
	case strings.Contains(stem, "_fp16"), strings.Contains(stem, "_q4f16"):
		if embeds {
			return 1e-2, true
		}
		// Logits (cosine × logit_scale ≈ 100) and hidden states are
		// float16 values: near 32 one ulp is 0.03, and a few ulps of
		// difference in the last roundings are expected.
		return 1e-1, false
	case strings.Contains(stem, "_quantized"), strings.Contains(stem, "_uint8"):
		if embeds {
			return 1e-3, true
		}
		return 1e-2, false
	}
	if embeds {
		return 1e-4, false
	}
	return 1e-3, false // logits (scaled by ×100) and hidden states
}

// TestDifferentialONNXRuntime runs every golden case that
// scripts/reference/ort_run.mjs recorded with onnxruntime and compares
// every output: embeddings within the tolerances, logits' ArgMax
// identical.
func TestDifferentialONNXRuntime(t *testing.T) {
	specs, _ := filepath.Glob(filepath.Join(projectRoot, "testdata", "golden", "ort", "*", "*", "inputs", "cases.json"))
	if len(specs) == 0 {
		msg := "no onnxruntime goldens under testdata/golden/ort (make fixtures writes them)"
		if os.Getenv("CI") == "true" {
			t.Fatal(msg)
		}
		t.Skip(msg)
	}
	sort.Strings(specs)
	// Every instruction-set level this CPU has runs the same comparison:
	// an AVX2-only machine runs the avx2 kernels, other architectures the
	// generic ones.
	for _, isa := range kernels.SupportedISAs() {
		for _, specPath := range specs {
			differentialCase(t, Options{ISA: isa}, specPath)
		}
	}
	// Op by op, as a graph none of the fusions matches runs: unfused
	// MatMul and Gemm by a weight read it packed, as a Linear does, and
	// every other operator runs on its own.
	for _, specPath := range specs {
		differentialCase(t, Options{NoFusion: true}, specPath)
		differentialCase(t, Options{GenericFusion: true}, specPath)
	}
}

// differentialCase checks one golden spec with the session options opt.
func differentialCase(t *testing.T, opt Options, specPath string) {
	stemDir := filepath.Dir(filepath.Dir(specPath))
	stem := filepath.Base(stemDir)
	modelDir := filepath.Base(filepath.Dir(stemDir))
	name := opt.ISA.String()
	switch {
	case opt.NoFusion:
		name = "op-by-op"
	case opt.GenericFusion:
		name = "generic-fusion"
	}
	t.Run(name+"/"+modelDir+"/"+stem, func(t *testing.T) {
		b, err := os.ReadFile(specPath)
		if err != nil {
			t.Fatal(err)
		}
		var spec goldenSpec
		if err := json.Unmarshal(b, &spec); err != nil {
			t.Fatalf("%s: %v", specPath, err)
		}
		s, err := Open(context.Background(), filepath.Join(projectRoot, spec.Model), opt)
		if err != nil {
			t.Fatal(err)
		}
		defer s.Close()
		var cases []string
		for c := range spec.Cases {
			cases = append(cases, c)
		}
		sort.Strings(cases)
		for _, c := range cases {
			feeds := map[string]*Tensor{}
			for name := range spec.Cases[c].Inputs {
				tt, err := npytensor.ReadFile(filepath.Join(stemDir, "inputs", c+"."+name+".npy"))
				if err != nil {
					t.Fatal(err)
				}
				feeds[name] = tt
			}
			got, err := s.Run(context.Background(), feeds)
			if err != nil {
				t.Fatalf("case %s: %v", c, err)
			}
			for _, o := range s.Outputs() {
				wantPath := filepath.Join(stemDir, "outputs", c+"."+o.Name+".npy")
				want, err := npytensor.ReadFile(wantPath)
				if err != nil {
					if os.IsNotExist(err) && os.Getenv("CI") != "true" {
						t.Skipf("golden output %s missing (run scripts/reference/ort_run.mjs)", wantPath)
					}
					t.Fatal(err)
				}
				tol, norm := tolerance(stem, o.Name)
				d, err := maxAbsDiff(got[o.Name], want, norm)
				if err != nil {
					t.Fatalf("case %s output %s: %v", c, o.Name, err)
				}
				t.Logf("%s/%s case %s output %s: max abs diff %.3g (normalised=%v, limit %g)", modelDir, stem, c, o.Name, d, norm, tol)
				if !within(d, tol) {
					t.Errorf("case %s output %s: max abs diff %.3g > %g", c, o.Name, d, tol)
				}
				if strings.HasPrefix(o.Name, "logits") {
					if err := sameArgMax(got[o.Name], want); err != nil {
						t.Errorf("case %s output %s: %v", c, o.Name, err)
					}
				}
				// Asking for this output alone returns it alone, with
				// the same values.
				one, err := s.Run(context.Background(), feeds, o.Name)
				if err != nil {
					t.Fatalf("case %s, output %s alone: %v", c, o.Name, err)
				}
				if len(one) != 1 || one[o.Name] == nil {
					t.Fatalf("case %s, output %s alone: got %d outputs", c, o.Name, len(one))
				}
				if d, err := maxAbsDiff(one[o.Name], want, norm); err != nil || !within(d, tol) {
					t.Errorf("case %s output %s alone: max abs diff %.3g (%v), limit %g", c, o.Name, d, err, tol)
				}
			}
		}
	})
}

// within reports whether a difference from maxAbsDiff is at most tol. It
// is false for NaN, which maxAbsDiff returns when any compared element is
// NaN: `d > tol` would be false for NaN and let a NaN output pass.
func within(d, tol float64) bool { return d <= tol }

// maxAbsDiff compares two tensors; with normalised, each last-axis row is
// first scaled to unit L2 norm (how CLIP uses its embeddings). A NaN in
// either tensor makes the result NaN (see within).
func maxAbsDiff(got, want *Tensor, normalised bool) (float64, error) {
	if got == nil {
		return 0, fmt.Errorf("output missing")
	}
	if !sameShape(got.Shape, want.Shape) {
		return 0, fmt.Errorf("shape %v, want %v", got.Shape, want.Shape)
	}
	if got.DType != want.DType {
		return 0, fmt.Errorf("dtype %s, want %s", graph.DTypeName(got.DType), graph.DTypeName(want.DType))
	}
	n := want.Len()
	row := 1
	if len(want.Shape) > 0 {
		row = want.Shape[len(want.Shape)-1]
	}
	worst := 0.0
	for r := 0; r*row < n; r++ {
		gs, ws := 1.0, 1.0
		if normalised {
			var gn, wn float64
			for i := r * row; i < (r+1)*row; i++ {
				gn += got.Float64At(i) * got.Float64At(i)
				wn += want.Float64At(i) * want.Float64At(i)
			}
			gs, ws = 1/math.Sqrt(gn), 1/math.Sqrt(wn)
		}
		for i := r * row; i < (r+1)*row; i++ {
			d := math.Abs(got.Float64At(i)*gs - want.Float64At(i)*ws)
			if d > worst || d != d {
				worst = d
			}
		}
	}
	return worst, nil
}

func sameArgMax(got, want *Tensor) error {
	row := want.Shape[len(want.Shape)-1]
	for r := 0; r*row < want.Len(); r++ {
		bg, bw := r*row, r*row
		for i := r * row; i < (r+1)*row; i++ {
			if got.Float64At(i) > got.Float64At(bg) {
				bg = i
			}
			if want.Float64At(i) > want.Float64At(bw) {
				bw = i
			}
		}
		if bg != bw {
			return fmt.Errorf("row %d: ArgMax %d, onnxruntime %d", r, bg-r*row, bw-r*row)
		}
	}
	return nil
}
