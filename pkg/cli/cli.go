// Package cli runs the clip command line: it builds the cobra command tree
// from pkg/cli/root, executes it, prints the error once and maps it to the
// documented exit code.
package cli

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/signal"
	"runtime/debug"
	"syscall"

	"github.com/clip-go/clip/pkg/cli/cmdutil"
	"github.com/clip-go/clip/pkg/cli/root"
)

// Main runs clip with args and returns the process exit code.
func Main(version, commit, date string, args []string) int {
	version, commit, date = buildInfo(version, commit, date)
	f := cmdutil.New(version, commit)
	f.Date = date
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	return Run(ctx, f, args)
}

// Run executes the command tree on f's streams; tests call it in-process.
func Run(ctx context.Context, f *cmdutil.Factory, args []string) int {
	cmd, state := root.NewCmdRoot(f)
	cmd.SetArgs(args)
	err := cmd.ExecuteContext(ctx)
	if err == nil {
		return cmdutil.ExitOK
	}
	var silent *cmdutil.SilentError
	if !errors.As(err, &silent) {
		fmt.Fprintf(f.IOStreams.ErrOut, "clip: %v\n", err)
	}
	code := cmdutil.ExitCode(err)
	var ee *cmdutil.ExitError
	if !state.Started() && !errors.As(err, &ee) {
		// cobra rejected the command line before any command ran:
		// unknown command, bad flag, wrong number of arguments.
		code = cmdutil.ExitUsage
	}
	return code
}

// buildInfo fills in what -ldflags did not set from the module build info
// (go install and go build record the VCS revision and commit time).
func buildInfo(version, commit, date string) (string, string, string) {
	bi, ok := debug.ReadBuildInfo()
	if version == "" {
		version = "dev"
		if ok && bi.Main.Version != "" && bi.Main.Version != "(devel)" {
			version = bi.Main.Version
		}
	}
	if commit == "" && ok {
		for _, s := range bi.Settings {
			if s.Key == "vcs.revision" && len(s.Value) >= 12 {
				commit = s.Value[:12]
			}
		}
	}
	if date == "" && ok {
		for _, s := range bi.Settings {
			if s.Key == "vcs.time" {
				date = s.Value
			}
		}
	}
	if commit == "" {
		commit = "unknown"
	}
	return version, commit, date
}
