package classify

import (
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"strconv"
	"strings"
	"text/tabwriter"

	"github.com/clip-go/clip/pkg/cli/cmdutil"
	"github.com/clip-go/clip/pkg/clip"
)

// recordWriter streams records in one output format.
type recordWriter interface {
	Write(r clip.Record) error
	Close() error
}

func newRecordWriter(format string, w io.Writer, labels []string) recordWriter {
	switch format {
	case cmdutil.FormatJSON:
		return &jsonArrayWriter{cmdutil.JSONArrayWriter{W: w}}
	case cmdutil.FormatCSV:
		return &csvWriter{w: csv.NewWriter(w), labels: labels}
	case cmdutil.FormatTable:
		return &tableWriter{w: w}
	}
	return &jsonlWriter{enc: json.NewEncoder(w)}
}

type jsonlWriter struct{ enc *json.Encoder }

func (j *jsonlWriter) Write(r clip.Record) error { return j.enc.Encode(r) }
func (j *jsonlWriter) Close() error              { return nil }

// jsonArrayWriter is `--format json`: one array of records.
type jsonArrayWriter struct{ cmdutil.JSONArrayWriter }

func (j *jsonArrayWriter) Write(r clip.Record) error { return j.JSONArrayWriter.Write(r) }

// csvWriter has fixed columns: file, label, probability, one probability
// column per label in the order given, error.
type csvWriter struct {
	w      *csv.Writer
	labels []string
	header bool
}

func (c *csvWriter) Write(r clip.Record) error {
	if !c.header {
		c.header = true
		if err := c.w.Write(append(append([]string{"file", "label", "probability"}, c.labels...), "error")); err != nil {
			return err
		}
	}
	row := make([]string, 0, len(c.labels)+4)
	row = append(row, r.File, r.Label, "")
	if r.Probability != nil {
		row[2] = formatProb(*r.Probability)
	}
	byLabel := map[string]float64{}
	for _, s := range r.Labels {
		byLabel[s.Label] = s.Probability
	}
	for _, l := range c.labels {
		if p, ok := byLabel[l]; ok {
			row = append(row, formatProb(p))
		} else {
			row = append(row, "")
		}
	}
	row = append(row, r.Error)
	if err := c.w.Write(row); err != nil {
		return err
	}
	c.w.Flush()
	return c.w.Error()
}

func (c *csvWriter) Close() error {
	if !c.header {
		c.header = true
		_ = c.w.Write(append(append([]string{"file", "label", "probability"}, c.labels...), "error"))
	}
	c.w.Flush()
	return c.w.Error()
}

func formatProb(p float64) string { return strconv.FormatFloat(p, 'f', 6, 64) }

// tableWriter aligns columns for people; it flushes every few rows so a
// long run shows progress and holds little in memory.
type tableWriter struct {
	w    io.Writer
	tw   *tabwriter.Writer
	rows int
}

func (t *tableWriter) Write(r clip.Record) error {
	if t.tw == nil {
		t.tw = tabwriter.NewWriter(t.w, 0, 4, 2, ' ', 0)
		fmt.Fprintln(t.tw, "FILE\tLABEL\tPROB\tRUNNERS-UP")
	}
	if r.Error != "" {
		fmt.Fprintf(t.tw, "%s\t%s\t\t%s\n", r.File, "ERROR", r.Error)
	} else {
		var rest []string
		for i, s := range r.Labels {
			if i == 0 || i > 3 {
				continue
			}
			rest = append(rest, fmt.Sprintf("%s %.3f", s.Label, s.Probability))
		}
		fmt.Fprintf(t.tw, "%s\t%s\t%.3f\t%s\n", r.File, r.Label, *r.Probability, strings.Join(rest, ", "))
	}
	t.rows++
	if t.rows%64 == 0 {
		return t.tw.Flush()
	}
	return nil
}

func (t *tableWriter) Close() error {
	if t.tw == nil {
		return nil
	}
	return t.tw.Flush()
}
