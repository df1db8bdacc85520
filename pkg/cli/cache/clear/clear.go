// Package clear implements `clip cache clear`: delete the text-embedding
// cache's files.
package clear

import (
	"fmt"
	"os"

	"github.com/spf13/cobra"

	"github.com/clip-go/clip/pkg/cli/cache/shared"
	"github.com/clip-go/clip/pkg/cli/cmdutil"
	"github.com/clip-go/clip/pkg/cli/iostreams"
)

// ClearOptions are the arguments of one `clip cache clear`.
type ClearOptions struct {
	IO      *iostreams.IOStreams
	Factory *cmdutil.Factory
}

// NewCmdClear returns `clip cache clear`. runF replaces clearRun in tests.
func NewCmdClear(f *cmdutil.Factory, runF func(*ClearOptions) error) *cobra.Command {
	opts := &ClearOptions{IO: f.IOStreams, Factory: f}
	return &cobra.Command{
		Use:   "clear",
		Short: "Delete every cached prompt embedding",
		Long: `Delete the text-embedding cache's files (every model's). The next run
encodes its prompts again and caches them anew. Models are not touched
(see clip models rm).`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if runF != nil {
				return runF(opts)
			}
			return clearRun(opts)
		},
	}
}

func clearRun(opts *ClearOptions) error {
	dir, files, err := shared.List(opts.Factory)
	if err != nil {
		return err
	}
	var freed int64
	for _, fi := range files {
		if err := os.Remove(fi.Path); err != nil && !os.IsNotExist(err) {
			return cmdutil.NewExitError(cmdutil.ExitRuntime, fmt.Errorf("text cache: %w", err))
		}
		freed += fi.Size
	}
	if !opts.Factory.Globals.Quiet {
		fmt.Fprintf(opts.IO.ErrOut, "removed %d text cache file(s), %d bytes, from %s\n", len(files), freed, dir)
	}
	return nil
}
