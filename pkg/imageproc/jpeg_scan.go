package imageproc

import "errors"

func (d *jpegDecoder) readScan(s []byte) error {
	if !d.frameSeen || len(s) < 1 {
		return errors.New("scan before frame")
	}
	ns := int(s[0])
	if ns < 1 || ns > 4 || len(s) < 1+2*ns+3 {
		return errors.New("bad SOS")
	}
	var sc []*jcomp
	for i := 0; i < ns; i++ {
		id := int(s[1+2*i])
		var c *jcomp
		for j := range d.comps {
			if d.comps[j].id == id {
				c = &d.comps[j]
			}
		}
		if c == nil {
			return errors.New("scan names an unknown component")
		}
		c.td, c.ta = int(s[2+2*i]>>4), int(s[2+2*i]&15)
		if c.td > 3 || c.ta > 3 {
			return errors.New("bad SOS table")
		}
		sc = append(sc, c)
	}
	p := 1 + 2*ns
	ss, se, ah, al := int(s[p]), int(s[p+1]), int(s[p+2]>>4), int(s[p+2]&15)
	if !d.progressive {
		ss, se, ah, al = 0, 63, 0, 0
	}
	if ss > 63 || se > 63 || ss > se || al > 13 || (ss > 0 && ns != 1) {
		return errors.New("bad progressive parameters")
	}
	d.acc, d.nbits, d.hitMark, d.eobrun = 0, 0, false, 0
	d.padBits, d.insufficient = 0, false
	for _, c := range sc {
		c.dcPred = 0
		if ss == 0 && ah == 0 && d.dc[c.td] == nil || se > 0 && (ss > 0 || !d.progressive) && d.ac[c.ta] == nil {
			return errors.New("scan uses an undefined Huffman table")
		}
	}

	block := func(c *jcomp, bx, by int) error {
		if bx >= c.bw || by >= c.bh || d.insufficient {
			return nil
		}
		return d.decodeBlock(c, c.block(bx, by), ss, se, ah, al)
	}

	if d.streamed != nil {
		return errUnsupportedJPEG // a scan after the streamed one: rare, leave it to image/jpeg
	}
	var st *jpegStream
	if !d.progressive && ns == len(d.comps) {
		st = d.newStream(d.comps[0].coefs == nil)
	}
	if st != nil && st.ring {
		d.allocCoefs(d.ringRows)
	} else {
		d.allocCoefs(0)
	}
	mcus := 0
	if ns == 1 && st == nil {
		c := sc[0]
		for by := 0; by < c.ch; by++ {
			for bx := 0; bx < c.cw; bx++ {
				if d.restart > 0 && mcus > 0 && mcus%d.restart == 0 {
					if err := d.restartSync(); err != nil {
						return err
					}
				}
				if err := block(c, bx, by); err != nil {
					return err
				}
				d.insufficient = d.insufficient || d.nbits < d.padBits
				mcus++
			}
		}
	} else {
		for my := 0; my < d.mcuy; my++ {
			if st != nil && st.ring {
				// Wait for the worker to free a ring slot (or to have died).
				select {
				case <-st.free:
				case <-st.done:
					_, err := st.wait()
					if err == nil {
						err = errors.New("jpeg stream worker stopped")
					}
					return err
				}
			}
			for mx := 0; mx < d.mcux; mx++ {
				if d.restart > 0 && mcus > 0 && mcus%d.restart == 0 {
					if err := d.restartSync(); err != nil {
						return err
					}
				}
				for _, c := range sc {
					for v := 0; v < c.v; v++ {
						for h := 0; h < c.h; h++ {
							if err := block(c, mx*c.h+h, my*c.v+v); err != nil {
								if st != nil {
									st.abort()
								}
								return err
							}
						}
					}
				}
				d.insufficient = d.insufficient || d.nbits < d.padBits
				mcus++
			}
			if st != nil {
				st.rows <- my
			}
		}
	}
	if st != nil {
		out, err := st.wait()
		if err != nil {
			return err
		}
		d.streamed = out
	}
	// Leave d.pos at the marker that ends the scan.
	if d.hitMark {
		for d.pos < len(d.b) && d.b[d.pos] != 0xFF {
			d.pos++
		}
	}
	return nil
}
