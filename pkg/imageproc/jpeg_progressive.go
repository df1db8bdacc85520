package imageproc

func (d *jpegDecoder) refineAC(c *jcomp, blk []int16, ss, se, al int) error {
	p1, m1 := int16(1<<al), int16(-1<<al)
	h := d.ac[c.ta]
	k := ss
	refine := func(z int) error {
		b, err := d.bit()
		if err != nil {
			return err
		}
		if b && blk[z]&p1 == 0 {
			if blk[z] >= 0 {
				blk[z] += p1
			} else {
				blk[z] += m1
			}
		}
		return nil
	}
	if d.eobrun == 0 {
		for ; k <= se; k++ {
			rs, err := d.huff(h)
			if err != nil {
				return err
			}
			r, s := int(rs>>4), int(rs&15)
			var val int16
			if s != 0 {
				b, err := d.bit()
				if err != nil {
					return err
				}
				if b {
					val = p1
				} else {
					val = m1
				}
			} else if r != 15 {
				d.eobrun = 1 << r
				if r > 0 {
					e, err := d.bits(r)
					if err != nil {
						return err
					}
					d.eobrun += e
				}
				break
			}
			for k <= se {
				z := zigzag[k]
				if blk[z] != 0 {
					if err := refine(z); err != nil {
						return err
					}
				} else {
					if r == 0 {
						break
					}
					r--
				}
				k++
			}
			if val != 0 {
				blk[zigzag[min(k, 64+15)]] = val
			}
		}
	}
	if d.eobrun > 0 {
		for ; k <= se; k++ {
			z := zigzag[k]
			if blk[z] != 0 {
				if err := refine(z); err != nil {
					return err
				}
			}
		}
		d.eobrun--
	}
	return nil
}
