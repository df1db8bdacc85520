package classify

import (
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/clip-go/clip/pkg/clip"
)

// Check kinds, the JUnit failure type and the annotation title of a failed check.
const (
	checkExpect   = "expect"
	checkFailIf   = "fail-if"
	checkMinScore = "min-score"
)

// checkFailure applies --expect, --fail-if and --min-score to a classified
// image's record: the kind of the first check that failed and why, or "".
func checkFailure(opts *ClassifyOptions, rec clip.Record) (kind, why string) {
	if rec.Error != "" || rec.Probability == nil {
		return "", ""
	}
	switch {
	case len(opts.Expect) > 0 && !contains(opts.Expect, rec.Label):
		return checkExpect, fmt.Sprintf("%s is %q, expected %s", rec.File, rec.Label, strings.Join(opts.Expect, "|"))
	case contains(opts.FailIf, rec.Label):
		return checkFailIf, fmt.Sprintf("%s is %q", rec.File, rec.Label)
	case opts.MinScore > 0 && *rec.Probability < opts.MinScore:
		return checkMinScore, fmt.Sprintf("%s: best probability %.3f < %.3f", rec.File, *rec.Probability, opts.MinScore)
	}
	return "", ""
}

// ciEntry is one image's outcome, kept for the reports written when the run
// ends (--junit, --format github's annotations, the step summary): they
// need the totals before their first line.
type ciEntry struct {
	file, label, err string
	probability      float64
	checkKind, why   string
	dur              time.Duration
}

// ciReport collects the entries when a CI report was asked for; a nil
// *ciReport does nothing.
type ciReport struct {
	opts    *ClassifyOptions
	names   []string
	start   time.Time
	entries []ciEntry
	// github: annotations on stdout; summaryPath: $GITHUB_STEP_SUMMARY.
	github      bool
	summaryPath string
}

func newCIReport(opts *ClassifyOptions, v *validated) *ciReport {
	summary := stepSummaryPath(opts.Factory, v.format)
	if opts.JUnit == "" && v.format != formatGitHub && summary == "" {
		return nil
	}
	return &ciReport{opts: opts, names: v.names, start: time.Now(), github: v.format == formatGitHub, summaryPath: summary}
}

func (c *ciReport) add(rec clip.Record, dur time.Duration) {
	if c == nil {
		return
	}
	e := ciEntry{file: rec.File, label: rec.Label, err: rec.Error, dur: dur}
	if rec.Probability != nil {
		e.probability = *rec.Probability
	}
	e.checkKind, e.why = checkFailure(c.opts, rec)
	c.entries = append(c.entries, e)
}

// countEntries counts the unreadable images and those that failed a check.
func countEntries(entries []ciEntry) (errors, failures int) {
	for _, e := range entries {
		switch {
		case e.err != "":
			errors++
		case e.why != "":
			failures++
		}
	}
	return errors, failures
}

// finish writes the reports; out (stdout) receives the annotations.
func (c *ciReport) finish(out, errOut io.Writer) error {
	if c == nil {
		return nil
	}
	elapsed := time.Since(c.start)
	if c.github {
		if err := writeAnnotations(out, c.entries, c.opts.MaxErrors); err != nil {
			return err
		}
	}
	// The step summary is extra (written unasked inside GitHub Actions): a
	// failure to write it is a warning, not a failed run.
	if c.summaryPath != "" {
		if err := appendStepSummary(c.summaryPath, c.entries, c.names); err != nil {
			fmt.Fprintf(errOut, "clip: warning: GITHUB_STEP_SUMMARY: %v\n", err)
		}
	}
	if c.opts.JUnit != "" {
		if err := writeJUnitFile(c.opts.JUnit, c.junitSuites(elapsed)); err != nil {
			return fmt.Errorf("--junit: %w", err)
		}
	}
	return nil
}
