// Package models groups the `clip models` verbs: list, pull, info,
// verify, rm and path.
package models

import (
	"github.com/spf13/cobra"

	"github.com/clip-go/clip/pkg/cli/cmdutil"
	infocmd "github.com/clip-go/clip/pkg/cli/models/info"
	listcmd "github.com/clip-go/clip/pkg/cli/models/list"
	pathcmd "github.com/clip-go/clip/pkg/cli/models/path"
	pullcmd "github.com/clip-go/clip/pkg/cli/models/pull"
	rmcmd "github.com/clip-go/clip/pkg/cli/models/rm"
	verifycmd "github.com/clip-go/clip/pkg/cli/models/verify"
)

// NewCmdModels returns `clip models` with its verbs.
func NewCmdModels(f *cmdutil.Factory) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "models <command>",
		Short: "List, download, verify and remove models",
		Long: `Manage the local model cache ($CLIP_HOME, else $XDG_CACHE_HOME/clip, else
~/.cache/clip). Models come from the Hugging Face hub (HF_ENDPOINT selects a
mirror, HF_TOKEN is sent for gated or private repositories); with --offline
or HF_HUB_OFFLINE=1 nothing touches the network.`,
	}
	cmd.AddCommand(
		listcmd.NewCmdList(f, nil),
		pullcmd.NewCmdPull(f, nil),
		infocmd.NewCmdInfo(f, nil),
		verifycmd.NewCmdVerify(f, nil),
		rmcmd.NewCmdRm(f, nil),
		pathcmd.NewCmdPath(f, nil),
	)
	return cmd
}
