// Package path implements `clip models path`: print where a cached model's
// files are, for scripts.
package path

import (
	"fmt"
	"os"
	"path/filepath"

	"github.com/spf13/cobra"

	"github.com/clip-go/clip/pkg/cli/cmdutil"
	"github.com/clip-go/clip/pkg/cli/iostreams"
	"github.com/clip-go/clip/pkg/cli/models/shared"
)

// PathOptions are the arguments of one `clip models path`.
type PathOptions struct {
	IO      *iostreams.IOStreams
	Factory *cmdutil.Factory

	Ref      string
	Revision string
}

// NewCmdPath returns `clip models path`. runF replaces pathRun in tests.
func NewCmdPath(f *cmdutil.Factory, runF func(*PathOptions) error) *cobra.Command {
	opts := &PathOptions{IO: f.IOStreams, Factory: f}
	cmd := &cobra.Command{
		Use:   "path [NAME]",
		Short: "Print the directory of a cached model (or of the cache)",
		Long: `Print the directory holding a cached model's files; with no NAME, the
cache's root. Nothing is downloaded: a model that is not cached is an
error naming the command that fetches it.`,
		Example: `  ls "$(clip models path clip-vit-base-patch32)/onnx"`,
		Args: func(cmd *cobra.Command, args []string) error {
			if len(args) > 1 {
				return cmdutil.UsageErrorf("clip models path takes at most one NAME, got %d", len(args))
			}
			return nil
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			if len(args) == 1 {
				opts.Ref = args[0]
			}
			if runF != nil {
				return runF(opts)
			}
			return pathRun(opts)
		},
	}
	cmd.Flags().StringVar(&opts.Revision, "revision", "", "a specific cached revision")
	return cmd
}

func pathRun(opts *PathOptions) error {
	store, err := shared.NewStore(opts.Factory, true)
	if err != nil {
		return err
	}
	if opts.Ref == "" {
		fmt.Fprintln(opts.IO.Out, filepath.Join(store.Root(), "models"))
		return nil
	}
	if err := shared.CheckRef(opts.Ref); err != nil {
		return err
	}
	if st, err := os.Stat(opts.Ref); err == nil && st.IsDir() {
		abs, err := filepath.Abs(opts.Ref)
		if err != nil {
			return err
		}
		fmt.Fprintln(opts.IO.Out, abs)
		return nil
	}
	found, err := store.Find(opts.Ref, opts.Revision)
	if err != nil {
		return err
	}
	fmt.Fprintln(opts.IO.Out, found[0].Dir)
	return nil
}
