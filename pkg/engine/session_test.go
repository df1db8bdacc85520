package engine

import (
	"context"
	"errors"
	"fmt"
	"sync/atomic"
	"testing"
	"time"

	"github.com/clip-go/clip/pkg/onnx"
)

// cancelAfterCtx is a context whose Err reports context.Canceled from its
// (n+1)th call on: a cancellation that lands at a chosen point inside a run
// without racing a timer. Done never closes, so a select on it never fires
// (the semaphore wait in Run is not what these tests are about).
type cancelAfterCtx struct {
	context.Context
	calls atomic.Int64
	n     int64
}

func (c *cancelAfterCtx) Err() error {
	if c.calls.Add(1) > c.n {
		return context.Canceled
	}
	return nil
}

func (c *cancelAfterCtx) Done() <-chan struct{}       { return nil }
func (c *cancelAfterCtx) Deadline() (time.Time, bool) { return time.Time{}, false }

// negChain is a session over x → Neg → … → Neg (steps times), x and
// every value a vector of n floats; the output is v<steps>.
func negChain(t testing.TB, steps, n int) *Session {
	t.Helper()
	g := &onnx.Graph{
		Inputs:  []*onnx.ValueInfo{vinfo("x", onnx.Float, n)},
		Outputs: []*onnx.ValueInfo{vinfo(fmt.Sprintf("v%d", steps), onnx.Float, n)},
	}
	prev := "x"
	for i := 1; i <= steps; i++ {
		out := fmt.Sprintf("v%d", i)
		g.Nodes = append(g.Nodes, &onnx.Node{Name: fmt.Sprintf("neg%d", i), OpType: "Neg", Inputs: []string{prev}, Outputs: []string{out}})
		prev = out
	}
	m := &onnx.Model{IRVersion: 8, OpsetImports: []onnx.OpsetImport{{Version: 13}}, Graph: g}
	s, err := NewSession(context.Background(), m, Options{Threads: 1})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// TestCancelledFirstRunDoesNotPoisonShape: the first run of a shape binds
// its plan; when that run's context is cancelled while binding, a later
// run with the same shape and a live context must still work (the bound
// plan, or its failure, is shared by every run of the shape).
func TestCancelledFirstRunDoesNotPoisonShape(t *testing.T) {
	s := negChain(t, 3, 4)
	x := &Tensor{DType: onnx.Float, Shape: []int{4}, Float32: []float32{1, 2, 3, 4}}
	// Run's own check passes; the next Err (binding's) says cancelled.
	first := &cancelAfterCtx{Context: context.Background(), n: 1}
	if _, err := s.Run(first, map[string]*Tensor{"x": x}); !errors.Is(err, context.Canceled) {
		t.Fatalf("first run: err = %v, want context.Canceled", err)
	}
	out, err := s.Run(context.Background(), map[string]*Tensor{"x": x})
	if err != nil {
		t.Fatalf("second run with the same shape after a cancelled first run: %v", err)
	}
	for i, v := range out["v3"].Float32 {
		if want := -x.Float32[i]; v != want {
			t.Fatalf("v3[%d] = %v, want %v", i, v, want)
		}
	}
}

// TestRunStopsWhenCancelledMidRun: a context cancelled after Run has
// started (the plan is already bound) stops the run between steps with
// context.Canceled rather than computing every step.
func TestRunStopsWhenCancelledMidRun(t *testing.T) {
	s := negChain(t, 20, 4)
	x := &Tensor{DType: onnx.Float, Shape: []int{4}, Float32: []float32{1, 2, 3, 4}}
	if _, err := s.Run(context.Background(), map[string]*Tensor{"x": x}); err != nil {
		t.Fatal(err) // binds the plan
	}
	ctx := &cancelAfterCtx{Context: context.Background(), n: 1} // Run's entry check passes
	_, err := s.Run(ctx, map[string]*Tensor{"x": x})
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("run cancelled after it started: err = %v, want context.Canceled", err)
	}
	if n := ctx.calls.Load(); n > 3 {
		t.Errorf("the context was checked %d times: the run went on after the cancellation", n)
	}
	// The session is still usable.
	out, err := s.Run(context.Background(), map[string]*Tensor{"x": x})
	if err != nil {
		t.Fatal(err)
	}
	if got := out["v20"].Float32[3]; got != 4 {
		t.Fatalf("v20[3] = %v after a cancelled run, want 4", got)
	}
}

// BenchmarkRunCancellableCtx runs 200 tiny steps under a cancellable
// context: the worst case for the per-step cancellation check (each step
// computes 16 floats, so the check is as large as it ever gets relative
// to the work).
func BenchmarkRunCancellableCtx(b *testing.B) {
	s := negChain(b, 200, 16)
	defer s.Close()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	x := &Tensor{DType: onnx.Float, Shape: []int{16}, Float32: make([]float32, 16)}
	in := map[string]*Tensor{"x": x}
	if _, err := s.Run(ctx, in); err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		if _, err := s.Run(ctx, in); err != nil {
			b.Fatal(err)
		}
	}
}

// TestPrepareReadiesTheFirstRun: Prepare binds the plan of the given
// shapes and lowers its machine, and the first Run of those shapes then
// runs that machine (no second plan, no second machine) with the right
// outputs.
func TestPrepareReadiesTheFirstRun(t *testing.T) {
	s := negChain(t, 3, 4)
	if err := s.Prepare(context.Background(), map[string][]int{"x": {4}}); err != nil {
		t.Fatal(err)
	}
	s.mu.Lock()
	var e *planEntry
	for _, pe := range s.plans {
		e = pe
	}
	n := len(s.plans)
	s.mu.Unlock()
	if n != 1 || e.plan == nil || len(e.idle) != 1 {
		t.Fatalf("after Prepare: %d plans, want 1 bound plan with one idle machine", n)
	}
	prepared := e.idle[0]
	x := &Tensor{DType: onnx.Float, Shape: []int{4}, Float32: []float32{1, 2, 3, 4}}
	out, err := s.Run(context.Background(), map[string]*Tensor{"x": x})
	if err != nil {
		t.Fatal(err)
	}
	if got := out["v3"].Float32; got[0] != -1 || got[3] != -4 {
		t.Fatalf("v3 = %v, want [-1 -2 -3 -4]", got)
	}
	if len(s.plans) != 1 || len(e.idle) != 1 || e.idle[0] != prepared {
		t.Error("the first Run after Prepare did not run the prepared machine")
	}
	s.Close()
	if err := s.Prepare(context.Background(), map[string][]int{"x": {4}}); err == nil {
		t.Error("Prepare on a closed session: want an error")
	}
}
