package cli

import (
	"testing"

	"gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// TestGorgoniaStarts guards a known trap: with an old
// go4.org/unsafe/assume-no-moving-gc, any binary importing Gorgonia panics
// at start-up on Go 1.26. This test would not even start then.
func TestGorgoniaStarts(t *testing.T) {
	g := gorgonia.NewGraph()
	a := gorgonia.NewMatrix(g, tensor.Float32, gorgonia.WithShape(2, 2), gorgonia.WithValue(tensor.New(tensor.WithShape(2, 2), tensor.WithBacking([]float32{1, 2, 3, 4}))))
	b := gorgonia.Must(gorgonia.Mul(a, a))
	m := gorgonia.NewTapeMachine(g)
	defer m.Close()
	if err := m.RunAll(); err != nil {
		t.Fatal(err)
	}
	got := b.Value().Data().([]float32)
	want := []float32{7, 10, 15, 22} // [[1 2][3 4]]² by hand
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("Gorgonia matmul = %v, want %v", got, want)
		}
	}
}
