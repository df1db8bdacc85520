package ops

import (
	"fmt"
	"math/rand/v2"
	"testing"

	"github.com/clip-go/clip/pkg/engine/kernels"
	"github.com/clip-go/clip/pkg/graph"
	"github.com/clip-go/clip/pkg/onnx"
)

// TestConvIntegerPacked checks ConvInteger on the int8 GEMM (an Env with
// a Pool; all images' receptive fields one GEMM) against the operator's
// definition summed in int64 here, beyond ONNX's two node tests (one
// image, 3×3, padding or none): several images, strides, dilation,
// padding on either side, a ViT-style patch embedding, uint8 and int8
// weights with per-tensor and per-channel zero points, 7-bit and
// full-range weights.
func TestConvIntegerPacked(t *testing.T) {
	pool := kernels.NewPool(2)
	defer pool.Close()
	rng := rand.New(rand.NewPCG(41, 1))
	type geom struct{ n, c, h, w, m, kh, kw, sh, sw, dh, dw, pt, pl, pb, pr int }
	for _, g := range []geom{
		{n: 3, c: 3, h: 9, w: 9, m: 5, kh: 3, kw: 3, sh: 1, sw: 1, dh: 1, dw: 1, pt: 1, pl: 1, pb: 1, pr: 1},
		{n: 2, c: 2, h: 11, w: 8, m: 7, kh: 3, kw: 2, sh: 2, sw: 3, dh: 1, dw: 1, pt: 0, pl: 2, pb: 1, pr: 0},
		{n: 2, c: 3, h: 10, w: 10, m: 4, kh: 3, kw: 3, sh: 1, sw: 2, dh: 2, dw: 2, pt: 2, pl: 1, pb: 2, pr: 1},
		{n: 4, c: 3, h: 16, w: 16, m: 33, kh: 4, kw: 4, sh: 4, sw: 4, dh: 1, dw: 1}, // patch embedding
	} {
		oh := (g.h+g.pt+g.pb-(g.kh-1)*g.dh-1)/g.sh + 1
		ow := (g.w+g.pl+g.pr-(g.kw-1)*g.dw-1)/g.sw + 1
		for _, signed := range []bool{false, true} {
			for _, perChannel := range []bool{false, true} {
				for _, narrow := range []bool{false, true} {
					name := fmt.Sprint(g, " signed=", signed, " perChannel=", perChannel, " 7-bit=", narrow)
					x := &graph.Tensor{DType: onnx.Uint8, Shape: []int{g.n, g.c, g.h, g.w}, Uint8: make([]uint8, g.n*g.c*g.h*g.w)}
					for i := range x.Uint8 {
						x.Uint8[i] = uint8(rng.IntN(256))
					}
					xz := &graph.Tensor{DType: onnx.Uint8, Shape: []int{}, Uint8: []uint8{uint8(rng.IntN(256))}}
					kk := g.c * g.kh * g.kw
					wv := make([]int64, g.m*kk)
					w := &graph.Tensor{DType: onnx.Uint8, Shape: []int{g.m, g.c, g.kh, g.kw}}
					zn := 1
					if perChannel {
						zn = g.m
					}
					wz := &graph.Tensor{DType: onnx.Uint8, Shape: []int{zn}}
					if !perChannel {
						wz.Shape = []int{}
					}
					zv := make([]int64, zn)
					if signed {
						w.DType, wz.DType = onnx.Int8, onnx.Int8
						w.Int8, wz.Int8 = make([]int8, len(wv)), make([]int8, zn)
						for i := range wv {
							v := rng.IntN(256) - 128
							if narrow {
								v = rng.IntN(129) - 64
							}
							w.Int8[i], wv[i] = int8(v), int64(v)
						}
						for i := range zv {
							v := rng.IntN(256) - 128
							wz.Int8[i], zv[i] = int8(v), int64(v)
						}
					} else {
						w.Uint8, wz.Uint8 = make([]uint8, len(wv)), make([]uint8, zn)
						for i := range wv {
							v := rng.IntN(256)
							if narrow {
								v = rng.IntN(128)
							}
							w.Uint8[i], wv[i] = uint8(v), int64(v)
						}
						for i := range zv {
							v := rng.IntN(256)
							wz.Uint8[i], zv[i] = uint8(v), int64(v)
						}
					}
					want := make([]int32, g.n*g.m*oh*ow)
					for b := range g.n {
						for m := range g.m {
							for oy := range oh {
								for ox := range ow {
									var sum int64
									for ci := range g.c {
										for ky := range g.kh {
											for kx := range g.kw {
												iy, ix := oy*g.sh-g.pt+ky*g.dh, ox*g.sw-g.pl+kx*g.dw
												if iy < 0 || iy >= g.h || ix < 0 || ix >= g.w {
													continue // padding: x equal to its zero point
												}
												xv := int64(x.Uint8[((b*g.c+ci)*g.h+iy)*g.w+ix]) - int64(xz.Uint8[0])
												sum += xv * (wv[((m*g.c+ci)*g.kh+ky)*g.kw+kx] - zv[m%zn])
											}
										}
									}
									want[((b*g.m+m)*oh+oy)*ow+ox] = int32(sum)
								}
							}
						}
					}
					step := &graph.Step{
						Node: &graph.Node{Op: "ConvInteger"},
						In:   []*graph.Value{{DType: onnx.Uint8, Shape: x.Shape}, {DType: w.DType, Shape: w.Shape, Const: w}, {DType: onnx.Uint8, Const: xz}, {DType: wz.DType, Const: wz}},
						P: graph.Params{Kernel: []int{g.kh, g.kw}, Strides: []int{g.sh, g.sw}, Dilations: []int{g.dh, g.dw},
							Pads: []int{g.pt, g.pl, g.pb, g.pr}, Group: 1},
					}
					o := &graph.Tensor{DType: onnx.Int32, Shape: []int{g.n, g.m, oh, ow}, Int32: make([]int32, len(want))}
					k, err := (&Env{Pool: pool}).Prepare(step)
					if err != nil {
						t.Fatal(err)
					}
					if err := k([]*graph.Tensor{x, w, xz, wz}, []*graph.Tensor{o}, nil); err != nil {
						t.Fatalf("%s: %v", name, err)
					}
					for i, v := range o.Int32 {
						if v != want[i] {
							t.Fatalf("%s: y[%d] = %d, want %d", name, i, v, want[i])
						}
					}
				}
			}
		}
	}
}
