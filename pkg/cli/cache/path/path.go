// Package path implements `clip cache path`: print the text-embedding
// cache's directory, for scripts.
package path

import (
	"fmt"

	"github.com/spf13/cobra"

	"github.com/clip-go/clip/pkg/cli/cache/shared"
	"github.com/clip-go/clip/pkg/cli/cmdutil"
	"github.com/clip-go/clip/pkg/cli/iostreams"
)

// PathOptions are the arguments of one `clip cache path`.
type PathOptions struct {
	IO      *iostreams.IOStreams
	Factory *cmdutil.Factory
}

// NewCmdPath returns `clip cache path`. runF replaces pathRun in tests.
func NewCmdPath(f *cmdutil.Factory, runF func(*PathOptions) error) *cobra.Command {
	opts := &PathOptions{IO: f.IOStreams, Factory: f}
	return &cobra.Command{
		Use:     "path",
		Short:   "Print the text-embedding cache's directory",
		Example: `  du -sh "$(clip cache path)"`,
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if runF != nil {
				return runF(opts)
			}
			return pathRun(opts)
		},
	}
}

func pathRun(opts *PathOptions) error {
	dir, err := shared.Dir(opts.Factory)
	if err != nil {
		return err
	}
	_, err = fmt.Fprintln(opts.IO.Out, dir)
	return err
}
