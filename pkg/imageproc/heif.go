package imageproc

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"image"
	"io"
	"sync"
	_ "unsafe" // go:linkname, for the codecs' WebAssembly below

	// Imported for their embedded WebAssembly builds of libheif+libde265
	// and libavif+aom only; their Go decoders are not used (they hand back
	// slices of freed WebAssembly memory, whose first bytes malloc then
	// overwrites, and do not let the megapixel cap act before decoding).
	// Build with -tags nodynamic (the Makefile does): without it both
	// packages link purego, which makes the binary dynamically linked.
	_ "github.com/gen2brain/avif"
	_ "github.com/gen2brain/heic"

	"github.com/tetratelabs/wazero"
	"github.com/tetratelabs/wazero/api"
	"github.com/tetratelabs/wazero/experimental"
)

// The gzipped WebAssembly modules embedded in the gen2brain packages
// (versions pinned in go.mod; a rename there fails the link, not a test).
//
//go:linkname heifWasmGz github.com/gen2brain/heic.heifWasm
var heifWasmGz []byte

//go:linkname avifWasmGz github.com/gen2brain/avif.decodeWasm
var avifWasmGz []byte

// wasmCodec is one compiled WebAssembly decoder. Compiling takes about a
// second of CPU, so it happens on the first HEIF/AVIF file met, never for
// runs without one (and is cached in cacheDir when set, see
// HEIFDecoders); every decode then gets its own module instance (its own
// linear memory), so decodes may run concurrently.
type wasmCodec struct {
	name     string
	gz       *[]byte
	cacheDir string
	cached   bool // the compiled code came from cacheDir
	once     sync.Once
	// patch, when set, edits the module before it is compiled; patched
	// says whether it applied.
	patch   func([]byte) ([]byte, bool)
	patched bool
	rt      wazero.Runtime
	mod     wazero.CompiledModule
	err     error
}

func (c *wasmCodec) compile() error {
	c.once.Do(func() {
		zr, err := gzip.NewReader(bytes.NewReader(*c.gz))
		if err != nil {
			c.err = fmt.Errorf("%w %s: %w", errWasmSetup, c.name, err)
			return
		}
		code, err := io.ReadAll(zr)
		if err != nil {
			c.err = fmt.Errorf("%w %s: %w", errWasmSetup, c.name, err)
			return
		}
		if c.patch != nil {
			code, c.patched = c.patch(code)
		}
		// The cache is keyed by the module as compiled, patches included.
		if c.rt, c.mod, c.cached, err = compileWasm(context.Background(), c.name, code, c.cacheDir); err != nil {
			c.err = fmt.Errorf("%w %s: %w", errWasmSetup, c.name, err)
		}
	})
	return c.err
}

// wasmCall is one module instance with the input file copied into it.
type wasmCall struct {
	ctx    context.Context
	mod    api.Module
	malloc api.Function
	fn     api.Function
	in     uint64
}

// open instantiates the module, copies file in and allocates resultBytes
// for the decode function's out-parameters (returned as their address).
func (c *wasmCodec) open(ctx context.Context, file []byte, resultBytes int) (*wasmCall, uint64, error) {
	w, err := c.instance(ctx, file)
	if err != nil {
		return nil, 0, err
	}
	results, err := w.alloc(resultBytes)
	if err != nil {
		w.close()
		return nil, 0, err
	}
	return w, results, nil
}

func (c *wasmCodec) instance(ctx context.Context, file []byte) (*wasmCall, error) {
	if err := c.compile(); err != nil {
		return nil, err
	}
	// An anonymous instance: several may live at once. Nothing the C code
	// prints reaches our stdout/stderr. Its memory is wasmMemory's.
	ctx = experimental.WithMemoryAllocator(ctx, wasmMemory)
	mod, err := c.rt.InstantiateModule(ctx, c.mod, wazero.NewModuleConfig().WithName(""))
	if err != nil {
		return nil, fmt.Errorf("%s: %w", c.name, err)
	}
	w := &wasmCall{ctx: ctx, mod: mod, malloc: mod.ExportedFunction("malloc"), fn: mod.ExportedFunction("decode")}
	if w.malloc == nil || w.fn == nil {
		w.close()
		return nil, fmt.Errorf("%s: WebAssembly module lacks malloc/decode", c.name)
	}
	if w.in, err = w.alloc(len(file)); err != nil {
		w.close()
		return nil, err
	}
	w.mod.Memory().Write(uint32(w.in), file)
	return w, nil
}

func (w *wasmCall) close() { _ = w.mod.Close(w.ctx) }

// alloc never needs a matching free: the whole instance is dropped.
func (w *wasmCall) alloc(n int) (uint64, error) {
	if n < 0 || uint64(n) >= 1<<32 {
		return 0, fmt.Errorf("%d bytes do not fit in WebAssembly memory", n)
	}
	r, err := w.malloc.Call(w.ctx, uint64(n))
	if err != nil || r[0] == 0 {
		return 0, fmt.Errorf("out of WebAssembly memory allocating %d bytes", n)
	}
	return r[0], nil
}

func (w *wasmCall) call(args ...uint64) (bool, error) {
	r, err := w.fn.Call(w.ctx, args...)
	if err != nil {
		return false, err
	}
	return r[0] != 0, nil
}

func (w *wasmCall) u32s(p uint64, n int) []uint32 {
	b, _ := w.mod.Memory().Read(uint32(p), uint32(4*n))
	v := make([]uint32, n)
	for i := range v {
		v[i] = binary.LittleEndian.Uint32(b[4*i:])
	}
	return v
}

// read copies out of the instance's memory (its slices die with it).
func (w *wasmCall) read(p uint64, n int) ([]byte, bool) {
	b, ok := w.mod.Memory().Read(uint32(p), uint32(n))
	if !ok {
		return nil, false
	}
	return bytes.Clone(b), true
}

// heifBrands are the ISOBMFF brands of HEIF stills and sequences; AVIF's
// are told apart because libavif, not libheif, decodes them.
var heifBrands = map[string]string{
	"heic": "heif", "heix": "heif", "heim": "heif", "heis": "heif", "hevc": "heif", "hevx": "heif",
	"mif1": "heif", "msf1": "heif", "avif": "avif", "avis": "avif",
}

// sniffHEIF says "heif", "avif" or "" from the ftyp box: its major brand,
// else its compatible brands (an AVIF one wins: files often list mif1 too).
func sniffHEIF(b []byte) string {
	if len(b) < 16 || string(b[4:8]) != "ftyp" {
		return ""
	}
	size := int(binary.BigEndian.Uint32(b))
	if size < 16 || size > len(b) || size > 4096 {
		size = min(len(b), 4096) &^ 3
	}
	kind := heifBrands[string(b[8:12])]
	for o := 16; o+4 <= size; o += 4 {
		switch heifBrands[string(b[o:o+4])] {
		case "avif":
			return "avif"
		case "heif":
			if kind == "" {
				kind = "heif"
			}
		}
	}
	if kind == "heif" && heifBrands[string(b[8:12])] != "avif" && bytes.Contains(b[:min(len(b), 1<<16)], []byte("av1C")) {
		return "avif" // a plain mif1 file holding an AV1 item
	}
	return kind
}

var errHEIFDecode = errors.New("the decoder refused it")

// errWasmSetup marks a failure to set the WebAssembly decoder up, which
// says nothing about the file.
var errWasmSetup = errors.New("WebAssembly decoder")

// libheif's enum values the WebAssembly decode function reports.
const (
	heifColorspaceYCbCr      = 0
	heifColorspaceRGB        = 1
	heifColorspaceMonochrome = 2
	heifChroma420            = 1
	heifChroma422            = 2
	heifChroma444            = 3
)

// decodeHEIF decodes the primary image of a HEIC file with libheif, which
// applies the irot/imir/clap transforms (the EXIF orientation is ignored,
// as libheif and the HEIF specification do); a grid (tiled) image is
// decoded tile by tile and assembled here (heif_grid.go), its irot/imir
// applied as libheif does. Its YCbCr planes, at the stream's bit depth, are turned into RGB
// as heif-convert 1.15 does (heifToRGB), with the colour description
// libheif 1.15 takes: the coded item's nclx 'colr' property, else its
// HEVC stream's VUI. Alpha is dropped as for PNG.
func (d *HEIFDecoders) decodeHEIF(b []byte, check func(w, h int) error) (*RGB, error) {
	meta := parseHEIFMeta(b)
	if g, ok := parseHEIFGrid(b, meta); ok && d.heif.compile() == nil && d.heif.patched {
		_, nclx, err := heifDepthAndColour(meta)
		if err != nil {
			return nil, err
		}
		planes, err := d.decodeHEIFGrid(g, check)
		if err != nil {
			return nil, err
		}
		img := heifToRGB(planes, nclx)
		for _, o := range heifTransforms(meta) {
			img = orient(img, o)
		}
		return img, nil
	}
	planes, nclx, rgb, err := d.decodeHEIFPlanes(b, meta, check)
	if err != nil || rgb != nil {
		return rgb, err
	}
	return heifToRGB(planes, nclx), nil
}

// decodeHEIFPlanes runs libheif on b, whose meta box is meta: it gives
// the YCbCr or monochrome planes and their colour description, or RGB
// when libheif decodes to RGB.
func (d *HEIFDecoders) decodeHEIFPlanes(b []byte, meta *heifMeta, check func(w, h int) error) (*heifPlanes, heifNCLX, *RGB, error) {
	var nclx heifNCLX
	w, dims, err := d.heif.open(context.Background(), b, 20)
	if err != nil {
		return nil, nclx, nil, err
	}
	defer w.close()
	args := func(config uint64, out uint64) []uint64 {
		return []uint64{w.in, uint64(len(b)), config, dims, dims + 4, dims + 8, dims + 12, dims + 16, out}
	}
	if ok, err := w.call(args(1, 0)...); err != nil || !ok {
		return nil, nclx, nil, firstErr(err, errHEIFDecode)
	}
	v := w.u32s(dims, 4)
	width, height, colorspace, chroma := int(v[0]), int(v[1]), v[2], v[3]
	if err := check(width, height); err != nil {
		return nil, nclx, nil, err
	}
	depth, nclx, err := heifDepthAndColour(meta)
	if err != nil {
		return nil, nclx, nil, err
	}
	if !d.heif.patched {
		depth = 8 // the unpatched module reduces every plane to 8 bits
	}
	bps := 1
	if depth > 8 {
		bps = 2
	}
	// The C side copies libheif's planes with libheif's strides: rows of
	// at least 64 samples, an even number, padded to 16 bytes.
	stride := func(n, bytesPerSample int) int {
		return (max(64, (n+1)&^1)*bytesPerSample + 15) &^ 15
	}
	planes := &heifPlanes{width: width, height: height, depth: depth}
	var size, cw, ch int
	switch colorspace {
	case heifColorspaceYCbCr:
		cw, ch = width, height
		switch chroma {
		case heifChroma420:
			planes.subX, planes.subY, cw, ch = 1, 1, (width+1)/2, (height+1)/2
		case heifChroma422:
			planes.subX, cw = 1, (width+1)/2
		case heifChroma444:
		default:
			return nil, nclx, nil, fmt.Errorf("unsupported HEIF chroma format %d", chroma)
		}
		planes.yStride, planes.cStride = stride(width, bps), stride(cw, bps)
		size = planes.yStride*height + 2*planes.cStride*ch
	case heifColorspaceMonochrome:
		planes.yStride, planes.mono = stride(width, bps), true
		size = planes.yStride * height
	case heifColorspaceRGB:
		size = stride(4*width, 1) * height
	default:
		return nil, nclx, nil, fmt.Errorf("unsupported HEIF colour space %d", colorspace)
	}
	out, err := w.alloc(size)
	if err != nil {
		return nil, nclx, nil, err
	}
	if ok, err := w.call(args(0, out)...); err != nil || !ok {
		return nil, nclx, nil, firstErr(err, errHEIFDecode)
	}
	if got := w.u32s(dims, 2); int(got[0]) != width || int(got[1]) != height {
		return nil, nclx, nil, fmt.Errorf("corrupt HEIF: header says %dx%d, data %dx%d", width, height, got[0], got[1])
	}
	pix, ok := w.read(out, size)
	if !ok {
		return nil, nclx, nil, errHEIFDecode
	}
	if colorspace == heifColorspaceRGB { // 8-bit RGBA, converted by libheif
		return nil, nclx, ToRGB(&image.NRGBA{Pix: pix, Stride: stride(4*width, 1), Rect: image.Rect(0, 0, width, height)}), nil
	}
	i0 := planes.yStride * height
	planes.y = pix[:i0]
	if !planes.mono {
		i1 := i0 + planes.cStride*ch
		planes.cb, planes.cr = pix[i0:i1], pix[i1:i1+planes.cStride*ch]
	}
	return planes, nclx, nil, nil
}

// heifDepthAndColour reads, from the hvcC properties, the bit depth the
// decoded planes have, and the colour description of the coded image
// that libheif 1.15 converts with (a grid's first tile).
func heifDepthAndColour(m *heifMeta) (int, heifNCLX, error) {
	depth, nclx := 8, hevcNoVUI
	if m == nil {
		return depth, nclx, nil
	}
	for id, kind := range m.types {
		if kind != "hvc1" {
			continue
		}
		if luma, chroma, ok := hvcCDepths(m.prop(id, "hvcC")); ok {
			if luma != chroma {
				// libheif 1.15's conversion refuses these too
				return 0, nclx, fmt.Errorf("unsupported HEIF: %d-bit luma with %d-bit chroma", luma, chroma)
			}
			depth = max(depth, luma)
		}
	}
	id := m.codedItem()
	if id == 0 {
		return depth, nclx, nil
	}
	for _, p := range m.props[id] {
		if c, ok := nclxFromColr(p.payload); ok && p.kind == "colr" {
			return depth, c, nil
		}
	}
	if c, ok := hevcSPSColour(hvcCSPS(m.prop(id, "hvcC"))); ok {
		nclx = c
	}
	return depth, nclx, nil
}

func firstErr(err, otherwise error) error {
	if err != nil {
		return err
	}
	return otherwise
}

// decodeAVIF decodes an AVIF file's primary image with libavif (aom).
// Its YCbCr planes (avifPlanesPatch) are converted to RGB as for HEIC, as
// heif-convert does (libavif's own conversion, used if the patch does not
// apply, upsamples chroma bilinearly: 10/12-bit samples then keep their
// high byte). Alpha is dropped as for PNG, and the irot/imir transforms,
// which libavif leaves to its caller, are applied here as libheif does.
func (d *HEIFDecoders) decodeAVIF(b []byte, check func(w, h int) error) (*RGB, error) {
	w, dims, err := d.avif.open(context.Background(), b, 16)
	if err != nil {
		return nil, err
	}
	defer w.close()
	if ok, err := w.call(w.in, uint64(len(b)), 1, 0, dims, dims+4, dims+8, dims+12, 0, 0); err != nil || !ok {
		return nil, firstErr(err, errHEIFDecode)
	}
	v := w.u32s(dims, 4)
	width, height, depth, frames := int(v[0]), int(v[1]), int(v[2]), int(v[3])
	if err := check(width, height); err != nil {
		return nil, err
	}
	bpc := 1
	if depth > 8 {
		bpc = 2
	}
	size := width * height * 4 * bpc
	out, err := w.alloc(size)
	if err != nil {
		return nil, err
	}
	delays, err := w.alloc(8 * max(frames, 1))
	if err != nil {
		return nil, err
	}
	if ok, err := w.call(w.in, uint64(len(b)), 0, 0, dims, dims+4, dims+8, dims+12, delays, out); err != nil || !ok {
		return nil, firstErr(err, errHEIFDecode)
	}
	pix, ok := w.read(out, size)
	if !ok {
		return nil, errHEIFDecode
	}
	meta := parseHEIFMeta(b)
	rect := image.Rect(0, 0, width, height)
	var img *RGB
	if d.avif.patched {
		planes, nclx := avifPlanes(meta, pix, width, height, depth)
		img = heifToRGB(planes, nclx)
	} else if bpc == 1 {
		img = ToRGB(&image.RGBA{Pix: pix, Stride: 4 * width, Rect: rect}) // premultiplied
	} else {
		img = NewRGB(width, height)
		parallelRows(height, func(a, e int) {
			for y := a; y < e; y++ {
				in, o := pix[8*width*y:8*width*(y+1)], img.row(y)
				for x := 0; x < width; x++ {
					var c [4]uint32
					for k := range c {
						c[k] = uint32(binary.LittleEndian.Uint16(in[8*x+2*k:]))
					}
					for k := 0; k < 3; k++ {
						if c[3] != 0xffff && c[3] != 0 {
							c[k] = min(c[k]*0xffff/c[3], 0xffff)
						}
						o[3*x+k] = uint8(c[k] >> 8)
					}
				}
			}
		})
	}
	for _, o := range heifTransforms(meta) {
		img = orient(img, o)
	}
	return img, nil
}

// avifPlanes reads the buffer avifPlanesPatch's copy fills: the planes
// and, from its trailer, the pixel format and the colour description
// libavif took from the AV1 stream. An nclx colr property of the coded
// item wins over the stream, as in libheif 1.15; without a trailer (images
// of a few pixels leave no room for it) the format comes from av1C.
func avifPlanes(meta *heifMeta, pix []byte, width, height, depth int) (*heifPlanes, heifNCLX) {
	bps := 1
	if depth > 8 {
		bps = 2
	}
	layout := func(format int) (p *heifPlanes, size int) {
		p = &heifPlanes{width: width, height: height, depth: depth, yStride: width * bps}
		cw, ch := width, height
		switch format {
		case 4:
			p.mono = true
			cw, ch = 0, 0
		case 3:
			p.subX, p.subY, cw, ch = 1, 1, (width+1)/2, (height+1)/2
		case 2:
			p.subX, cw = 1, (width+1)/2
		}
		p.cStride = cw * bps
		ySize, cSize := p.yStride*height, p.cStride*ch
		p.y, p.cb, p.cr = pix[:ySize], pix[ySize:ySize+cSize], pix[ySize+cSize:ySize+2*cSize]
		return p, ySize + 2*cSize
	}
	var id uint32
	if meta != nil {
		id = meta.codedItem()
	}
	nclx := heifNCLX{primaries: 2, matrix: 2, fullRange: true}
	format := 3
	if c := meta.prop(id, "av1C"); len(c) >= 3 {
		switch {
		case c[2]&0x10 != 0:
			format = 4
		case c[2]&0x0c == 0x0c:
			format = 3
		case c[2]&0x08 != 0:
			format = 2
		default:
			format = 1
		}
	}
	if t := pix[max(len(pix)-8, 0):]; len(t) == 8 && t[0] == 'Y' && int(t[3]) == depth && t[1] >= 1 && t[1] <= 4 {
		f := int(t[1])
		if _, size := layout(f); size+8 <= len(pix) {
			format = f
			nclx = heifNCLX{primaries: int(binary.LittleEndian.Uint16(t[4:])), matrix: int(binary.LittleEndian.Uint16(t[6:])), fullRange: t[2] != 0}
		}
	}
	if meta != nil {
		for _, p := range meta.props[id] {
			if c, ok := nclxFromColr(p.payload); ok && p.kind == "colr" {
				nclx = c
				break
			}
		}
	}
	p, _ := layout(format)
	return p, nclx
}

// heifTransforms lists the primary item's irot and imir properties, in the
// order its ipma association gives them (the order they apply in), as
// EXIF orientation values for orient. No meta (a parse failure) means none.
func heifTransforms(m *heifMeta) []int {
	if m == nil {
		return nil
	}
	var out []int
	for _, p := range m.props[m.primary] {
		if len(p.payload) < 1 {
			continue
		}
		switch v := p.payload[0]; p.kind {
		case "irot": // anticlockwise quarter turns
			out = append(out, [4]int{1, 8, 3, 6}[v&3])
		case "imir": // libheif's reading: axis 0 flips top-bottom, 1 left-right
			out = append(out, [2]int{4, 2}[v&1])
		}
	}
	return out
}

// isoBox splits the first ISOBMFF box of b: its type, payload and total
// size (0 when malformed).
func isoBox(b []byte) (string, []byte, int) {
	if len(b) < 8 {
		return "", nil, 0
	}
	size, hdr := uint64(binary.BigEndian.Uint32(b)), 8
	switch size {
	case 0:
		size = uint64(len(b))
	case 1:
		if len(b) < 16 {
			return "", nil, 0
		}
		size, hdr = binary.BigEndian.Uint64(b[8:]), 16
	}
	if size < uint64(hdr) || size > uint64(len(b)) {
		return "", nil, 0
	}
	return string(b[4:8]), b[hdr:size], int(size)
}

// isoChild is the payload of the first box of type kind in b (nil if none).
func isoChild(b []byte, kind string) []byte {
	for len(b) >= 8 {
		k, payload, next := isoBox(b)
		if next == 0 {
			return nil
		}
		if k == kind {
			return payload
		}
		b = b[next:]
	}
	return nil
}
