package ops

import (
	"math"
	"testing"
)

func TestCausalMask(t *testing.T) {
	causal := func(seq int, hidden float32) []float32 {
		m := make([]float32, seq*seq)
		for i := 0; i < seq; i++ {
			for j := i + 1; j < seq; j++ {
				m[i*seq+j] = hidden
			}
		}
		return m
	}
	lowest := float32(-math.MaxFloat32)
	inf := float32(math.Inf(-1))
	padded := causal(4, lowest)
	padded[3*4+1] = lowest // a padding key hidden below the diagonal
	diag := causal(4, lowest)
	diag[2*4+2] = lowest
	nan := causal(4, lowest)
	nan[1] = float32(math.NaN())
	tests := []struct {
		name string
		mask []float32
		seq  int
		want bool
	}{
		{"float32 lowest (HF)", causal(5, lowest), 5, true},
		{"-inf (OpenAI, open_clip)", causal(5, inf), 5, true},
		{"two batches", append(causal(3, inf), causal(3, lowest)...), 3, true},
		{"-10000 (not surely hidden)", causal(5, -10000), 5, false},
		{"padding too", padded, 4, false},
		{"diagonal hidden", diag, 4, false},
		{"NaN above", nan, 4, false},
		{"second batch not causal", append(causal(3, inf), make([]float32, 9)...), 3, false},
		{"all zero", make([]float32, 16), 4, false},
		{"no mask", nil, 4, false},
		{"not whole blocks", causal(4, inf)[:12], 4, false},
		{"one token", []float32{0}, 1, true},
	}
	for _, tt := range tests {
		if got := causalMask(tt.mask, tt.seq); got != tt.want {
			t.Errorf("%s: causalMask = %v, want %v", tt.name, got, tt.want)
		}
	}
}

// A constant mask is scanned once per Env; a mask computed at run time
// (its data may change between runs) is scanned every time.
func TestIsCausalScansConstantMasksOnce(t *testing.T) {
	const seq = 3
	hide := float32(math.Inf(-1))
	mask := []float32{0, hide, hide, 0, 0, hide, 0, 0, 0}
	e := &Env{}
	if !e.isCausal(mask, seq, true) || !e.isCausal(mask, seq, false) {
		t.Fatal("a causal mask not recognised")
	}
	mask[1] = 0 // now it hides nothing in row 0
	if e.isCausal(mask, seq, false) {
		t.Error("a run-time mask was not scanned again")
	}
	if !e.isCausal(mask, seq, true) {
		t.Error("a constant mask was scanned again")
	}
	var nilEnv *Env // Eval's: no cache
	if nilEnv.isCausal(mask, seq, true) {
		t.Error("without an Env the mask must be scanned")
	}
}
