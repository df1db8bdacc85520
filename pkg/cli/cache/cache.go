// Package cache groups the `clip cache` verbs: list, clear and path of the
// text-embedding cache (prompt embeddings kept per model so that repeated
// runs with the same labels encode no text).
package cache

import (
	"github.com/spf13/cobra"

	clearcmd "github.com/clip-go/clip/pkg/cli/cache/clear"
	listcmd "github.com/clip-go/clip/pkg/cli/cache/list"
	pathcmd "github.com/clip-go/clip/pkg/cli/cache/path"
	"github.com/clip-go/clip/pkg/cli/cmdutil"
)

// NewCmdCache returns `clip cache` with its verbs.
func NewCmdCache(f *cmdutil.Factory) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "cache <command>",
		Short: "List, clear or locate the text-embedding cache",
		Long: `Prompt embeddings are cached on disk, one file per model (named by a hash
of the model's text files), under the model store's text-cache directory
($CLIP_HOME, else $XDG_CACHE_HOME/clip, else ~/.cache/clip). The cache is
only a speed-up: clearing it loses nothing but time.`,
	}
	cmd.AddCommand(
		listcmd.NewCmdList(f, nil),
		clearcmd.NewCmdClear(f, nil),
		pathcmd.NewCmdPath(f, nil),
	)
	return cmd
}
