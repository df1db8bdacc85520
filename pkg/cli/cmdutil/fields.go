package cmdutil

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
)

// Field is one named value of a command that prints a single record
// (version, preprocess), in the order it is written.
type Field struct {
	Key   string
	Value any
}

// WriteFields writes one record as --format asks: an indented JSON object
// (json), one JSON line (jsonl) or a header and a row (csv). Table output
// is the command's own; WriteFields does not handle it.
func WriteFields(w io.Writer, format string, fields []Field) error {
	switch format {
	case FormatJSON, FormatJSONL:
		var b bytes.Buffer
		b.WriteByte('{')
		for i, f := range fields {
			k, _ := json.Marshal(f.Key)
			v, err := json.Marshal(f.Value)
			if err != nil {
				return fmt.Errorf("%s: %w", f.Key, err)
			}
			if i > 0 {
				b.WriteByte(',')
			}
			b.Write(k)
			b.WriteByte(':')
			b.Write(v)
		}
		b.WriteByte('}')
		out := b.Bytes()
		if format == FormatJSON {
			var ind bytes.Buffer
			if err := json.Indent(&ind, out, "", "  "); err != nil {
				return err
			}
			out = ind.Bytes()
		}
		_, err := fmt.Fprintf(w, "%s\n", out)
		return err
	case FormatCSV:
		cw := csv.NewWriter(w)
		head := make([]string, len(fields))
		row := make([]string, len(fields))
		for i, f := range fields {
			head[i] = f.Key
			switch v := f.Value.(type) {
			case string:
				row[i] = v
			case int, int64, float64, bool:
				row[i] = fmt.Sprint(v)
			default:
				b, _ := json.Marshal(v)
				row[i] = string(b)
			}
		}
		_ = cw.Write(head)
		_ = cw.Write(row)
		cw.Flush()
		return cw.Error()
	}
	return fmt.Errorf("WriteFields: format %q", format)
}
