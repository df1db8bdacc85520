package cmdutil

import (
	"encoding/json"
	"fmt"
	"io"
)

// JSONArrayWriter streams values as one JSON array, one element per line,
// so `--format json` output needs no buffering of the whole result.
type JSONArrayWriter struct {
	W io.Writer
	n int
}

// Write appends one element.
func (j *JSONArrayWriter) Write(v any) error {
	b, err := json.Marshal(v)
	if err != nil {
		return err
	}
	sep := ",\n"
	if j.n == 0 {
		sep = "[\n"
	}
	j.n++
	_, err = fmt.Fprintf(j.W, "%s%s", sep, b)
	return err
}

// Close ends the array ("[]" when nothing was written).
func (j *JSONArrayWriter) Close() error {
	end := "\n]\n"
	if j.n == 0 {
		end = "[]\n"
	}
	_, err := io.WriteString(j.W, end)
	return err
}
