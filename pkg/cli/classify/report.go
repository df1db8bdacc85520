package classify

import (
	"context"
	"fmt"
	"time"

	"github.com/clip-go/clip/pkg/cli/cmdutil"
	"github.com/clip-go/clip/pkg/clip"
	"github.com/clip-go/clip/pkg/inputs"
	"github.com/clip-go/clip/pkg/report"
)

// newReport starts the --report collector, or returns nil without the flag
// (a nil collector ignores what it is given).
func newReport(opts *ClassifyOptions, v *validated) (*report.Collector, error) {
	switch opts.Report {
	case "":
		return nil, nil
	case "-":
		// Records go to stdout; the page is a file to open.
		return nil, cmdutil.UsageErrorf("--report needs a file name, not -")
	}
	return report.NewCollector(report.Options{
		Tool:      opts.Factory.Version,
		Time:      time.Now(),
		Labels:    v.names,
		Threshold: opts.Threshold,
		Checks:    len(opts.Expect) > 0 || len(opts.FailIf) > 0 || opts.MinScore > 0,
		Decode:    decodeOptions(opts),
	}), nil
}

// rereadFiles lets the report read local files again for the thumbnails
// of each group's least certain images; a URL is not fetched twice, and
// stdin cannot be read again.
func rereadFiles(in []inputs.Input, fetch *inputs.Fetcher) report.Reread {
	return func(ctx context.Context, i int) ([]byte, error) {
		if in[i].IsURL || in[i].Name == inputs.StdinName {
			return nil, nil
		}
		return fetch.Open(ctx, in[i])
	}
}

// writeReport writes --report (after Ctrl-C too: what was classified is
// worth a look; the least certain images' thumbnails are skipped then)
// and says how big it came out.
func writeReport(ctx context.Context, opts *ClassifyOptions, v *validated, model Model) error {
	if v.report == nil {
		return nil
	}
	v.report.AddLeastCertain(ctx, opts.Factory.Threads())
	if d, ok := model.(interface{ Describe() string }); ok {
		v.report.SetModel(d.Describe())
	}
	size, err := v.report.WriteFile(opts.Report)
	if err != nil {
		return fmt.Errorf("--report: %w", err)
	}
	if n := v.report.Len(); n > 0 && !opts.Factory.Globals.Quiet {
		fmt.Fprintf(opts.IO.ErrOut, "report: %s (%.1f kB, %.1f kB per image)\n", opts.Report, float64(size)/1000, float64(size)/1000/float64(n))
	}
	return nil
}

// failedWhy is why rec failed a check, for its card ("" if it passed).
func failedWhy(opts *ClassifyOptions, rec clip.Record) string {
	_, why := checkFailure(opts, rec)
	return why
}
