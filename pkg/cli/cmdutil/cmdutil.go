// Package cmdutil holds what every clip command shares: the Factory handed
// to each NewCmd function, the global options, and exit-code errors.
package cmdutil

import (
	"errors"
	"fmt"
	"os"
	"runtime"

	"github.com/spf13/cobra"

	"github.com/clip-go/clip/pkg/cli/iostreams"
)

// Exit codes, part of the command contract (README "Exit codes").
const (
	ExitOK          = 0   // success
	ExitCheckFailed = 1   // a check asked for failed (--expect, --fail-if, --min-score)
	ExitUsage       = 2   // usage or configuration error
	ExitInputErrors = 3   // more inputs could not be read than --max-errors allows
	ExitRuntime     = 4   // model or runtime error
	ExitInterrupted = 130 // interrupted (Ctrl-C, SIGTERM; 128 + SIGINT, as shells do) before the work finished
)

// Output formats accepted by --format.
const (
	FormatTable = "table"
	FormatJSON  = "json"
	FormatJSONL = "jsonl"
	FormatCSV   = "csv"
)

// AnnotationExtraFormat is the cobra annotation naming one more --format a
// command takes besides the common ones (classify: github); the command
// resolves that format itself.
const AnnotationExtraFormat = "clip-extra-format"

// GlobalOptions are the persistent flags of the root command.
type GlobalOptions struct {
	Model   string // --model: catalogue name, Hugging Face repo id, or local directory
	Format  string // --format: table|json|jsonl|csv; "" means auto
	Quiet   bool   // --quiet: no progress, no summary on stderr
	Threads int    // --threads: 0 means all cores
	Offline bool   // --offline (or HF_HUB_OFFLINE=1): never touch the network
}

// Factory carries what commands need from their environment, so that
// tests can run any command in-process with captured streams.
type Factory struct {
	IOStreams *iostreams.IOStreams
	Version   string
	Commit    string
	Date      string // the commit's time, when the build recorded it
	Globals   *GlobalOptions
	// Getenv reads the environment; tests replace it.
	Getenv func(string) string
}

// New returns a Factory on the process's real streams and environment.
func New(version, commit string) *Factory {
	return &Factory{
		IOStreams: iostreams.System(),
		Version:   version,
		Commit:    commit,
		Globals:   &GlobalOptions{},
		Getenv:    os.Getenv,
	}
}

// OutputFormat resolves --format: an explicit value wins; otherwise a
// table on a terminal and jsonl when piped.
func (f *Factory) OutputFormat() (string, error) {
	switch f.Globals.Format {
	case "":
		if f.IOStreams.IsStdoutTTY() {
			return FormatTable, nil
		}
		return FormatJSONL, nil
	case FormatTable, FormatJSON, FormatJSONL, FormatCSV:
		return f.Globals.Format, nil
	}
	return "", UsageErrorf("unknown --format %q (want table, json, jsonl or csv)", f.Globals.Format)
}

// Offline reports whether the network must not be used.
func (f *Factory) Offline() bool {
	if f.Globals.Offline {
		return true
	}
	v := f.Getenv("HF_HUB_OFFLINE")
	return v == "1" || v == "true" || v == "TRUE" || v == "yes"
}

// Threads resolves --threads (0 or less: every core).
func (f *Factory) Threads() int {
	if f.Globals.Threads > 0 {
		return f.Globals.Threads
	}
	return runtime.NumCPU()
}

// ExitError is an error that carries the process exit code.
type ExitError struct {
	Code int
	Err  error
}

func (e *ExitError) Error() string {
	if e.Err == nil {
		return fmt.Sprintf("exit status %d", e.Code)
	}
	return e.Err.Error()
}

func (e *ExitError) Unwrap() error { return e.Err }

// NewExitError wraps err with an exit code.
func NewExitError(code int, err error) error { return &ExitError{Code: code, Err: err} }

// UsageErrorf is a usage or configuration error (exit code 2).
func UsageErrorf(format string, a ...any) error {
	return &ExitError{Code: ExitUsage, Err: fmt.Errorf(format, a...)}
}

// SilentError exits with Code without printing anything more: the command
// already reported what happened (for example a failed --expect check).
type SilentError struct{ Code int }

func (e *SilentError) Error() string { return fmt.Sprintf("exit status %d", e.Code) }

// ExitCode maps an error returned by a command to the process exit code.
// Errors that carry no code are runtime errors (4).
func ExitCode(err error) int {
	if err == nil {
		return ExitOK
	}
	var ee *ExitError
	if errors.As(err, &ee) {
		return ee.Code
	}
	var se *SilentError
	if errors.As(err, &se) {
		return se.Code
	}
	return ExitRuntime
}

// ExactlyOne is a cobra Args check for verbs taking one operand, named
// what ("NAME", "NAME or DIR"); anything else is a usage error.
func ExactlyOne(what string) func(cmd *cobra.Command, args []string) error {
	return func(cmd *cobra.Command, args []string) error {
		if len(args) != 1 {
			return UsageErrorf("%s takes exactly one %s, got %d", cmd.CommandPath(), what, len(args))
		}
		return nil
	}
}
