package cmdutil

import (
	"encoding/json"
	"io"
	"iter"
	"math"
	"os"
)

// WriteJSONRecords writes records as one JSON array (--format json) or one
// object per line (any other format: jsonl).
func WriteJSONRecords[T any](w io.Writer, format string, recs iter.Seq[T]) error {
	if format == FormatJSON {
		a := JSONArrayWriter{W: w}
		for r := range recs {
			if err := a.Write(r); err != nil {
				return err
			}
		}
		return a.Close()
	}
	enc := json.NewEncoder(w)
	for r := range recs {
		if err := enc.Encode(r); err != nil {
			return err
		}
	}
	return nil
}

// CheckIndexFile is the usage error for an --index file that cannot be
// read, before anything else is done.
func CheckIndexFile(path string) error {
	if _, err := os.Stat(path); err != nil {
		return UsageErrorf("--index %s: %v (make one with 'clip index PATH…')", path, unwrapPath(err))
	}
	return nil
}

// Round4 keeps four decimals of a score read from an index: float16
// storage makes the rest noise.
func Round4(x float32) float32 { return float32(math.Round(float64(x)*1e4) / 1e4) }
