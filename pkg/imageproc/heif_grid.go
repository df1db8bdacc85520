package imageproc

import (
	"encoding/binary"
	"fmt"
)

// The WebAssembly libheif 1.18 assembles a grid (tiled) image in RGB and
// the decode function converts it back to YCbCr, which moves the pixels
// where RGB clips. libheif 1.15, under heif-convert, converts each tile's
// YCbCr to RGB itself. So a grid of HEVC tiles is decoded here tile by
// tile, each tile handed to libheif as a one-item HEIF file of its own,
// and the tiles' planes are pasted into the grid's before the conversion.

// heifGrid is a grid item: its tiles' coded data and hvcC/ispe
// properties, in raster order, and the output size.
type heifGrid struct {
	rows, cols    int
	width, height int
	tiles         []heifTile
}

type heifTile struct {
	data       []byte
	hvcC, ispe []byte
}

// parseHEIFGrid reads the primary item as a grid of hvc1 tiles; ok false
// for anything else (then libheif decodes the file whole), including
// grids with a 'clap' crop, which libheif applies and this path would not.
func parseHEIFGrid(b []byte, m *heifMeta) (*heifGrid, bool) {
	if m == nil || m.types[m.primary] != "grid" || m.prop(m.primary, "clap") != nil {
		return nil, false
	}
	locs := parseILOC(b)
	desc, ok := locs.data(b, m.primary)
	if !ok || len(desc) < 8 || desc[0] != 0 {
		return nil, false
	}
	g := &heifGrid{rows: int(desc[2]) + 1, cols: int(desc[3]) + 1}
	if desc[1]&1 == 0 {
		g.width, g.height = int(binary.BigEndian.Uint16(desc[4:])), int(binary.BigEndian.Uint16(desc[6:]))
	} else if len(desc) >= 12 {
		g.width, g.height = int(binary.BigEndian.Uint32(desc[4:])), int(binary.BigEndian.Uint32(desc[8:]))
	} else {
		return nil, false
	}
	ids := m.dimg[m.primary]
	if len(ids) != g.rows*g.cols || g.width <= 0 || g.height <= 0 {
		return nil, false
	}
	for i, id := range ids {
		t := heifTile{hvcC: m.prop(id, "hvcC"), ispe: m.prop(id, "ispe")}
		if m.types[id] != "hvc1" || t.hvcC == nil || len(t.ispe) < 12 {
			return nil, false
		}
		// All tiles the first one's size, and none wholly outside the
		// grid: decoding work stays bounded by the grid's area.
		tw, th := int(binary.BigEndian.Uint32(t.ispe[4:])), int(binary.BigEndian.Uint32(t.ispe[8:]))
		if i == 0 && (tw <= 0 || th <= 0 || (g.cols-1)*tw >= g.width || (g.rows-1)*th >= g.height) {
			return nil, false
		}
		if i > 0 && string(t.ispe) != string(g.tiles[0].ispe) {
			return nil, false
		}
		if t.data, ok = locs.data(b, id); !ok {
			return nil, false
		}
		g.tiles = append(g.tiles, t)
	}
	return g, true
}

// heifILOC maps item IDs to their extents (ISO/IEC 14496-12 8.11.3):
// construction method 0 (file offsets) or 1 (the meta box's idat).
type heifILOC struct {
	items map[uint32]ilocItem
	idat  []byte
}

type ilocItem struct {
	method  int
	extents [][2]uint64 // offset, length
}

func parseILOC(b []byte) heifILOC {
	out := heifILOC{items: map[uint32]ilocItem{}}
	meta := isoChild(b, "meta")
	if len(meta) < 4 {
		return out
	}
	meta = meta[4:]
	out.idat = isoChild(meta, "idat")
	p := isoChild(meta, "iloc")
	if len(p) < 8 {
		return out
	}
	version := p[0]
	offSize, lenSize, baseSize := int(p[4]>>4), int(p[4]&15), int(p[5]>>4)
	idxSize := 0
	if version == 1 || version == 2 {
		idxSize = int(p[5] & 15)
	}
	p = p[6:]
	read := func(n int) (uint64, bool) {
		if n > 8 || len(p) < n {
			return 0, false
		}
		var v uint64
		for _, c := range p[:n] {
			v = v<<8 | uint64(c)
		}
		p = p[n:]
		return v, true
	}
	idSize := 2
	if version == 2 {
		idSize = 4
	}
	count, ok := read(idSize)
	for i := uint64(0); ok && i < count; i++ {
		var id, method, base, n uint64
		if id, ok = read(idSize); !ok {
			break
		}
		if version == 1 || version == 2 {
			if method, ok = read(2); !ok {
				break
			}
			method &= 15
		}
		_, ok1 := read(2) // data_reference_index
		base, ok2 := read(baseSize)
		n, ok3 := read(2)
		if ok = ok1 && ok2 && ok3; !ok {
			break
		}
		item := ilocItem{method: int(method)}
		for j := uint64(0); ok && j < n; j++ {
			var off, length uint64
			_, ok1 := read(idxSize)
			off, ok2 := read(offSize)
			length, ok3 := read(lenSize)
			if ok = ok1 && ok2 && ok3; ok {
				item.extents = append(item.extents, [2]uint64{base + off, length})
			}
		}
		out.items[uint32(id)] = item
	}
	return out
}

// data is an item's bytes, its extents joined; ok false when they do not
// lie inside the file (or the idat), or have no length.
func (l heifILOC) data(b []byte, id uint32) ([]byte, bool) {
	item, ok := l.items[id]
	src := b
	switch {
	case !ok:
		return nil, false
	case item.method == 1:
		src = l.idat
	case item.method != 0:
		return nil, false
	}
	var out []byte
	for _, e := range item.extents {
		if e[1] == 0 || e[0] > uint64(len(src)) || e[1] > uint64(len(src))-e[0] || uint64(len(out))+e[1] > uint64(len(b)) {
			return nil, false // length 0 means "to the end": not in HEIF stills
		}
		out = append(out, src[e[0]:e[0]+e[1]]...)
	}
	return out, len(out) > 0
}

// file is a one-item HEIF file holding the tile, for libheif.
func (t heifTile) file() []byte {
	box := func(kind string, payload ...[]byte) []byte {
		n := 8
		for _, p := range payload {
			n += len(p)
		}
		out := binary.BigEndian.AppendUint32(make([]byte, 0, n), uint32(n))
		out = append(out, kind...)
		for _, p := range payload {
			out = append(out, p...)
		}
		return out
	}
	full := []byte{0, 0, 0, 0} // FullBox version 0, flags 0
	ftyp := box("ftyp", []byte("heic\x00\x00\x00\x00mif1heic"))
	hdlr := box("hdlr", full, []byte("\x00\x00\x00\x00pict\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00"))
	pitm := box("pitm", full, []byte{0, 1})
	iinf := box("iinf", full, []byte{0, 1}, box("infe", []byte{2, 0, 0, 0}, []byte("\x00\x01\x00\x00hvc1\x00")))
	iprp := box("iprp", box("ipco", box("hvcC", t.hvcC), box("ispe", t.ispe)),
		box("ipma", full, []byte{0, 0, 0, 1, 0, 1, 2, 0x81, 0x02}))
	iloc := func(offset int) []byte {
		e := binary.BigEndian.AppendUint32(nil, uint32(offset))
		e = binary.BigEndian.AppendUint32(e, uint32(len(t.data)))
		return box("iloc", full, []byte{0x44, 0x00, 0, 1, 0, 1, 0, 0, 0, 1}, e)
	}
	meta := func(offset int) []byte { return box("meta", full, hdlr, pitm, iinf, iloc(offset), iprp) }
	offset := len(ftyp) + len(meta(0)) + 8
	return append(append(ftyp, meta(offset)...), box("mdat", t.data)...)
}

// decodeHEIFGrid decodes g tile by tile and pastes the tiles' planes,
// cropped to the grid's size, into one set of planes.
func (d *HEIFDecoders) decodeHEIFGrid(g *heifGrid, check func(w, h int) error) (*heifPlanes, error) {
	if err := check(g.width, g.height); err != nil {
		return nil, err
	}
	var out *heifPlanes
	var cw, ch int
	x0, y0 := 0, 0
	for i, t := range g.tiles {
		// Tiles may overhang the grid, which crops them; each alone is held
		// to the megapixel cap.
		tile := t.file()
		p, _, rgb, err := d.decodeHEIFPlanes(tile, parseHEIFMeta(tile), check)
		if err != nil {
			return nil, fmt.Errorf("grid tile %d: %w", i, err)
		}
		if rgb != nil {
			return nil, fmt.Errorf("grid tile %d: libheif decoded it to RGB", i)
		}
		bps := 1
		if p.depth > 8 {
			bps = 2
		}
		if out == nil {
			out = &heifPlanes{width: g.width, height: g.height, depth: p.depth, subX: p.subX, subY: p.subY, mono: p.mono}
			cw, ch = (g.width+p.subX)>>p.subX, (g.height+p.subY)>>p.subY
			out.yStride, out.cStride = g.width*bps, cw*bps
			out.y = make([]byte, out.yStride*g.height)
			if !p.mono {
				out.cb, out.cr = make([]byte, out.cStride*ch), make([]byte, out.cStride*ch)
			}
		} else if p.depth != out.depth || p.subX != out.subX || p.subY != out.subY || p.mono != out.mono {
			return nil, fmt.Errorf("grid tile %d: its format differs from the first tile's", i)
		}
		if i%g.cols == 0 && i > 0 {
			x0, y0 = 0, y0+p.height
		}
		paste := func(dst, src []byte, dstStride, srcStride, x, y, w, h, limW, limH int) {
			w, h = min(w, limW-x), min(h, limH-y)
			for r := 0; r < h; r++ {
				copy(dst[(y+r)*dstStride+x*bps:(y+r)*dstStride+(x+w)*bps], src[r*srcStride:r*srcStride+w*bps])
			}
		}
		if x0 < g.width && y0 < g.height {
			paste(out.y, p.y, out.yStride, p.yStride, x0, y0, p.width, p.height, g.width, g.height)
			if !p.mono {
				tcw, tch := (p.width+p.subX)>>p.subX, (p.height+p.subY)>>p.subY
				cx, cy := x0>>p.subX, y0>>p.subY
				paste(out.cb, p.cb, out.cStride, p.cStride, cx, cy, tcw, tch, cw, ch)
				paste(out.cr, p.cr, out.cStride, p.cStride, cx, cy, tcw, tch, cw, ch)
			}
		}
		x0 += p.width
	}
	return out, nil
}
