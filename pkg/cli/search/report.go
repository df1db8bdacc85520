package search

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/clip-go/clip/pkg/cli/cmdutil"
	"github.com/clip-go/clip/pkg/index"
	"github.com/clip-go/clip/pkg/report"
)

// checkReport validates --report before any work.
func checkReport(opts *SearchOptions) error {
	if opts.Report == "-" {
		// Records go to stdout; the page is a file to open.
		return cmdutil.UsageErrorf("--report needs a file name, not -")
	}
	return cmdutil.CheckOutputFile("--report", opts.Report)
}

// writeReport writes --report: the query, then the hits best first with
// thumbnails made from the files as they are now.
func writeReport(ctx context.Context, opts *SearchOptions, text string, image []byte, model string, searched int, hits []index.Hit) error {
	if opts.Report == "" {
		return nil
	}
	ropts := report.Options{Tool: opts.Factory.Version, Model: model, Time: time.Now()}
	q := report.Query{Text: text, Templates: opts.Templates, Image: opts.Image, ImageData: image,
		Index: opts.Index, Indexed: searched, Narrowed: narrowed(opts)}
	rhits := make([]report.Hit, len(hits))
	for i, h := range hits {
		rhits[i] = report.Hit{File: h.Path, Score: float64(index.RoundScore(h.Score))}
	}
	report.HitThumbnails(ctx, rhits, ropts, opts.Factory.Threads())
	size, err := report.WriteSearchFile(opts.Report, ropts, q, rhits)
	if err != nil {
		return cmdutil.NewExitError(cmdutil.ExitRuntime, fmt.Errorf("--report: %w", err))
	}
	if !opts.Factory.Globals.Quiet {
		fmt.Fprintf(opts.IO.ErrOut, "report: %s (%.1f kB)\n", opts.Report, float64(size)/1000)
	}
	return nil
}

// narrowed says in words which flags cut the hits.
func narrowed(opts *SearchOptions) string {
	var parts []string
	if opts.TopK > 0 {
		parts = append(parts, "the best "+strconv.Itoa(opts.TopK))
	}
	if opts.HasMin {
		parts = append(parts, "score at least "+strconv.FormatFloat(opts.Threshold, 'g', -1, 64))
	}
	if opts.Under != "" {
		parts = append(parts, "under "+opts.Under)
	}
	return strings.Join(parts, ", ")
}
