// Package iostreams is the terminal-aware standard I/O that every clip
// command writes through, so that commands can choose human or machine
// output and tests can capture both.
package iostreams

import (
	"bytes"
	"io"
	"os"

	"golang.org/x/term"
)

// IOStreams bundles stdin, stdout and stderr with what is known about them.
type IOStreams struct {
	In     io.Reader
	Out    io.Writer
	ErrOut io.Writer

	stdinTTY  bool
	stdoutTTY bool
	stderrTTY bool
	noColor   bool
	// sameTerminal: stdout and stderr are one terminal, so a line drawn
	// on stderr (a progress bar) shares the screen with stdout's rows.
	sameTerminal bool
	errFile      *os.File
}

// System returns the process's standard streams.
func System() *IOStreams { return FromFiles(os.Stdin, os.Stdout, os.Stderr) }

// FromFiles returns streams on open files, with terminal detection: the
// process's own (System), or a pseudo-terminal in tests.
func FromFiles(in, out, errOut *os.File) *IOStreams {
	_, noColor := os.LookupEnv("NO_COLOR")
	s := &IOStreams{
		In:        in,
		Out:       out,
		ErrOut:    errOut,
		stdinTTY:  isTerminal(in),
		stdoutTTY: isTerminal(out),
		stderrTTY: isTerminal(errOut),
		noColor:   noColor || os.Getenv("TERM") == "dumb",
		errFile:   errOut,
	}
	if s.stdoutTTY && s.stderrTTY {
		a, errA := out.Stat()
		b, errB := errOut.Stat()
		s.sameTerminal = errA == nil && errB == nil && os.SameFile(a, b)
	}
	return s
}

// Test returns streams backed by buffers, none of them a terminal.
func Test() (ios *IOStreams, in, out, errOut *bytes.Buffer) {
	in, out, errOut = &bytes.Buffer{}, &bytes.Buffer{}, &bytes.Buffer{}
	return &IOStreams{In: in, Out: out, ErrOut: errOut, noColor: true}, in, out, errOut
}

func isTerminal(f *os.File) bool { return term.IsTerminal(int(f.Fd())) }

// IsStdinTTY reports whether standard input is a terminal.
func (s *IOStreams) IsStdinTTY() bool { return s.stdinTTY }

// IsStdoutTTY reports whether standard output is a terminal.
func (s *IOStreams) IsStdoutTTY() bool { return s.stdoutTTY }

// IsStderrTTY reports whether standard error is a terminal.
func (s *IOStreams) IsStderrTTY() bool { return s.stderrTTY }

// SharesTerminal reports whether stdout and stderr are the same terminal.
func (s *IOStreams) SharesTerminal() bool { return s.sameTerminal }

// TerminalWidth is the width in columns of the terminal on stderr (80 when
// it is not a terminal or does not say).
func (s *IOStreams) TerminalWidth() int {
	if s.errFile != nil && s.stderrTTY {
		if w, _, err := term.GetSize(int(s.errFile.Fd())); err == nil && w > 0 {
			return w
		}
	}
	return 80
}

// SetStdinTTY overrides terminal detection (tests).
func (s *IOStreams) SetStdinTTY(v bool) { s.stdinTTY = v }

// SetStdoutTTY overrides terminal detection (tests).
func (s *IOStreams) SetStdoutTTY(v bool) { s.stdoutTTY = v }

// SetStderrTTY overrides terminal detection (tests).
func (s *IOStreams) SetStderrTTY(v bool) { s.stderrTTY = v }

// ColorEnabled reports whether colour escapes may be written to stdout:
// only on a terminal, and never when NO_COLOR is set.
func (s *IOStreams) ColorEnabled() bool { return s.stdoutTTY && !s.noColor }

// ProgressEnabled reports whether progress bars may be drawn on stderr.
func (s *IOStreams) ProgressEnabled() bool { return s.stderrTTY }
