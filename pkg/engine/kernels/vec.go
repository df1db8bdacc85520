package kernels

// Add sets dst[i] += src[i] for i < len(src); len(dst) ≥ len(src).
func Add(dst, src []float32) {
	dst = dst[:len(src)]
	n := 0
	if hasAVX2FMA {
		n = len(src) &^ 31
		if n > 0 {
			addAVX2(&dst[0], &src[0], n)
		}
	}
	for i := n; i < len(src); i++ {
		dst[i] += src[i]
	}
}
