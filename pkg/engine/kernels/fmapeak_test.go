package kernels

import (
	"math"
	"testing"
	"time"
)

// TestMeasureFMAPeak checks the peak probe returns a plausible rate (not
// its speed): positive and finite on AVX2 machines, 0 elsewhere, and
// below 2 TFLOP/s per core, which no AVX2 core reaches (a folded or
// miscounted loop would).
func TestMeasureFMAPeak(t *testing.T) {
	g := MeasureFMAPeak(20 * time.Millisecond)
	if hasNEON {
		if !(g > 0) || math.IsInf(g, 0) || g > 2000 {
			t.Fatalf("MeasureFMAPeak = %g GFLOP/s per core on NEON, implausible", g)
		}
		return
	}
	if !hasAVX2FMA {
		if g != 0 {
			t.Fatalf("MeasureFMAPeak = %g without AVX2, want 0", g)
		}
		return
	}
	if !(g > 0) || math.IsInf(g, 0) || g > 2000 {
		t.Fatalf("MeasureFMAPeak = %g GFLOP/s per core, implausible", g)
	}
	g2 := MeasureFMAPeakAVX2(20 * time.Millisecond)
	if !(g2 > 0) || g2 > 2000 {
		t.Fatalf("MeasureFMAPeakAVX2 = %g GFLOP/s per core, implausible", g2)
	}
	t.Logf("FMA peak: %.1f GFLOP/s per core (ymm: %.1f)", g, g2)
}
