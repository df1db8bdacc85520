package imageproc

import (
	"fmt"
	"image"
	"math"
	"runtime"
	"sync"
)

// Resample is a resampling filter, numbered as Pillow and Hugging Face
// configs number them (PIL.Image.Resampling).
type Resample int

// Filters with Pillow's numbers. NEAREST (0) is not supported: Pillow runs
// it through a different code path and no CLIP config uses it.
const (
	Lanczos  Resample = 1
	Bilinear Resample = 2
	Bicubic  Resample = 3
	Box      Resample = 4
	Hamming  Resample = 5
)

func (r Resample) String() string {
	switch r {
	case Lanczos:
		return "lanczos"
	case Bilinear:
		return "bilinear"
	case Bicubic:
		return "bicubic"
	case Box:
		return "box"
	case Hamming:
		return "hamming"
	}
	return fmt.Sprintf("resample(%d)", int(r))
}

// filter is a separable resampling kernel with its support radius at
// scale 1, as in Pillow's libImaging/Resample.c.
type filter struct {
	fn      func(x float64) float64
	support float64
}

// The explicit float64() conversions stop the compiler from fusing
// multiply-adds (GOAMD64=v3), which would change the last bits of the
// weights relative to Pillow's C build (no FMA on baseline x86-64).
func bicubicKernel(x float64) float64 {
	const a = -0.5
	if x < 0 {
		x = -x
	}
	if x < 1 {
		return float64(float64(float64(float64((a+2)*x)-(a+3))*x)*x) + 1
	}
	if x < 2 {
		return float64(float64(float64(float64(float64(x-5)*x)+8)*x)-4) * a
	}
	return 0
}

func bilinearKernel(x float64) float64 {
	if x < 0 {
		x = -x
	}
	if x < 1 {
		return 1 - x
	}
	return 0
}

func boxKernel(x float64) float64 {
	if x > -0.5 && x <= 0.5 {
		return 1
	}
	return 0
}

func hammingKernel(x float64) float64 {
	if x < 0 {
		x = -x
	}
	if x == 0 {
		return 1
	}
	if x >= 1 {
		return 0
	}
	x = x * math.Pi
	// Pillow writes 0.54f + 0.46f * cos(x): float constants promoted to double.
	return math.Sin(x) / x * (float64(float32(0.54)) + float64(float64(float32(0.46))*math.Cos(x)))
}

func sinc(x float64) float64 {
	if x == 0 {
		return 1
	}
	x = x * math.Pi
	return math.Sin(x) / x
}

func lanczosKernel(x float64) float64 {
	if -3 <= x && x < 3 {
		return sinc(x) * sinc(x/3)
	}
	return 0
}

func (r Resample) filter() (filter, error) {
	switch r {
	case Bicubic:
		return filter{bicubicKernel, 2}, nil
	case Bilinear:
		return filter{bilinearKernel, 1}, nil
	case Lanczos:
		return filter{lanczosKernel, 3}, nil
	case Box:
		return filter{boxKernel, 0.5}, nil
	case Hamming:
		return filter{hammingKernel, 1}, nil
	}
	return filter{}, fmt.Errorf("unsupported resample filter %d (supported: 1 lanczos, 2 bilinear, 3 bicubic, 4 box, 5 hamming)", int(r))
}

// precisionBits is Pillow's PRECISION_BITS for 8-bit images: weights are
// fixed-point with 22 fractional bits, leaving 2 bits of headroom.
const precisionBits = 32 - 8 - 2

// coeffs are the fixed-point weights of one axis: output i reads
// ksize-or-fewer inputs starting at bounds[2i], count bounds[2i+1].
type coeffs struct {
	ksize  int
	bounds []int
	k      []int32
}

// precomputeCoeffs follows Pillow's precompute_coeffs for a box covering
// the whole input, then normalize_coeffs_8bpc, for outputs [from, to) only
// (index i of the result is output from+i): a 1-pixel-wide image resized to
// a 224 shortest edge has a huge long side of which only the crop is used.
func precomputeCoeffs(inSize, outSize int, f filter, from, to int) coeffs {
	scale := float64(inSize) / float64(outSize)
	filterscale := scale
	if filterscale < 1 {
		filterscale = 1
	}
	support := f.support * filterscale
	ksize := int(math.Ceil(support))*2 + 1
	n := to - from
	c := coeffs{ksize: ksize, bounds: make([]int, 2*n), k: make([]int32, n*ksize)}
	w := make([]float64, ksize)
	for xx := from; xx < to; xx++ {
		// float64() rounds the product here: arm64's compiler would
		// otherwise fuse it into the subtractions below (FMSUB), which
		// moves a box filter's edges by an ulp and changes whole pixels.
		center := float64((float64(xx) + 0.5) * scale)
		ss := 1.0 / filterscale
		// C's (int) cast truncates toward zero, as Go's conversion does.
		xmin := int(center - support + 0.5)
		if xmin < 0 {
			xmin = 0
		}
		xmax := int(center + support + 0.5)
		if xmax > inSize {
			xmax = inSize
		}
		xmax -= xmin
		ww := 0.0
		for x := 0; x < xmax; x++ {
			v := f.fn(float64(float64(x+xmin)-center+0.5) * ss)
			w[x] = v
			ww += v
		}
		i := xx - from
		k := c.k[i*ksize : (i+1)*ksize]
		for x := 0; x < xmax; x++ {
			v := w[x]
			if ww != 0 {
				v /= ww
			}
			if v < 0 {
				k[x] = int32(-0.5 + v*(1<<precisionBits))
			} else {
				k[x] = int32(0.5 + v*(1<<precisionBits))
			}
		}
		c.bounds[2*i] = xmin
		c.bounds[2*i+1] = xmax
	}
	return c
}

// clip8 turns a fixed-point accumulator into a byte as Pillow does
// (arithmetic shift, then clamp to 0..255).
func clip8(v int32) uint8 {
	v >>= precisionBits
	if v < 0 {
		return 0
	}
	if v > 255 {
		return 255
	}
	return uint8(v)
}

// Resize resizes src to w×h exactly as Pillow's Image.resize does for an
// RGB image (two passes, horizontal into an 8-bit intermediate, then
// vertical; each skipped when that axis keeps its size).
func Resize(src *RGB, w, h int, r Resample) (*RGB, error) {
	return resizeRegion(src, w, h, r, image.Rect(0, 0, w, h))
}

// resizeRegion computes only the pixels inside region of the w×h resized
// image. Every output pixel of Pillow's separable resize depends only on its
// own row and column weights, so computing a window gives the same bytes as
// resizing everything and cropping, at a fraction of the work.
func resizeRegion(src *RGB, w, h int, r Resample, region image.Rectangle) (*RGB, error) {
	sw, sh := src.Rect.Dx(), src.Rect.Dy()
	if w <= 0 || h <= 0 || sw <= 0 || sh <= 0 {
		return nil, fmt.Errorf("cannot resize %dx%d to %dx%d", sw, sh, w, h)
	}
	region = region.Intersect(image.Rect(0, 0, w, h))
	f, err := r.filter()
	if err != nil {
		return nil, err
	}
	rw, rh := region.Dx(), region.Dy()
	out := NewRGB(rw, rh)
	if rw == 0 || rh == 0 {
		return out, nil
	}

	needH := w != sw
	needV := h != sh

	// Source rows the output rows of the region read.
	var vc coeffs
	y0, y1 := region.Min.Y, region.Max.Y // identity rows when !needV
	if needV {
		vc = precomputeCoeffs(sh, h, f, region.Min.Y, region.Max.Y)
		y0 = vc.bounds[0]
		last := rh - 1
		y1 = vc.bounds[2*last] + vc.bounds[2*last+1]
	}

	// Horizontal pass over source rows y0..y1 into tmp (rw columns).
	tmp := NewRGB(rw, y1-y0)
	if needH {
		hc := precomputeCoeffs(sw, w, f, region.Min.X, region.Max.X)
		k4, ksize4 := expandCoeffs4(hc)
		parallelRows(y1-y0, func(a, b int) {
			for y := a; y < b; y++ {
				resizeRowH(tmp.row(y), src.Pix[(y0+y)*src.Stride:], hc, k4, ksize4)
			}
		})
	} else {
		for y := 0; y < y1-y0; y++ {
			copy(tmp.row(y), src.row(y0 + y)[3*region.Min.X:3*region.Max.X])
		}
	}

	if !needV {
		for y := 0; y < rh; y++ {
			copy(out.row(y), tmp.row(region.Min.Y+y-y0))
		}
		return out, nil
	}
	parallelRows(rh, func(a, b int) {
		acc := make([]int32, 3*rw)
		for yy := a; yy < b; yy++ {
			ymin, n := vc.bounds[2*yy], vc.bounds[2*yy+1]
			resizeRowV(out.row(yy), tmp, ymin-y0, vc.k[yy*vc.ksize:yy*vc.ksize+n], acc)
		}
	})
	return out, nil
}

// expandCoeffs4 lays out c's weights for resizeRowHSIMD: per output, the
// taps rounded up to a multiple of 4 (zero weights after the last), each
// weight repeated 4 times (the R, G, B lanes and one unused); nil without
// SIMD kernels.
func expandCoeffs4(c coeffs) ([]int32, int) {
	if !hasSIMD {
		return nil, 0
	}
	ksize4 := (c.ksize + 3) &^ 3
	n := len(c.bounds) / 2
	k4 := make([]int32, n*ksize4*4)
	for i := 0; i < n; i++ {
		for j, v := range c.k[i*c.ksize : i*c.ksize+c.bounds[2*i+1]] {
			o := (i*ksize4 + j) * 4
			k4[o], k4[o+1], k4[o+2], k4[o+3] = v, v, v, v
		}
	}
	return k4, ksize4
}

// resizeRowH computes one row of the horizontal pass: o[3i:3i+3] from the
// pixels of in (which runs to the end of the source image's Pix) weighted
// by c's output i. The SIMD kernel reads 16 bytes per 4 taps, up to 4
// bytes past a pixel's last tap rounded up to 4 taps: outputs whose reads
// would pass the end of in are left to the Go twin.
func resizeRowH(o, in []uint8, c coeffs, k4 []int32, ksize4 int) {
	n := len(c.bounds) / 2
	done := 0
	if k4 != nil {
		for done < n && 3*(c.bounds[2*done]+(c.bounds[2*done+1]+3)&^3)+4 <= len(in) {
			done++
		}
		if done > 0 {
			_ = o[3*done-1]
			resizeRowHSIMD(&o[0], &in[0], &c.bounds[0], &k4[0], ksize4, done)
		}
	}
	resizeRowHGo(o, in, c, done, n)
}

// resizeRowHGo is resizeRowH's Go twin for outputs [from, to).
func resizeRowHGo(o, in []uint8, c coeffs, from, to int) {
	for xx := from; xx < to; xx++ {
		xmin, n := c.bounds[2*xx], c.bounds[2*xx+1]
		k := c.k[xx*c.ksize : xx*c.ksize+n]
		p := in[3*xmin : 3*(xmin+n)]
		s0, s1, s2 := int32(1<<(precisionBits-1)), int32(1<<(precisionBits-1)), int32(1<<(precisionBits-1))
		// Four, then two taps per step: integer sums are exact in any
		// order.
		for len(k) >= 4 && len(p) >= 12 {
			k0, k1, k2, k3 := k[0], k[1], k[2], k[3]
			s0 += int32(p[0])*k0 + int32(p[3])*k1 + int32(p[6])*k2 + int32(p[9])*k3
			s1 += int32(p[1])*k0 + int32(p[4])*k1 + int32(p[7])*k2 + int32(p[10])*k3
			s2 += int32(p[2])*k0 + int32(p[5])*k1 + int32(p[8])*k2 + int32(p[11])*k3
			k, p = k[4:], p[12:]
		}
		for len(k) >= 2 && len(p) >= 6 {
			k0, k1 := k[0], k[1]
			s0 += int32(p[0])*k0 + int32(p[3])*k1
			s1 += int32(p[1])*k0 + int32(p[4])*k1
			s2 += int32(p[2])*k0 + int32(p[5])*k1
			k, p = k[2:], p[6:]
		}
		if len(k) == 1 && len(p) >= 3 {
			s0 += int32(p[0]) * k[0]
			s1 += int32(p[1]) * k[0]
			s2 += int32(p[2]) * k[0]
		}
		o[3*xx], o[3*xx+1], o[3*xx+2] = clip8(s0), clip8(s1), clip8(s2)
	}
}

// resizeRowV computes one row of the vertical pass: o from rows row0.. of
// tmp (as wide as o) weighted by k; acc is scratch of len(o).
func resizeRowV(o []uint8, tmp *RGB, row0 int, k []int32, acc []int32) {
	done := 0
	if hasSIMD && len(k) > 0 && len(o) >= 16 {
		done = len(o) &^ 15
		_ = tmp.row(row0 + len(k) - 1)
		resizeRowVSIMD(&o[0], &tmp.Pix[row0*tmp.Stride], tmp.Stride, &k[0], len(k), done)
	}
	resizeRowVGo(o, tmp, row0, done, k, acc)
}

// resizeRowVGo is resizeRowV's Go twin for bytes [x0, len(o)) of the row.
func resizeRowVGo(o []uint8, tmp *RGB, row0, x0 int, k []int32, acc []int32) {
	acc = acc[:len(o)-x0]
	for i := range acc {
		acc[i] = 1 << (precisionBits - 1)
	}
	// Integer sums are exact, so accumulating row by row (cache friendly)
	// gives the same result as Pillow's per-pixel loop.
	for j, kv := range k {
		in := tmp.row(row0 + j)[x0:]
		for i, v := range in {
			acc[i] += int32(v) * kv
		}
	}
	for i, v := range acc {
		o[x0+i] = clip8(v)
	}
}

// parallelRows splits [0,n) into contiguous chunks over the available
// cores; small jobs run inline.
func parallelRows(n int, fn func(a, b int)) {
	workers := runtime.GOMAXPROCS(0)
	if workers > n/8 {
		workers = n / 8
	}
	if workers <= 1 {
		fn(0, n)
		return
	}
	var wg sync.WaitGroup
	chunk := (n + workers - 1) / workers
	for a := 0; a < n; a += chunk {
		b := min(a+chunk, n)
		wg.Add(1)
		go func(a, b int) {
			defer wg.Done()
			fn(a, b)
		}(a, b)
	}
	wg.Wait()
}
