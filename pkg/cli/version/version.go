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
	return fmt.Sprintf("clip %s (commit %s, %s, %s/%s)", f.Version, f.Commit, runtime.Version(), runtime.GOOS, runtime.GOARCH)
}

// NewCmdVersion returns `clip version`.
func NewCmdVersion(f *cmdutil.Factory) *cobra.Command {
	return &cobra.Command{
		Use:   "version",
		Short: "Print clip's version, commit and Go version",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			_, err := fmt.Fprintln(f.IOStreams.Out, Line(f))
			return err
		},
	}
}
