package cmdutil

import (
	"encoding/json"
	"io"
	"iter"
	"os"
	"path/filepath"

	"github.com/clip-go/clip/pkg/index"
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

// UnderFilter is the path filter of an --under flag: the files at or below
// dir made absolute (the index holds absolute paths); nil (keep all) when
// dir is empty.
func UnderFilter(dir string) (func(path string) bool, error) {
	if dir == "" {
		return nil, nil
	}
	prefix, err := filepath.Abs(dir)
	if err != nil {
		return nil, err
	}
	return index.Under(prefix, filepath.Separator), nil
}
