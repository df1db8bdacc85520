// Package diff implements `clip diff`: what changed between two runs of
// `clip classify` (jsonl or json records), so a pipeline can pin an image
// set's expected labels in its repository and fail when they move.
package diff

import (
	"bufio"
	"bytes"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"os"
	"strconv"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"github.com/clip-go/clip/pkg/cli/cmdutil"
	"github.com/clip-go/clip/pkg/cli/iostreams"
	"github.com/clip-go/clip/pkg/clip"
)

// DiffOptions are the flags and arguments of one `clip diff`.
type DiffOptions struct {
	IO      *iostreams.IOStreams
	Factory *cmdutil.Factory

	Old, New  string
	Tolerance float64
}

// NewCmdDiff returns `clip diff`. runF replaces diffRun in tests that only
// check flag parsing.
func NewCmdDiff(f *cmdutil.Factory, runF func(*DiffOptions) error) *cobra.Command {
	opts := &DiffOptions{IO: f.IOStreams, Factory: f}
	cmd := &cobra.Command{
		Use:   "diff OLD NEW",
		Short: "Compare two classify outputs: changed labels, appeared or gone images, moved probabilities",
		Long: `Compare two outputs of clip classify (jsonl or json records, matched by
file): images whose label changed, that appeared or disappeared, that became
unreadable or readable, and whose probability for a label moved by more than
--tolerance. Exit 1 when anything changed, 0 when nothing did.`,
		Example: `  clip classify assets/ -r --labels logo,photo > baseline.jsonl   # commit it
  clip classify assets/ -r --labels logo,photo | clip diff baseline.jsonl -`,
		Args: cobra.ExactArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.Old, opts.New = args[0], args[1]
			if runF != nil {
				return runF(opts)
			}
			return diffRun(opts)
		},
	}
	cmd.Flags().Float64Var(&opts.Tolerance, "tolerance", 0.01, "report a probability that moved by more than this (1: never)")
	return cmd
}

// Change kinds.
const (
	Appeared    = "appeared"
	Disappeared = "disappeared"
	Label       = "label"
	Unreadable  = "unreadable" // read before, not now
	Readable    = "readable"   // unreadable before, read now
	Probability = "probability"
)

// Change is one difference between the runs, one record of the output.
type Change struct {
	File   string `json:"file"`
	Change string `json:"change"`
	// OldLabel and NewLabel are the best labels (empty when absent or
	// unreadable); for a probability change both are the label that moved.
	OldLabel       string   `json:"old_label,omitempty"`
	NewLabel       string   `json:"new_label,omitempty"`
	OldProbability *float64 `json:"old_probability,omitempty"`
	NewProbability *float64 `json:"new_probability,omitempty"`
	Error          string   `json:"error,omitempty"`
}

func diffRun(opts *DiffOptions) error {
	format, err := opts.Factory.OutputFormat()
	if err != nil {
		return err
	}
	if opts.Tolerance < 0 || math.IsNaN(opts.Tolerance) {
		return cmdutil.UsageErrorf("--tolerance must be 0 or more")
	}
	if opts.Old == "-" && opts.New == "-" {
		return cmdutil.UsageErrorf("only one of OLD and NEW can be - (stdin)")
	}
	old, err := readRecords(opts.Old, opts.IO.In)
	if err != nil {
		return cmdutil.UsageErrorf("%v", err)
	}
	cur, err := readRecords(opts.New, opts.IO.In)
	if err != nil {
		return cmdutil.UsageErrorf("%v", err)
	}
	changes := Compare(old, cur, opts.Tolerance)
	if err := write(opts.IO.Out, format, changes); err != nil {
		return err
	}
	n := len(union(old, cur))
	if len(changes) > 0 {
		return cmdutil.NewExitError(cmdutil.ExitCheckFailed, fmt.Errorf("%d changes in %d images (%s → %s)", len(changes), n, opts.Old, opts.New))
	}
	if !opts.Factory.Globals.Quiet {
		fmt.Fprintf(opts.IO.ErrOut, "no changes in %d images\n", n)
	}
	return nil
}

// records are one run's records in file order, with an index by file.
type records struct {
	list   []clip.Record
	byFile map[string]int
}

// readRecords reads a classify output (jsonl, or a json array) from path,
// or stdin for "-". A repeated file is an error: it could not be matched.
func readRecords(path string, stdin io.Reader) (*records, error) {
	var data []byte
	var err error
	if path == "-" {
		data, err = io.ReadAll(stdin)
	} else {
		data, err = os.ReadFile(path)
	}
	if err != nil {
		return nil, err
	}
	rs := &records{byFile: map[string]int{}}
	add := func(r clip.Record, where string) error {
		if r.File == "" {
			return fmt.Errorf("%s: %s: a record without \"file\" (want clip classify's jsonl or json output)", path, where)
		}
		if _, dup := rs.byFile[r.File]; dup {
			return fmt.Errorf("%s: %s: %s appears twice", path, where, r.File)
		}
		rs.byFile[r.File] = len(rs.list)
		rs.list = append(rs.list, r)
		return nil
	}
	if trimmed := bytes.TrimSpace(data); len(trimmed) > 0 && trimmed[0] == '[' {
		var list []clip.Record
		if err := json.Unmarshal(trimmed, &list); err != nil {
			return nil, fmt.Errorf("%s: not a JSON array of records: %v", path, err)
		}
		for i, r := range list {
			if err := add(r, fmt.Sprintf("record %d", i+1)); err != nil {
				return nil, err
			}
		}
		return rs, nil
	}
	sc := bufio.NewScanner(bytes.NewReader(data))
	sc.Buffer(make([]byte, 0, 64<<10), 16<<20)
	for line := 1; sc.Scan(); line++ {
		text := bytes.TrimSpace(sc.Bytes())
		if len(text) == 0 {
			continue
		}
		var r clip.Record
		if err := json.Unmarshal(text, &r); err != nil {
			return nil, fmt.Errorf("%s:%d: not a JSON record: %v", path, line, err)
		}
		if err := add(r, "line "+strconv.Itoa(line)); err != nil {
			return nil, err
		}
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("%s: %v", path, err)
	}
	return rs, nil
}

// union is every file of both runs: the old run's order, then what only
// the new run has, in its order.
func union(old, cur *records) []string {
	var files []string
	for _, r := range old.list {
		files = append(files, r.File)
	}
	for _, r := range cur.list {
		if _, ok := old.byFile[r.File]; !ok {
			files = append(files, r.File)
		}
	}
	return files
}

// Compare lists the changes from old to cur, in union order: at most one
// per image (the first of: appeared, disappeared, unreadable, readable,
// label, then the label whose probability moved most, when more than
// tolerance).
func Compare(old, cur *records, tolerance float64) []Change {
	var changes []Change
	for _, file := range union(old, cur) {
		oi, inOld := old.byFile[file]
		ni, inNew := cur.byFile[file]
		var o, n clip.Record
		if inOld {
			o = old.list[oi]
		}
		if inNew {
			n = cur.list[ni]
		}
		c := Change{File: file}
		switch {
		case !inOld:
			c.Change, c.NewLabel, c.NewProbability, c.Error = Appeared, n.Label, n.Probability, n.Error
		case !inNew:
			c.Change, c.OldLabel, c.OldProbability, c.Error = Disappeared, o.Label, o.Probability, o.Error
		case o.Error != "" && n.Error != "":
			continue
		case n.Error != "":
			c.Change, c.OldLabel, c.OldProbability, c.Error = Unreadable, o.Label, o.Probability, n.Error
		case o.Error != "":
			c.Change, c.NewLabel, c.NewProbability = Readable, n.Label, n.Probability
		case o.Label != n.Label:
			c.Change, c.OldLabel, c.NewLabel, c.OldProbability, c.NewProbability = Label, o.Label, n.Label, o.Probability, n.Probability
		default:
			label, op, np, moved := largestMove(o, n)
			if moved <= tolerance {
				continue
			}
			c.Change, c.OldLabel, c.NewLabel, c.OldProbability, c.NewProbability = Probability, label, label, &op, &np
		}
		changes = append(changes, c)
	}
	return changes
}

// largestMove finds the label whose probability moved most between two
// records of one image with the same best label: among the labels both
// list, and the best label's own probability (listed even under --top-k).
func largestMove(o, n clip.Record) (label string, op, np, moved float64) {
	if o.Probability != nil && n.Probability != nil {
		label, op, np, moved = o.Label, *o.Probability, *n.Probability, math.Abs(*n.Probability-*o.Probability)
	}
	newProb := map[string]float64{}
	for _, s := range n.Labels {
		newProb[s.Label] = s.Probability
	}
	for _, s := range o.Labels {
		// The best label wins a tie (two labels' probabilities move by the
		// same amount, up to rounding, when only they trade places).
		if p, ok := newProb[s.Label]; ok && math.Abs(p-s.Probability) > moved+1e-9 {
			label, op, np, moved = s.Label, s.Probability, p, math.Abs(p-s.Probability)
		}
	}
	return label, op, np, moved
}

func write(w io.Writer, format string, changes []Change) error {
	switch format {
	case cmdutil.FormatJSON:
		arr := cmdutil.JSONArrayWriter{W: w}
		for _, c := range changes {
			if err := arr.Write(c); err != nil {
				return err
			}
		}
		return arr.Close()
	case cmdutil.FormatJSONL:
		enc := json.NewEncoder(w)
		for _, c := range changes {
			if err := enc.Encode(c); err != nil {
				return err
			}
		}
		return nil
	case cmdutil.FormatCSV:
		cw := csv.NewWriter(w)
		_ = cw.Write([]string{"file", "change", "old_label", "new_label", "old_probability", "new_probability", "error"})
		for _, c := range changes {
			_ = cw.Write([]string{c.File, c.Change, c.OldLabel, c.NewLabel, csvProb(c.OldProbability), csvProb(c.NewProbability), c.Error})
		}
		cw.Flush()
		return cw.Error()
	}
	if len(changes) == 0 {
		return nil
	}
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "FILE\tCHANGE\tOLD\tNEW")
	for _, c := range changes {
		old, cur := cell(c.OldLabel, c.OldProbability), cell(c.NewLabel, c.NewProbability)
		switch c.Change {
		case Unreadable, Appeared:
			if c.Error != "" {
				cur = "error: " + c.Error
			}
		case Disappeared:
			if c.Error != "" {
				old = "error: " + c.Error
			}
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", c.File, c.Change, old, cur)
	}
	return tw.Flush()
}

func cell(label string, p *float64) string {
	if label == "" {
		return "-"
	}
	if p == nil {
		return label
	}
	return fmt.Sprintf("%s %.3f", label, *p)
}

func csvProb(p *float64) string {
	if p == nil {
		return ""
	}
	return strconv.FormatFloat(*p, 'f', 6, 64)
}
