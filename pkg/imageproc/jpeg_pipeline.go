package imageproc

import (
	"fmt"
	"image"
)

// jpegStream converts a single interleaved baseline scan while it is being
// entropy-decoded: a worker runs the IDCT of each finished MCU row and the
// colour conversion of the pixel rows whose chroma neighbours are ready, on
// the second core, so only the Huffman decoding stays serial.
type jpegStream struct {
	rows chan int // buffered for every MCU row, so sends never block
	free chan struct{}
	ring bool // coefficients live in a ring of streamRingRows MCU rows
	done chan struct{}
	out  *RGB
	err  error // a panic in the worker, which guard() cannot see
}

// streamRingRows is how many MCU rows of coefficients the streaming decoder
// keeps: the decoder may run that far ahead of the IDCT worker.
const streamRingRows = 32

// newStream returns nil when the frame is not a plain gray or YCbCr image
// (finish handles those after the scan). ring: the coefficients are not
// allocated yet, so a small ring of MCU rows can replace the whole image's.
func (d *jpegDecoder) newStream(ring bool) *jpegStream {
	planes, err := d.allocPlanes()
	if err != nil {
		return nil
	}
	w, h := d.ow, d.oh
	out := NewRGB(w, h)
	var convert func(y0, y1 int)
	switch len(d.comps) {
	case 1:
		st := d.comps[0].bw * d.comps[0].ss
		convert = func(y0, y1 int) {
			for y := y0; y < y1; y++ {
				o := out.row(y)
				for x, v := range planes[0][y*st : y*st+w] {
					o[3*x], o[3*x+1], o[3*x+2] = v, v, v
				}
			}
		}
	case 3:
		yimg, box := d.ycbcrImage(planes)
		if yimg == nil {
			return nil
		}
		t := newYCCTables()
		convert = func(y0, y1 int) { ycbcrUpsampleRows(yimg, out, t, y0, y1, box) }
	default:
		return nil
	}
	s := &jpegStream{rows: make(chan int, d.mcuy), done: make(chan struct{}), out: out, ring: ring,
		free: make(chan struct{}, d.ringRows)}
	for i := 0; i < d.ringRows; i++ {
		s.free <- struct{}{}
	}
	go func() {
		defer close(s.done)
		defer func() {
			if p := recover(); p != nil {
				s.err = fmt.Errorf("corrupt jpeg data (conversion panic: %v)", p)
			}
		}()
		converted := 0
		for my := range s.rows {
			// Index rather than copy d.comps: the decoder goroutine is
			// updating each component's DC predictor meanwhile.
			for ci := range d.comps {
				c := &d.comps[ci]
				d.idctBlockRows(planes[ci], ci, my*c.v, (my+1)*c.v)
				if c.ring > 0 {
					// Sequential decoding writes only non-zero AC
					// coefficients: clear the slot before it is reused.
					for by := my * c.v; by < (my+1)*c.v; by++ {
						clear(c.coefs[(by%c.ring)*c.bw*64 : (by%c.ring+1)*c.bw*64])
					}
				}
			}
			if s.ring {
				s.free <- struct{}{}
			}
			// Rows before this MCU row may read one chroma row into it.
			if limit := min(my*d.maxV*d.minSS(), h); limit > converted {
				convert(converted, limit)
				converted = limit
			}
		}
		if converted < h {
			convert(converted, h)
		}
	}()
	return s
}

func (s *jpegStream) wait() (*RGB, error) {
	close(s.rows)
	<-s.done
	return s.out, s.err
}

func (s *jpegStream) abort() {
	close(s.rows)
	<-s.done
}

// ycbcrImage views 3 component planes as an image.YCbCr for upsampling,
// or nil when the layout is not one libjpeg's YCbCr path and
// ycbcrUpsampleRows share (RGB transform, odd sampling). The subsampling
// is libjpeg's upsampler's: a chroma component whose IDCT already scaled
// it up (reduced decoding) needs less, or none. box: libjpeg-turbo
// replicates instead of fancy upsampling when blocks decode to 1 pixel.
func (d *jpegDecoder) ycbcrImage(planes [][]uint8) (y *image.YCbCr, box bool) {
	c0, c1, c2 := d.comps[0], d.comps[1], d.comps[2]
	if d.rgbTransform() {
		return nil, false
	}
	if c1.h != 1 || c1.v != 1 || c2.h != 1 || c2.v != 1 || c1.ss != c2.ss {
		return nil, false
	}
	// Each chroma sample covers hs×vs output pixels (c0 has the largest
	// sampling factors here, so its blocks decode to minSS pixels).
	if c0.h*c0.ss%c1.ss != 0 || c0.v*c0.ss%c1.ss != 0 {
		return nil, false
	}
	ratio, ok := map[[2]int]image.YCbCrSubsampleRatio{
		{1, 1}: image.YCbCrSubsampleRatio444, {2, 1}: image.YCbCrSubsampleRatio422,
		{2, 2}: image.YCbCrSubsampleRatio420, {1, 2}: image.YCbCrSubsampleRatio440,
		{4, 1}: image.YCbCrSubsampleRatio411, {4, 2}: image.YCbCrSubsampleRatio410,
	}[[2]int{c0.h * c0.ss / c1.ss, c0.v * c0.ss / c1.ss}]
	if !ok {
		return nil, false
	}
	return &image.YCbCr{Y: planes[0], Cb: planes[1], Cr: planes[2], YStride: c0.bw * c0.ss, CStride: c1.bw * c1.ss,
		SubsampleRatio: ratio, Rect: image.Rect(0, 0, d.ow, d.oh)}, d.minSS() == 1
}

// rgbTransform reports a 3-component frame stored as RGB, not YCbCr.
func (d *jpegDecoder) rgbTransform() bool {
	c0, c1, c2 := d.comps[0], d.comps[1], d.comps[2]
	return d.adobe && d.adobeXform == 0 || !d.adobe && !d.jfif && c0.id == 'R' && c1.id == 'G' && c2.id == 'B'
}
