package kernels

//go:noescape
func quantizeU8AVX2(dst *uint8, src *float32, n int, scale, zero float32)

//go:noescape
func minMaxAVX2(x *float32, n int) (lo, hi float32)

//go:noescape
func dequantRowAVX2(dst *float32, src *int32, scale *float32, bias *float32, n int, s float32)

//go:noescape
func dequantScaleAVX2(dst *float32, src *int32, n int, s float32)

//go:noescape
func dequantTileAVX2(dst *float32, ldd int, src *int32, lds, rows, cols int, scale, bias, res *float32, ldr int)

//go:noescape
func storeTileAVX2(dst *float32, ldd int, src *float32, lds, rows, cols int, res *float32, ldr int)
