// Package rm implements `clip models rm`: delete a model's cached files.
package rm

import (
	"context"
	"fmt"

	"github.com/spf13/cobra"

	"github.com/clip-go/clip/pkg/cli/cmdutil"
	"github.com/clip-go/clip/pkg/cli/iostreams"
	"github.com/clip-go/clip/pkg/cli/models/shared"
)

// RmOptions are the arguments of one `clip models rm`.
type RmOptions struct {
	IO      *iostreams.IOStreams
	Factory *cmdutil.Factory
	Context context.Context

	Ref      string
	Revision string
}

// NewCmdRm returns `clip models rm`. runF replaces rmRun in tests.
func NewCmdRm(f *cmdutil.Factory, runF func(*RmOptions) error) *cobra.Command {
	opts := &RmOptions{IO: f.IOStreams, Factory: f}
	cmd := &cobra.Command{
		Use:   "rm NAME",
		Short: "Remove a model from the cache",
		Long: `Delete a model's cached files: every cached revision of the repository,
or only one when NAME carries @revision or --revision is given, or the
cache directory NAME is (as ` + "`clip models path`" + ` prints it). A
download of the same model running in another clip is waited for.`,
		Example: `  clip models rm clip-vit-large-patch14`,
		Args:    cmdutil.ExactlyOne("NAME"),
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.Ref = args[0]
			opts.Context = cmd.Context()
			if runF != nil {
				return runF(opts)
			}
			return rmRun(opts)
		},
	}
	cmd.Flags().StringVar(&opts.Revision, "revision", "", "only this cached revision")
	return cmd
}

func rmRun(opts *RmOptions) error {
	ctx := opts.Context
	if ctx == nil {
		ctx = context.Background()
	}
	if err := shared.CheckRef(opts.Ref); err != nil {
		return err
	}
	store, err := shared.NewStore(opts.Factory, true)
	if err != nil {
		return err
	}
	removed, err := store.Remove(ctx, opts.Ref, opts.Revision)
	for _, d := range removed {
		fmt.Fprintf(opts.IO.Out, "removed %s\n", d)
	}
	return shared.FindError(err)
}
