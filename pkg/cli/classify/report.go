package classify

import (
	"fmt"
	"time"

	"github.com/clip-go/clip/pkg/cli/cmdutil"
	"github.com/clip-go/clip/pkg/clip"
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

// writeReport writes --report (after Ctrl-C too: what was classified is
// worth a look) and says how big it came out.
func writeReport(opts *ClassifyOptions, v *validated, model Model) error {
	if v.report == nil {
		return nil
	}
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
