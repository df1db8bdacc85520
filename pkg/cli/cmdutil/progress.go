package cmdutil

import (
	"fmt"
	"io"

	"github.com/schollz/progressbar/v3"

	"github.com/clip-go/clip/pkg/cli/iostreams"
)

// Progress draws a progress bar on stderr (a terminal) and owns its line:
// the bar is cleared before any other line reaches the terminal (an error
// line on stderr, a row on stdout when stdout is the same terminal) and
// redrawn after, and cleared for good by Done.
type Progress struct {
	bar    *progressbar.ProgressBar
	errOut io.Writer
	shown  bool
}

// NewProgress returns the bar for n items described as verb ("classifying",
// "indexing"); without a terminal, with --quiet or for fewer than 2 items
// it draws nothing.
func NewProgress(ios *iostreams.IOStreams, n int, quiet bool, verb string) *Progress {
	p := &Progress{errOut: ios.ErrOut}
	if !ios.ProgressEnabled() || quiet || n < 2 {
		return p
	}
	// Fit the terminal: a bar that wraps cannot be erased with \r.
	const rest = 48 // description, percentage, counts, rate and times
	p.bar = progressbar.NewOptions(n, progressbar.OptionSetWriter(ios.ErrOut),
		progressbar.OptionSetDescription(verb), progressbar.OptionShowCount(),
		progressbar.OptionShowIts(), progressbar.OptionSetItsString("img"),
		progressbar.OptionSetWidth(max(ios.TerminalWidth()-rest, 10)),
		progressbar.OptionClearOnFinish(), progressbar.OptionThrottle(0))
	return p
}

// clear erases the bar, if it is on screen.
func (p *Progress) clear() {
	if p.bar != nil && p.shown {
		_ = p.bar.Clear()
		p.shown = false
	}
}

// Add counts one image and redraws the bar.
func (p *Progress) Add() {
	if p.bar != nil {
		_ = p.bar.Add(1)
		p.shown = !p.bar.IsFinished()
	}
}

// Printf writes a line on stderr, on a line of its own.
func (p *Progress) Printf(format string, a ...any) {
	p.clear()
	fmt.Fprintf(p.errOut, format, a...)
}

// Done erases the bar for good.
func (p *Progress) Done() {
	if p.bar != nil {
		p.clear()
		_ = p.bar.Exit()
	}
}

// Guard returns w (stdout) wrapped so that writing to it first clears the
// bar, when stdout and the bar share the terminal.
func (p *Progress) Guard(ios *iostreams.IOStreams, w io.Writer) io.Writer {
	if p.bar == nil || !ios.SharesTerminal() {
		return w
	}
	return guardedWriter{p, w}
}

type guardedWriter struct {
	p *Progress
	w io.Writer
}

func (g guardedWriter) Write(b []byte) (int, error) {
	g.p.clear()
	return g.w.Write(b)
}
