//go:build !amd64

package kernels

func quantizeU8AVX2(dst *uint8, src *float32, n int, scale, zero float32) {
	panic("kernels: no AVX2 on this architecture")
}

func minMaxAVX2(x *float32, n int) (lo, hi float32) { panic("kernels: no AVX2 on this architecture") }

func dequantRowAVX2(dst *float32, src *int32, scale *float32, bias *float32, n int, s float32) {
	panic("kernels: no AVX2 on this architecture")
}

func dequantScaleAVX2(dst *float32, src *int32, n int, s float32) {
	panic("kernels: no AVX2 on this architecture")
}

func dequantTileAVX2(dst *float32, ldd int, src *int32, lds, rows, cols int, scale, bias, res *float32, ldr int) {
	panic("kernels: no AVX2 on this architecture")
}

func storeTileAVX2(dst *float32, ldd int, src *float32, lds, rows, cols int, res *float32, ldr int) {
	panic("kernels: no AVX2 on this architecture")
}
