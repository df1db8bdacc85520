package kernels

import "fmt"

// ConvGeom is the geometry of a 2-D convolution over one C×H×W image
// (NCHW without the N): kernel KH×KW, strides, dilations and the four
// paddings of ONNX Conv's pads attribute.
type ConvGeom struct {
	C, H, W                              int
	KH, KW                               int
	StrideH, StrideW                     int
	DilH, DilW                           int
	PadTop, PadLeft, PadBottom, PadRight int
}

// OutSize returns the output height and width.
func (g ConvGeom) OutSize() (oh, ow int) {
	oh = (g.H+g.PadTop+g.PadBottom-(g.DilH*(g.KH-1)+1))/g.StrideH + 1
	ow = (g.W+g.PadLeft+g.PadRight-(g.DilW*(g.KW-1)+1))/g.StrideW + 1
	return oh, ow
}

func (g ConvGeom) check() error {
	if g.C < 1 || g.H < 1 || g.W < 1 || g.KH < 1 || g.KW < 1 || g.StrideH < 1 || g.StrideW < 1 || g.DilH < 1 || g.DilW < 1 ||
		g.PadTop < 0 || g.PadLeft < 0 || g.PadBottom < 0 || g.PadRight < 0 {
		return fmt.Errorf("kernels: Im2col: bad geometry %+v", g)
	}
	if oh, ow := g.OutSize(); oh < 1 || ow < 1 {
		return fmt.Errorf("kernels: Im2col: kernel larger than the padded %d×%d input", g.H, g.W)
	}
	return nil
}

// Im2col lays one image (src, C×H×W) out as the (C·KH·KW)×(OH·OW) matrix
// dst whose row (c, kh, kw) holds, for every output position, the input
// value under that kernel tap (0 in the padding). A convolution with
// weights W [M, C·KH·KW] is then the GEMM W·dst → [M, OH·OW].
func Im2col(g ConvGeom, src, dst []float32) error {
	if err := g.check(); err != nil {
		return err
	}
	oh, ow := g.OutSize()
	if len(src) < g.C*g.H*g.W {
		return fmt.Errorf("kernels: Im2col: src has %d values, want %d", len(src), g.C*g.H*g.W)
	}
	if need := g.C * g.KH * g.KW * oh * ow; len(dst) < need {
		return fmt.Errorf("kernels: Im2col: dst has %d values, want %d", len(dst), need)
	}
	row := 0
	for c := range g.C {
		plane := src[c*g.H*g.W : (c+1)*g.H*g.W]
		for kh := range g.KH {
			for kw := range g.KW {
				d := dst[row*oh*ow : (row+1)*oh*ow]
				row++
				for y := range oh {
					iy := y*g.StrideH - g.PadTop + kh*g.DilH
					out := d[y*ow : (y+1)*ow]
					if iy < 0 || iy >= g.H {
						clear(out)
						continue
					}
					in := plane[iy*g.W : (iy+1)*g.W]
					ix := -g.PadLeft + kw*g.DilW
					if g.StrideW == 1 && ix >= 0 && ix+ow <= g.W {
						copy(out, in[ix:ix+ow])
						continue
					}
					for x := range out {
						if ix >= 0 && ix < g.W {
							out[x] = in[ix]
						} else {
							out[x] = 0
						}
						ix += g.StrideW
					}
				}
			}
		}
	}
	return nil
}
