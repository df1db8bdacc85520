package main

import (
	"strings"
	"testing"
)

// TestNEONEncodings checks the hand-built encodings against the words GNU
// as (Binutils 2.40, aarch64-linux-gnu-as) emits for the same
// instructions; every WORD of the generated arm64 files was also compared
// that way when they were written.
func TestNEONEncodings(t *testing.T) {
	for _, tc := range []struct {
		line string // as generated
		want string // GNU as: the encoding
	}{
		{fmlaElem(31, 3, 17, 3), "4FB1187F"}, // fmla v31.4s, v3.4s, v17.s[3]
		{fmlaElem(8, 0, 4, 0), "4F841008"},   // fmla v8.4s, v0.4s, v4.s[0]
		{fmlaElem(13, 1, 5, 2), "4F85182D"},  // fmla v13.4s, v1.4s, v5.s[2]
		{same("FADD", 1, 2, 27), "4E3BD441"},
		{same("FSUB", 31, 0, 16), "4EB0D41F"},
		{same("FMUL", 6, 1, 1), "6E21DC26"},
		{same("FDIV", 0, 8, 0), "6E20FD00"},
		{same("FMAX", 1, 1, 20), "4E34F421"},
		{same("FMIN", 1, 0, 19), "4EB3F401"},
		{same("FMLA", 5, 4, 1), "4E21CC85"},
		{same("FMLS", 1, 2, 18), "4EB2CC41"},
		{same("FCMEQ", 7, 0, 0), "4E20E407"},
		{same("FCMGT", 6, 20, 0), "6EA0E686"},
		{same("BIC", 1, 1, 6), "4E661C21"},
		{misc("FCVTNS", 3, 2), "4E21A843"},
		{misc("SCVTF", 2, 3), "4E21D862"},
		{misc("FNEG", 0, 8), "6EA0F900"},
		{sshr(4, 3, 1), "4F3F0464"},
		{sshr(9, 30, 31), "4F2107C9"},
		{same("FADDP", 3, 1, 2), "6E22D423"},
		{reduceAdd(5, 7), "7E30D8E5"},
		{reduceMax(9, 30), "6E30FBC9"},
		{smlalElem(8, 3, 0, 0, false), "0F402068"},   // smlal v8.4s, v3.4h, v0.h[0]
		{smlalElem(9, 3, 0, 1, true), "4F502069"},    // smlal2 v9.4s, v3.8h, v0.h[1]
		{smlalElem(31, 6, 15, 7, false), "0F7F28DF"}, // smlal v31.4s, v6.4h, v15.h[7]
		{smlalElem(20, 4, 2, 5, true), "4F522894"},   // smlal2 v20.4s, v4.8h, v2.h[5]
		{smlalElem(13, 5, 1, 2, false), "0F6120AD"},  // smlal v13.4s, v5.4h, v1.h[2]
		{smlalElem(27, 6, 1, 4, true), "4F4128DB"},   // smlal2 v27.4s, v6.8h, v1.h[4]
		{smlalElem(18, 4, 2, 3, false), "0F722092"},  // smlal v18.4s, v4.4h, v2.h[3]
		{udotElem(8, 3, 0, 0), "6F80E068"},           // udot v8.4s, v3.16b, v0.4b[0] (-march=armv8.2-a+dotprod)
		{udotElem(31, 6, 2, 3), "6FA2E8DF"},          // udot v31.4s, v6.16b, v2.4b[3]
		{udotElem(13, 4, 1, 1), "6FA1E08D"},          // udot v13.4s, v4.16b, v1.4b[1]
		{udotElem(20, 5, 0, 2), "6F80E8B4"},          // udot v20.4s, v5.16b, v0.4b[2]
		{mlaVec(8, 3, 0), "4EA09468"},                // mla v8.4s, v3.4s, v0.4s
		{mlaVec(31, 6, 0), "4EA094DF"},               // mla v31.4s, v6.4s, v0.4s
		{uaddlp(12, 0), "6E20280C"},                  // uaddlp v12.8h, v0.16b (LLVM 14 llvm-mc)
		{uaddlp(27, 5), "6E2028BB"},                  // uaddlp v27.8h, v5.16b
		{uadalp(6, 12), "6E606986"},                  // uadalp v6.4s, v12.8h
		{uadalp(21, 27), "6E606B75"},                 // uadalp v21.4s, v27.8h
	} {
		if !strings.HasPrefix(strings.TrimSpace(tc.line), "WORD $0x"+tc.want+" ") {
			t.Errorf("%q: want WORD $0x%s", tc.line, tc.want)
		}
	}
}
