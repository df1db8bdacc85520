// Package list implements `clip cache list`: the text-embedding cache's
// files, one per model, with their prompt counts and sizes.
package list

import (
	"encoding/csv"
	"encoding/json"
	"fmt"
	"strconv"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/clip-go/clip/pkg/cli/cache/shared"
	"github.com/clip-go/clip/pkg/cli/cmdutil"
	"github.com/clip-go/clip/pkg/cli/iostreams"
)

// ListOptions are the arguments of one `clip cache list`.
type ListOptions struct {
	IO      *iostreams.IOStreams
	Factory *cmdutil.Factory
}

// NewCmdList returns `clip cache list`. runF replaces listRun in tests.
func NewCmdList(f *cmdutil.Factory, runF func(*ListOptions) error) *cobra.Command {
	opts := &ListOptions{IO: f.IOStreams, Factory: f}
	return &cobra.Command{
		Use:   "list",
		Short: "List the text-embedding cache's files",
		Long: `List the text-embedding cache: one file per model (named by the hash of
its text graph and tokenizer files), with the number of prompts it holds,
its size and when it last changed.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if runF != nil {
				return runF(opts)
			}
			return listRun(opts)
		},
	}
}

func listRun(opts *ListOptions) error {
	format, err := opts.Factory.OutputFormat()
	if err != nil {
		return err
	}
	dir, files, err := shared.List(opts.Factory)
	if err != nil {
		return err
	}
	out := opts.IO.Out
	switch format {
	case cmdutil.FormatJSON:
		arr := cmdutil.JSONArrayWriter{W: out}
		for _, fi := range files {
			if err := arr.Write(fi); err != nil {
				return err
			}
		}
		return arr.Close()
	case cmdutil.FormatJSONL:
		enc := json.NewEncoder(out)
		for _, fi := range files {
			if err := enc.Encode(fi); err != nil {
				return err
			}
		}
		return nil
	case cmdutil.FormatCSV:
		w := csv.NewWriter(out)
		_ = w.Write([]string{"model_key", "path", "prompts", "size", "modified"})
		for _, fi := range files {
			_ = w.Write([]string{fi.Model, fi.Path, strconv.Itoa(fi.Prompts), strconv.FormatInt(fi.Size, 10), fi.Modified.Format(time.RFC3339)})
		}
		w.Flush()
		return w.Error()
	}
	if len(files) == 0 {
		_, err := fmt.Fprintf(out, "text cache %s is empty\n", dir)
		return err
	}
	tw := tabwriter.NewWriter(out, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "MODEL KEY\tPROMPTS\tSIZE\tMODIFIED")
	for _, fi := range files {
		fmt.Fprintf(tw, "%s\t%d\t%d\t%s\n", fi.Model, fi.Prompts, fi.Size, fi.Modified.Format(time.RFC3339))
	}
	return tw.Flush()
}
