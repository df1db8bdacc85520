package classify

import (
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"strconv"
	"strings"

	"github.com/rivo/uniseg"

	"github.com/clip-go/clip/pkg/cli/cmdutil"
	"github.com/clip-go/clip/pkg/clip"
	"github.com/clip-go/clip/pkg/inputs"
)

// recordWriter streams records in one output format.
type recordWriter interface {
	Write(r clip.Record) error
	Close() error
}

func newRecordWriter(format string, w io.Writer, labels, files []string, threshold bool) recordWriter {
	switch format {
	case cmdutil.FormatJSON:
		return &jsonArrayWriter{cmdutil.JSONArrayWriter{W: w}}
	case cmdutil.FormatCSV:
		return &csvWriter{w: csv.NewWriter(w), labels: labels}
	case cmdutil.FormatTable:
		return newTableWriter(w, labels, files, threshold)
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

// tableWriter writes one column layout for the whole table, fixed before
// the first row from what is known up front (the input names and the
// labels), so rows stream out at once and never change widths. Widths are
// display columns: CJK and emoji take two.
type tableWriter struct {
	w                     io.Writer
	fileWidth, labelWidth int
	header                bool
}

// maxFileColumn caps the FILE column; longer names keep their end.
const maxFileColumn = 60

func newTableWriter(w io.Writer, labels, files []string, threshold bool) *tableWriter {
	t := &tableWriter{w: w, fileWidth: len("FILE"), labelWidth: len("LABEL")}
	for _, f := range files {
		t.fileWidth = max(t.fileWidth, uniseg.StringWidth(f))
	}
	t.fileWidth = min(t.fileWidth, maxFileColumn)
	longest := 0
	for _, l := range labels {
		longest = max(longest, uniseg.StringWidth(l))
	}
	t.labelWidth = max(t.labelWidth, longest)
	if threshold {
		t.labelWidth = max(t.labelWidth, uniseg.StringWidth(unknownBest(""))+longest)
	}
	return t
}

// unknownBest is the LABEL cell of an image below --threshold: the best
// label stays visible.
func unknownBest(best string) string { return clip.UnknownLabel + " (best: " + best + ")" }

func (t *tableWriter) Write(r clip.Record) error {
	var b strings.Builder
	if !t.header {
		t.header = true
		t.row(&b, "FILE", "LABEL", "PROB", "RUNNERS-UP")
	}
	if r.Error != "" {
		t.row(&b, r.File, "ERROR", "", r.Error)
	} else {
		label := r.Label
		if label == clip.UnknownLabel && len(r.Labels) > 0 && r.Labels[0].Label != clip.UnknownLabel {
			label = unknownBest(r.Labels[0].Label)
		}
		var rest []string
		for i, s := range r.Labels {
			if i == 0 || i > 3 {
				continue
			}
			rest = append(rest, fmt.Sprintf("%s %.3f", s.Label, s.Probability))
		}
		t.row(&b, r.File, label, fmt.Sprintf("%.3f", *r.Probability), strings.Join(rest, ", "))
	}
	_, err := io.WriteString(t.w, b.String())
	return err
}

func (t *tableWriter) row(b *strings.Builder, file, label, prob, rest string) {
	line := pad(truncateLeft(file, t.fileWidth), t.fileWidth) + "  " + pad(label, t.labelWidth) + "  " + pad(prob, 5) + "  " + rest
	b.WriteString(strings.TrimRight(line, " "))
	b.WriteByte('\n')
}

func (t *tableWriter) Close() error { return nil }

// pad fills s with spaces to width display columns.
func pad(s string, width int) string {
	if n := width - uniseg.StringWidth(s); n > 0 {
		return s + strings.Repeat(" ", n)
	}
	return s
}

// truncateLeft shortens s to width display columns, keeping its end (a
// file's name) after an ellipsis.
func truncateLeft(s string, width int) string {
	if uniseg.StringWidth(s) <= width {
		return s
	}
	var clusters []string
	for g := uniseg.NewGraphemes(s); g.Next(); {
		clusters = append(clusters, g.Str())
	}
	w, i := 1, len(clusters) // 1 for the ellipsis
	for i > 0 && w+uniseg.StringWidth(clusters[i-1]) <= width {
		i--
		w += uniseg.StringWidth(clusters[i])
	}
	return "…" + strings.Join(clusters[i:], "")
}

// fileNames are the inputs' names, for the table's layout.
func fileNames(in []inputs.Input) []string {
	names := make([]string, len(in))
	for i, x := range in {
		names[i] = x.Name
	}
	return names
}
