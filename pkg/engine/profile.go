package engine

import (
	"slices"
	"time"
)

// StepTime is one step of a compiled plan and the time it took over the
// profiled runs (Options.Profile).
type StepTime struct {
	// Op is the step's operator: an ONNX operator, or the fused step's
	// name (clip.Linear, clip.QLinear, clip.Attention, …).
	Op string
	// Node names the ONNX node the step came from (for a fused step, the
	// node the fusion kept).
	Node  string
	Total time.Duration
	// Runs is how many finished runs Total sums.
	Runs int
}

// Profile returns, for a Session opened with Options.Profile, every
// compiled plan's steps in plan order (plans in the order of their input
// shapes' keys) with their time summed over the finished runs so far;
// nil without Options.Profile. It reads the machines not running at the
// moment: call it between runs for a complete count. A step's time is
// its wall time on the run's goroutine, its parallel kernels included;
// the time between steps (Gorgonia's tape, input binding, output copies)
// belongs to no step.
func (s *Session) Profile() []StepTime {
	if !s.opt.Profile {
		return nil
	}
	s.mu.Lock()
	keys := make([]string, 0, len(s.plans))
	for k := range s.plans {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	entries := make([]*planEntry, len(keys))
	for i, k := range keys {
		entries[i] = s.plans[k]
	}
	s.mu.Unlock()
	var out []StepTime
	for _, e := range entries {
		e.mu.Lock()
		var steps []StepTime
		for _, m := range e.idle {
			if m.vm == nil || m.vm.times == nil {
				continue
			}
			if steps == nil {
				steps = make([]StepTime, len(m.ops))
				for _, op := range m.ops {
					steps[op.id] = StepTime{Op: op.step.Node.Op, Node: op.step.Node.Name}
				}
			}
			for _, op := range m.ops {
				steps[op.id].Total += m.vm.times[op.id]
				steps[op.id].Runs += m.vm.runs
			}
		}
		e.mu.Unlock()
		out = append(out, steps...)
	}
	return out
}
