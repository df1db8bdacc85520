package kernels

import (
	"reflect"
	"testing"
)

// TestISAKernelChoice checks what each amd64 level may run: no zmm code
// below ISAAVX512, no AVX-VNNI below ISAAVX2VNNI, no assembly in generic.
func TestISAKernelChoice(t *testing.T) {
	fn := func(f any) uintptr { return reflect.ValueOf(f).Pointer() }
	for _, isa := range SupportedISAs() {
		lv := &isaTable[isa]
		switch isa {
		case ISAGeneric:
			if fn(lv.gemm.one) != fn(kernelGeneric) || fn(lv.gemm8.one) != fn(kernel8Generic) || fn(lv.quickGELU) != fn(quickGELUGo) || fn(lv.add) != fn(addGo) {
				t.Error("generic level runs assembly")
			}
		case ISAAVX2, ISAAVX2VNNI:
			want8 := kernel8AVX2
			if isa == ISAAVX2VNNI {
				want8 = kernel8VNNI
			}
			if fn(lv.gemm.one) != fn(kernelAVX2) || lv.gemm.two != nil || lv.gemm.three != nil || lv.gemm.four != nil || lv.gemm.fourDirectA != nil {
				t.Errorf("%v: float32 GEMM uses more than the 6×16 ymm kernel", isa)
			}
			if fn(lv.gemm8.one) != fn(want8) || lv.gemm8.two != nil || lv.quad8 {
				t.Errorf("%v: int8 GEMM kernel is not the %v one", isa, isa)
			}
			if fn(lv.quickGELU) != fn(quickGELUYMM) {
				t.Errorf("%v: QuickGELU is not the ymm one", isa)
			}
		}
	}
	if isaTable[ISANative].supported != true || nativeISA == ISANative {
		t.Error("native level not resolved on amd64")
	}
}
