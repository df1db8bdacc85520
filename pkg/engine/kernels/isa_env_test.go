package kernels

import (
	"os"
	"testing"
)

// CI runs this package's and the engine's tests a second time with the
// vector units hidden (GODEBUG=cpu.avx2=off,cpu.fma=off, which
// golang.org/x/sys/cpu honours) and CLIP_EXPECT_ISA=generic, so the
// portable kernels run on full lengths, not only on the tails the vector
// kernels leave. This test fails if that run silently used the vector
// kernels after all.
func TestNativeISAIsTheExpectedOne(t *testing.T) {
	want := os.Getenv("CLIP_EXPECT_ISA")
	if want == "" {
		t.Skip("CLIP_EXPECT_ISA not set (CI sets it with GODEBUG=cpu.avx2=off,cpu.fma=off)")
	}
	if got := nativeISA.String(); got != want {
		t.Fatalf("native instruction-set level is %s, want %s (GODEBUG=%q)", got, want, os.Getenv("GODEBUG"))
	}
	if want == ISAGeneric.String() && len(SupportedISAs()) != 1 {
		t.Errorf("supported levels %v, want only generic", SupportedISAs())
	}
}
