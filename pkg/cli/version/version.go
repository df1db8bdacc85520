// Package version implements `clip version`.
package version

import (
	"fmt"
	"runtime"

	"github.com/spf13/cobra"

	"github.com/clip-go/clip/pkg/cli/cmdutil"
)

// Line is the one-line version string shared by `clip version` and `clip --version`.
func Line(f *cmdutil.Factory) string {
	built := ""
	if f.Date != "" {
		built = ", " + f.Date
	}
	return fmt.Sprintf("clip %s (commit %s%s, %s, %s/%s)", f.Version, f.Commit, built, runtime.Version(), runtime.GOOS, runtime.GOARCH)
}

// NewCmdVersion returns `clip version`.
func NewCmdVersion(f *cmdutil.Factory) *cobra.Command {
	return &cobra.Command{
		Use:   "version",
		Short: "Print clip's version, commit and Go version",
		Long: `Print clip's version, commit, Go version and platform: one line, or with
--format json|jsonl|csv one record (version, commit, date, go, os, arch).`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			// One line unless a format is asked for: `clip version | cat`
			// stays readable.
			switch format := f.Globals.Format; format {
			case "", cmdutil.FormatTable:
				_, err := fmt.Fprintln(f.IOStreams.Out, Line(f))
				return err
			default:
				return cmdutil.WriteFields(f.IOStreams.Out, format, []cmdutil.Field{
					{Key: "version", Value: f.Version}, {Key: "commit", Value: f.Commit}, {Key: "date", Value: f.Date},
					{Key: "go", Value: runtime.Version()}, {Key: "os", Value: runtime.GOOS}, {Key: "arch", Value: runtime.GOARCH},
				})
			}
		},
	}
}
