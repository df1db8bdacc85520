package imageproc

import "encoding/binary"

// heifNCLX is the colour description that selects the YCbCr→RGB
// conversion: an nclx 'colr' property, or the HEVC stream's VUI.
type heifNCLX struct {
	primaries, matrix int
	fullRange         bool
}

// libde265's values for a stream without (a colour description in) its
// VUI: unspecified primaries and matrix, limited range.
var hevcNoVUI = heifNCLX{primaries: 2, matrix: 2, fullRange: false}

// nclxFromColr reads an nclx 'colr' payload; ok false for ICC ones.
func nclxFromColr(p []byte) (heifNCLX, bool) {
	if len(p) < 11 || string(p[:4]) != "nclx" {
		return heifNCLX{}, false
	}
	return heifNCLX{
		primaries: int(binary.BigEndian.Uint16(p[4:])),
		matrix:    int(binary.BigEndian.Uint16(p[8:])),
		fullRange: p[10]&0x80 != 0,
	}, true
}

// hvcCDepths are the luma and chroma bit depths an hvcC payload declares.
func hvcCDepths(p []byte) (luma, chroma int, ok bool) {
	if len(p) < 23 {
		return 0, 0, false
	}
	return int(p[17]&7) + 8, int(p[18]&7) + 8, true
}

// hvcCSPS is the first sequence parameter set NAL unit in an hvcC payload.
func hvcCSPS(p []byte) []byte {
	if len(p) < 23 {
		return nil
	}
	n := int(p[22])
	q := p[23:]
	for i := 0; i < n; i++ {
		if len(q) < 3 {
			return nil
		}
		kind, count := q[0]&0x3f, int(binary.BigEndian.Uint16(q[1:]))
		q = q[3:]
		for j := 0; j < count; j++ {
			if len(q) < 2 {
				return nil
			}
			l := int(binary.BigEndian.Uint16(q))
			if len(q) < 2+l {
				return nil
			}
			if kind == 33 {
				return q[2 : 2+l]
			}
			q = q[2+l:]
		}
	}
	return nil
}

// hevcBits reads an RBSP (emulation prevention bytes already removed).
type hevcBits struct {
	b   []byte
	pos int
	bad bool
}

func (r *hevcBits) u(n int) int {
	v := 0
	for ; n > 0; n-- {
		if r.pos>>3 >= len(r.b) {
			r.bad = true
			return 0
		}
		v = v<<1 | int(r.b[r.pos>>3]>>(7-r.pos&7)&1)
		r.pos++
	}
	return v
}

func (r *hevcBits) ue() int {
	zeros := 0
	for r.u(1) == 0 {
		if zeros++; zeros > 31 || r.bad {
			r.bad = true
			return 0
		}
	}
	return 1<<zeros - 1 + r.u(zeros)
}

func (r *hevcBits) se() int {
	v := r.ue()
	if v&1 != 0 {
		return (v + 1) / 2
	}
	return -v / 2
}

// hevcSPSColour reads the colour description from an SPS NAL unit's VUI
// (ITU-T H.265 7.3.2.2 and E.2.1), with libde265's values for what is
// absent; ok false when the SPS cannot be parsed.
func hevcSPSColour(nal []byte) (heifNCLX, bool) {
	if len(nal) < 3 {
		return heifNCLX{}, false
	}
	rbsp := make([]byte, 0, len(nal))
	zeros := 0
	for _, c := range nal[2:] { // after the two-byte NAL unit header
		if zeros >= 2 && c == 3 {
			zeros = 0
			continue
		}
		if c == 0 {
			zeros++
		} else {
			zeros = 0
		}
		rbsp = append(rbsp, c)
	}
	r := &hevcBits{b: rbsp}
	r.u(4) // sps_video_parameter_set_id
	maxSubLayersMinus1 := r.u(3)
	r.u(1) // sps_temporal_id_nesting_flag
	// profile_tier_level(1, maxSubLayersMinus1)
	r.u(88 + 8) // general profile and level
	profile, level := make([]bool, maxSubLayersMinus1), make([]bool, maxSubLayersMinus1)
	for i := range profile {
		profile[i], level[i] = r.u(1) == 1, r.u(1) == 1
	}
	if maxSubLayersMinus1 > 0 {
		r.u(2 * (8 - maxSubLayersMinus1))
	}
	for i := range profile {
		if profile[i] {
			r.u(88)
		}
		if level[i] {
			r.u(8)
		}
	}
	r.ue() // sps_seq_parameter_set_id
	if r.ue() == 3 {
		r.u(1) // separate_colour_plane_flag
	}
	r.ue() // pic_width_in_luma_samples
	r.ue() // pic_height_in_luma_samples
	if r.u(1) == 1 {
		r.ue() // conformance window offsets
		r.ue()
		r.ue()
		r.ue()
	}
	r.ue() // bit_depth_luma_minus8
	r.ue() // bit_depth_chroma_minus8
	log2MaxPOCLsb := r.ue() + 4
	first := maxSubLayersMinus1
	if r.u(1) == 1 { // sps_sub_layer_ordering_info_present_flag
		first = 0
	}
	for i := first; i <= maxSubLayersMinus1; i++ {
		r.ue()
		r.ue()
		r.ue()
	}
	for range 6 { // coding and transform block sizes, hierarchy depths
		r.ue()
	}
	if r.u(1) == 1 && r.u(1) == 1 { // scaling lists enabled, and sent
		for sizeID := 0; sizeID < 4; sizeID++ {
			step := 1
			if sizeID == 3 {
				step = 3
			}
			for matrixID := 0; matrixID < 6; matrixID += step {
				if r.u(1) == 0 {
					r.ue() // scaling_list_pred_matrix_id_delta
					continue
				}
				if sizeID > 1 {
					r.se() // scaling_list_dc_coef_minus8
				}
				for i := min(64, 1<<(4+sizeID<<1)); i > 0 && !r.bad; i-- {
					r.se()
				}
			}
		}
	}
	r.u(1)           // amp_enabled_flag
	r.u(1)           // sample_adaptive_offset_enabled_flag
	if r.u(1) == 1 { // pcm_enabled_flag
		r.u(8)
		r.ue()
		r.ue()
		r.u(1)
	}
	numSets := r.ue()
	if numSets > 64 {
		return heifNCLX{}, false
	}
	numDeltaPOCs := make([]int, numSets)
	for i := 0; i < numSets && !r.bad; i++ {
		if i != 0 && r.u(1) == 1 { // inter_ref_pic_set_prediction_flag
			r.u(1) // delta_rps_sign
			r.ue() // abs_delta_rps_minus1
			n := 0 // RefRpsIdx is i-1 in an SPS
			for j := 0; j <= numDeltaPOCs[i-1] && !r.bad; j++ {
				if r.u(1) == 1 || r.u(1) == 1 { // used_by_curr_pic_flag, else use_delta_flag
					n++
				}
			}
			numDeltaPOCs[i] = n
			continue
		}
		neg, pos := r.ue(), r.ue()
		if neg > 16 || pos > 16 {
			return heifNCLX{}, false
		}
		for j := 0; j < neg+pos; j++ {
			r.ue()
			r.u(1)
		}
		numDeltaPOCs[i] = neg + pos
	}
	if r.u(1) == 1 { // long_term_ref_pics_present_flag
		n := r.ue()
		if n > 32 {
			return heifNCLX{}, false
		}
		for j := 0; j < n; j++ {
			r.u(log2MaxPOCLsb)
			r.u(1)
		}
	}
	r.u(1) // sps_temporal_mvp_enabled_flag
	r.u(1) // strong_intra_smoothing_enabled_flag
	out := hevcNoVUI
	if r.u(1) == 1 { // vui_parameters_present_flag
		if r.u(1) == 1 && r.u(8) == 255 { // aspect_ratio_info_present_flag, EXTENDED_SAR
			r.u(32)
		}
		if r.u(1) == 1 { // overscan_info_present_flag
			r.u(1)
		}
		if r.u(1) == 1 { // video_signal_type_present_flag
			r.u(3) // video_format
			out.fullRange = r.u(1) == 1
			if r.u(1) == 1 { // colour_description_present_flag
				out.primaries = r.u(8)
				r.u(8) // transfer_characteristics
				out.matrix = r.u(8)
			}
		}
	}
	return out, !r.bad
}
