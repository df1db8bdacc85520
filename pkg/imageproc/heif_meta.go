package imageproc

import "encoding/binary"

// heifMeta is what the pixel path needs from a HEIF file's meta box: the
// primary item, each item's type, its properties in ipma order (the order
// transforms apply in), and the items a derived image is made of ('dimg').
type heifMeta struct {
	primary uint32
	types   map[uint32]string
	props   map[uint32][]isoProp
	dimg    map[uint32][]uint32
}

type isoProp struct {
	kind    string
	payload []byte
}

// parseHEIFMeta reads the meta box of b; nil when there is none or it is
// malformed (libheif then refuses the file anyway).
func parseHEIFMeta(b []byte) *heifMeta {
	meta := isoChild(b, "meta")
	if len(meta) < 4 {
		return nil
	}
	meta = meta[4:] // FullBox version and flags
	pitm := isoChild(meta, "pitm")
	if len(pitm) < 6 {
		return nil
	}
	m := &heifMeta{types: map[uint32]string{}, props: map[uint32][]isoProp{}, dimg: map[uint32][]uint32{}}
	m.primary = uint32(binary.BigEndian.Uint16(pitm[4:]))
	if pitm[0] != 0 && len(pitm) >= 8 {
		m.primary = binary.BigEndian.Uint32(pitm[4:])
	}
	if iinf := isoChild(meta, "iinf"); len(iinf) >= 6 {
		rest := iinf[6:]
		if iinf[0] != 0 {
			rest = iinf[8:]
		}
		for len(rest) >= 8 {
			kind, infe, next := isoBox(rest)
			if next == 0 {
				break
			}
			rest = rest[next:]
			switch {
			case kind != "infe" || len(infe) < 4:
			case infe[0] == 2 && len(infe) >= 12:
				m.types[uint32(binary.BigEndian.Uint16(infe[4:]))] = string(infe[8:12])
			case infe[0] == 3 && len(infe) >= 14:
				m.types[binary.BigEndian.Uint32(infe[4:])] = string(infe[10:14])
			}
		}
	}
	if iref := isoChild(meta, "iref"); len(iref) >= 4 {
		wide := iref[0] != 0
		id := func(p []byte) (uint32, []byte, bool) {
			if wide {
				if len(p) < 4 {
					return 0, nil, false
				}
				return binary.BigEndian.Uint32(p), p[4:], true
			}
			if len(p) < 2 {
				return 0, nil, false
			}
			return uint32(binary.BigEndian.Uint16(p)), p[2:], true
		}
		for rest := iref[4:]; len(rest) >= 8; {
			kind, ref, next := isoBox(rest)
			if next == 0 {
				break
			}
			rest = rest[next:]
			from, p, ok := id(ref)
			if !ok || len(p) < 2 || kind != "dimg" {
				continue
			}
			n := int(binary.BigEndian.Uint16(p))
			p = p[2:]
			for i := 0; i < n && ok; i++ {
				var to uint32
				if to, p, ok = id(p); ok {
					m.dimg[from] = append(m.dimg[from], to)
				}
			}
		}
	}
	iprp := isoChild(meta, "iprp")
	var props []isoProp
	for rest := isoChild(iprp, "ipco"); len(rest) >= 8; {
		kind, payload, next := isoBox(rest)
		if next == 0 {
			return nil
		}
		props = append(props, isoProp{kind, payload})
		rest = rest[next:]
	}
	ipma := isoChild(iprp, "ipma")
	if len(ipma) < 8 {
		return m
	}
	version, flags := ipma[0], ipma[3]
	n := binary.BigEndian.Uint32(ipma[4:])
	p := ipma[8:]
	for i := uint32(0); i < n; i++ {
		var id uint32
		if version < 1 {
			if len(p) < 3 {
				return nil
			}
			id, p = uint32(binary.BigEndian.Uint16(p)), p[2:]
		} else {
			if len(p) < 5 {
				return nil
			}
			id, p = binary.BigEndian.Uint32(p), p[4:]
		}
		count := int(p[0])
		p = p[1:]
		for j := 0; j < count; j++ {
			var idx int
			if flags&1 != 0 {
				if len(p) < 2 {
					return nil
				}
				idx, p = int(binary.BigEndian.Uint16(p)&0x7fff), p[2:]
			} else {
				if len(p) < 1 {
					return nil
				}
				idx, p = int(p[0]&0x7f), p[1:]
			}
			if idx >= 1 && idx <= len(props) {
				m.props[id] = append(m.props[id], props[idx-1])
			}
		}
	}
	return m
}

// prop is the payload of item id's first property of that kind.
func (m *heifMeta) prop(id uint32, kind string) []byte {
	if m == nil {
		return nil
	}
	for _, p := range m.props[id] {
		if p.kind == kind {
			return p.payload
		}
	}
	return nil
}

// codedItem follows the primary item through derived images (a grid's
// first tile, an 'iden' item's source) to the coded image whose stream
// libheif 1.15 takes the colour conversion's parameters from; 0 if none.
func (m *heifMeta) codedItem() uint32 {
	id := m.primary
	for range 4 {
		switch m.types[id] {
		case "hvc1", "av01":
			return id
		case "grid", "iden":
			if len(m.dimg[id]) == 0 {
				return 0
			}
			id = m.dimg[id][0]
		default:
			return 0
		}
	}
	return 0
}
