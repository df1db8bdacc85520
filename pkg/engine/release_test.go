package engine

import (
	"context"
	"path/filepath"
	"strings"
	"testing"
)

// TestReleasedWeightsRebind runs the float16 and 4-bit fixture towers,
// whose float32 weights are lazy heap copies (widened or dequantized when
// packed, see graph.Tensor.Materialize): once a plan has packed them,
// the copies must be gone, and a second plan (another batch size) must
// compute what a fresh session computes, bit for bit; so must the first
// plan run again afterwards.
func TestReleasedWeightsRebind(t *testing.T) {
	ctx := context.Background()
	n := 0
	for _, f := range fixtureModels(t) {
		base := filepath.Base(f)
		if !strings.Contains(base, "_fp16") && !strings.Contains(base, "_q4") && !strings.Contains(base, "_bnb4") {
			continue
		}
		n++
		name := filepath.Base(filepath.Dir(filepath.Dir(f))) + "/" + base
		t.Run(name, func(t *testing.T) {
			s, err := Open(ctx, f, Options{})
			if err != nil {
				t.Fatal(err)
			}
			defer s.Close()
			one := benchInputs(s, 1, 7, imageSize(f))
			two := benchInputs(s, 2, 9, imageSize(f))
			first, err := s.Run(ctx, one)
			if err != nil {
				t.Fatal(err)
			}
			released, lazy := 0, 0
			for _, c := range s.Graph().Consts {
				if c.Lazy() {
					lazy++
					if !c.Materialized() {
						released++
					}
				}
			}
			t.Logf("%d of %d lazy initializers not held after the first plan", released, lazy)
			if released == 0 {
				t.Fatalf("every weight held (%d lazy)", lazy)
			}
			got, err := s.Run(ctx, two)
			if err != nil {
				t.Fatal(err)
			}
			again, err := s.Run(ctx, one)
			if err != nil {
				t.Fatal(err)
			}
			fresh, err := Open(ctx, f, Options{})
			if err != nil {
				t.Fatal(err)
			}
			defer fresh.Close()
			want, err := fresh.Run(ctx, two)
			if err != nil {
				t.Fatal(err)
			}
			for _, o := range s.Outputs() {
				if d, err := maxAbsDiff(got[o.Name], want[o.Name], false); err != nil || d != 0 {
					t.Errorf("%s from the second plan differs from a fresh session's by %g (%v)", o.Name, d, err)
				}
				if d, err := maxAbsDiff(again[o.Name], first[o.Name], false); err != nil || d != 0 {
					t.Errorf("%s from the first plan run again differs by %g (%v)", o.Name, d, err)
				}
			}
		})
	}
	if n == 0 {
		t.Fatal("no float16 or 4-bit fixture")
	}
}
