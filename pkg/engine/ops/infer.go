package ops

import (
	"fmt"
	"sort"

	"github.com/clip-go/clip/pkg/graph"
	"github.com/clip-go/clip/pkg/onnx"
)

// Helpers of the operators' shape inference (graph.OpDef.Infer).

func normAxis(a, r int) (int, error) {
	if a < -r || a >= r {
		if r == 0 && (a == 0 || a == -1) {
			return 0, nil
		}
		return 0, fmt.Errorf("axis %d out of range for rank %d", a, r)
	}
	if a < 0 {
		a += r
	}
	return a, nil
}

func normAxes(as []int, r int) ([]int, error) {
	out := make([]int, 0, len(as))
	seen := map[int]bool{}
	for _, a := range as {
		n, err := normAxis(a, r)
		if err != nil {
			return nil, err
		}
		if seen[n] {
			return nil, fmt.Errorf("axis %d repeated", a)
		}
		seen[n] = true
		out = append(out, n)
	}
	sort.Ints(out)
	return out, nil
}

func toInts(xs []int64) []int {
	r := make([]int, len(xs))
	for i, x := range xs {
		r[i] = int(x)
	}
	return r
}

// constInts reads input i as a constant integer list; absent gives nil, false.
func constInts(s *graph.Step, i int) ([]int, bool, error) {
	if i >= len(s.In) || s.In[i] == nil {
		return nil, false, nil
	}
	v := s.In[i]
	if v.Const == nil {
		return nil, false, fmt.Errorf("input %d (%q) must be known before the run (a constant or derived from input shapes)", i, v.Name)
	}
	xs, err := v.Const.Ints()
	if err != nil {
		return nil, false, fmt.Errorf("input %d (%q): %w", i, v.Name, err)
	}
	return xs, true, nil
}

// axesParam reads axes from the attribute (before fromOpset) or input 1.
func axesParam(s *graph.Step, opset, fromOpset int64) ([]int, bool, error) {
	if opset >= fromOpset {
		return constInts(s, 1)
	}
	if s.Node.Has("axes") {
		return toInts(s.Node.Ints("axes")), true, nil
	}
	return nil, false, nil
}

func need(s *graph.Step, n int) error {
	if len(s.In) < n {
		return fmt.Errorf("needs at least %d inputs, has %d", n, len(s.In))
	}
	for i := 0; i < n; i++ {
		if s.In[i] == nil {
			return fmt.Errorf("required input %d is missing", i)
		}
	}
	if len(s.Out) == 0 {
		return fmt.Errorf("has no outputs")
	}
	return nil
}

func setOut(s *graph.Step, i int, dt onnx.DataType, shape []int) {
	if i < len(s.Out) {
		s.Out[i].DType, s.Out[i].Shape = dt, shape
	}
}

func cp(s []int) []int { return append([]int{}, s...) }

// withX adapts the shape inference of an operator reading input 0 (x),
// as nearly all do: it checks that x and an output are there first.
func withX(infer func(s *graph.Step, x *graph.Value, opset int64) error) func(*graph.Step, int64) error {
	return func(s *graph.Step, opset int64) error {
		if err := need(s, 1); err != nil {
			return err
		}
		return infer(s, s.In[0], opset)
	}
}
