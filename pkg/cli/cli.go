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
	"strings"
	"syscall"
	"time"

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

// buildInfo fills in what -ldflags did not set from the module build info.
func buildInfo(version, commit, date string) (string, string, string) {
	bi, ok := debug.ReadBuildInfo()
	if !ok {
		bi = nil
	}
	return stampFrom(bi, version, commit, date)
}

// stampFrom fills in version, commit and date from bi where empty. A
// `go build` in a clone records the VCS revision and commit time; `go
// install …@latest` through a module proxy records neither, only the
// module version, so for a pseudo-version (v0.0.0-20261205013337-26355e76f608)
// the commit and its time are read from the version itself.
func stampFrom(bi *debug.BuildInfo, version, commit, date string) (string, string, string) {
	if version == "" {
		version = "dev"
		if bi != nil && bi.Main.Version != "" && bi.Main.Version != "(devel)" {
			version = bi.Main.Version
		}
	}
	if bi != nil {
		for _, s := range bi.Settings {
			switch {
			case s.Key == "vcs.revision" && commit == "" && len(s.Value) >= 12:
				commit = s.Value[:12]
			case s.Key == "vcs.time" && date == "":
				date = s.Value
			}
		}
	}
	if rev, t, ok := pseudoVersionStamp(version); ok {
		if commit == "" {
			commit = rev
		}
		if date == "" {
			date = t
		}
	}
	if commit == "" {
		commit = "unknown"
	}
	return version, commit, date
}

// pseudoVersionStamp returns the commit prefix and the UTC commit time (RFC
// 3339) a Go pseudo-version carries in its last two dash/dot-separated
// fields: vX.Y.Z-yyyymmddhhmmss-abcdefabcdef, vX.Y.Z-pre.0.yyyymmddhhmmss-…
// or vX.Y.(Z+1)-0.yyyymmddhhmmss-…, optionally +incompatible.
func pseudoVersionStamp(v string) (rev, date string, ok bool) {
	v = strings.TrimSuffix(v, "+incompatible")
	i := strings.LastIndexByte(v, '-')
	if i < 15 || len(v)-i-1 != 12 {
		return "", "", false
	}
	rev, ts := v[i+1:], v[i-14:i]
	if sep := v[i-15]; sep != '-' && sep != '.' {
		return "", "", false
	}
	for _, c := range rev {
		if !('0' <= c && c <= '9' || 'a' <= c && c <= 'f') {
			return "", "", false
		}
	}
	t, err := time.Parse("20060102150405", ts)
	if err != nil {
		return "", "", false
	}
	return rev, t.UTC().Format(time.RFC3339), true
}
