package engine

import (
	"context"
	"path/filepath"
	"testing"
	"time"
)

// With Options.Profile every step of the plan is timed in every finished
// run: one entry per step, in plan order, each counting the runs made,
// and the steps' times summing to no more than the runs took. Without it
// there is no profile.
func TestProfile(t *testing.T) {
	path := filepath.Join(projectRoot, "testdata", "models", "tiny-shapes", "onnx", "vision_model.onnx")
	ctx := context.Background()
	s, err := Open(ctx, path, Options{Threads: 1, Profile: true})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	feeds := benchInputs(s, 2, 77, imageSize(path))
	if got := s.Profile(); len(got) != 0 {
		t.Fatalf("profile before any run: %d steps", len(got))
	}
	const runs = 3
	var wall time.Duration
	for range runs {
		t0 := time.Now()
		if _, err := s.Run(ctx, feeds); err != nil {
			t.Fatal(err)
		}
		wall += time.Since(t0)
	}
	prof := s.Profile()
	if len(prof) < 5 {
		t.Fatalf("profile has %d steps, want the plan's steps", len(prof))
	}
	var sum time.Duration
	ops := map[string]bool{}
	for i, st := range prof {
		if st.Runs != runs || st.Op == "" || st.Total < 0 {
			t.Errorf("step %d: %+v, want %d runs and an operator", i, st, runs)
		}
		sum += st.Total
		ops[st.Op] = true
	}
	if sum <= 0 || sum > wall {
		t.Errorf("steps sum to %v over runs that took %v", sum, wall)
	}
	for _, op := range []string{"clip.Attention", "clip.Linear"} {
		if !ops[op] {
			t.Errorf("no %s step in the profile of %v", op, ops)
		}
	}

	plain, err := Open(ctx, path, Options{Threads: 1})
	if err != nil {
		t.Fatal(err)
	}
	defer plain.Close()
	if _, err := plain.Run(ctx, feeds); err != nil {
		t.Fatal(err)
	}
	if got := plain.Profile(); got != nil {
		t.Errorf("a Session without Options.Profile returned a profile of %d steps", len(got))
	}
}
