// Package dupes implements `clip dupes`: list the groups of near-duplicate
// images of a `clip index` file.
package dupes

import (
	"context"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"math"
	"slices"
	"strconv"

	"github.com/spf13/cobra"

	"github.com/clip-go/clip/pkg/cli/cmdutil"
	"github.com/clip-go/clip/pkg/cli/iostreams"
	"github.com/clip-go/clip/pkg/clip"
	"github.com/clip-go/clip/pkg/index"
)

// defaultIndex matches `clip index`'s default (verbs do not import each
// other; the README documents both).
const defaultIndex = "clip-index.sqlite"

// DupesOptions are the flags of one `clip dupes`.
type DupesOptions struct {
	IO      *iostreams.IOStreams
	Factory *cmdutil.Factory

	Index     string
	Threshold float64
	Under     string
}

// NewCmdDupes returns `clip dupes`; runF replaces dupesRun in flag tests.
func NewCmdDupes(f *cmdutil.Factory, runF func(*DupesOptions) error) *cobra.Command {
	opts := &DupesOptions{IO: f.IOStreams, Factory: f}
	cmd := &cobra.Command{
		Use:   "dupes",
		Short: "List groups of near-duplicate indexed images",
		Long: fmt.Sprintf(`Find the near-duplicates among the images of a 'clip index' file: copies
re-encoded, resized, slightly cropped or edited. Two images are duplicates
when the cosine similarity of their embeddings is at least --threshold
(default %g, immich's default for CLIP duplicate detection); a group is
every image linked to another by such pairs, so a member can score below
the threshold against the group's first image. Every pair is compared (no
model is loaded): 10,000 images take about a CPU-second, 100,000 a
CPU-minute and a half (time grows with the square).

Groups are largest first. A group's first image is its representative,
the one most similar to the others (not necessarily the original); the
others follow by their similarity to it. The table separates the groups;
json is one array of groups, jsonl one group per line:
{"schema":1,"group":1,"size":2,"files":[{"file":…,"score":1},…]}; csv has
one row per image: group,file,score.`, index.DefaultDupeThreshold),
		Example: `  clip dupes
  clip dupes --index photos.sqlite --threshold 0.95 --under ~/Pictures/2024
  clip dupes --format jsonl | jq -r '.files[1:][].file'`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if runF != nil {
				return runF(opts)
			}
			return dupesRun(cmd.Context(), opts)
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&opts.Index, "index", defaultIndex, "index file made by 'clip index'")
	fl.Float64Var(&opts.Threshold, "threshold", index.DefaultDupeThreshold, "cosine similarity at or above which two images are duplicates")
	fl.StringVar(&opts.Under, "under", "", "only images under this directory (or path prefix)")
	return cmd
}

func dupesRun(ctx context.Context, opts *DupesOptions) error {
	format, err := opts.Factory.OutputFormat()
	if err != nil {
		return err
	}
	if math.IsNaN(opts.Threshold) || opts.Threshold < -1 || opts.Threshold > 1 {
		return cmdutil.UsageErrorf("--threshold %g: want a cosine similarity between -1 and 1", opts.Threshold)
	}
	if err := cmdutil.CheckIndexFile(opts.Index); err != nil {
		return err
	}
	keep, err := cmdutil.UnderFilter(opts.Under)
	if err != nil {
		return cmdutil.UsageErrorf("--under: %v", err)
	}
	ix, err := index.Open(ctx, opts.Index, index.Options{ReadOnly: true})
	if err != nil {
		return cmdutil.NewExitError(cmdutil.ExitRuntime, err)
	}
	defer ix.Close()
	vecs, err := ix.Load(ctx, keep)
	if err == nil {
		var groups [][]index.DupeMember
		groups, err = vecs.Dupes(ctx, index.DupeOptions{Threshold: float32(opts.Threshold), Workers: opts.Factory.Threads()})
		if err == nil {
			if err = write(opts.IO.Out, format, groups); err != nil {
				return cmdutil.NewExitError(cmdutil.ExitRuntime, err)
			}
			if !opts.Factory.Globals.Quiet {
				n := 0
				for _, g := range groups {
					n += len(g)
				}
				fmt.Fprintf(opts.IO.ErrOut, "clip: %d groups of near-duplicates (%d of %d images, threshold %g)\n", len(groups), n, vecs.Len(), opts.Threshold)
			}
			return nil
		}
	}
	if ctx.Err() != nil {
		return cmdutil.NewExitError(cmdutil.ExitInterrupted, errors.New("interrupted"))
	}
	return cmdutil.NewExitError(cmdutil.ExitRuntime, err)
}

type member struct {
	File  string  `json:"file"`
	Score float32 `json:"score"`
}

type group struct {
	Schema int      `json:"schema"`
	Group  int      `json:"group"`
	Size   int      `json:"size"`
	Files  []member `json:"files"`
}

func write(w io.Writer, format string, groups [][]index.DupeMember) error {
	recs := make([]group, len(groups))
	for i, g := range groups {
		recs[i] = group{Schema: clip.SchemaVersion, Group: i + 1, Size: len(g), Files: make([]member, len(g))}
		for j, m := range g {
			recs[i].Files[j] = member{File: m.Path, Score: index.RoundScore(m.Score)}
		}
	}
	switch format {
	case cmdutil.FormatCSV:
		c := csv.NewWriter(w)
		_ = c.Write([]string{"group", "file", "score"})
		for _, r := range recs {
			for _, m := range r.Files {
				_ = c.Write([]string{strconv.Itoa(r.Group), m.File, strconv.FormatFloat(float64(m.Score), 'f', 4, 32)})
			}
		}
		c.Flush()
		return c.Error()
	case cmdutil.FormatTable:
		for i, r := range recs {
			sep := "\n"
			if i == 0 {
				sep = ""
			}
			if _, err := fmt.Fprintf(w, "%sgroup %d: %d images\n", sep, r.Group, r.Size); err != nil {
				return err
			}
			for _, m := range r.Files {
				if _, err := fmt.Fprintf(w, "  %.4f  %s\n", m.Score, m.File); err != nil {
					return err
				}
			}
		}
		return nil
	}
	return cmdutil.WriteJSONRecords(w, format, slices.Values(recs))
}
