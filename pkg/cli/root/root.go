// Package root assembles the clip command tree: global flags, every verb,
// and how usage errors are reported.
package root

import (
	"github.com/spf13/cobra"

	cachecmd "github.com/clip-go/clip/pkg/cli/cache"
	classifycmd "github.com/clip-go/clip/pkg/cli/classify"
	"github.com/clip-go/clip/pkg/cli/cmdutil"
	diffcmd "github.com/clip-go/clip/pkg/cli/diff"
	dupescmd "github.com/clip-go/clip/pkg/cli/dupes"
	embedcmd "github.com/clip-go/clip/pkg/cli/embed"
	indexcmd "github.com/clip-go/clip/pkg/cli/index"
	modelscmd "github.com/clip-go/clip/pkg/cli/models"
	onnxbench "github.com/clip-go/clip/pkg/cli/onnx/bench"
	onnxinfo "github.com/clip-go/clip/pkg/cli/onnx/info"
	onnxrun "github.com/clip-go/clip/pkg/cli/onnx/run"
	preprocesscmd "github.com/clip-go/clip/pkg/cli/preprocess"
	searchcmd "github.com/clip-go/clip/pkg/cli/search"
	servecmd "github.com/clip-go/clip/pkg/cli/serve"
	tokenizecmd "github.com/clip-go/clip/pkg/cli/tokenize"
	versioncmd "github.com/clip-go/clip/pkg/cli/version"
)

// State records how far execution got, so the caller can tell a rejected
// command line (exit 2) from a command that ran and failed.
type State struct{ started bool }

// Started reports whether a command's Run began.
func (s *State) Started() bool { return s.started }

// NewCmdRoot returns the `clip` command with every verb registered.
func NewCmdRoot(f *cmdutil.Factory) (*cobra.Command, *State) {
	st := &State{}
	cmd := &cobra.Command{
		Use:   "clip <command>",
		Short: "Zero-shot image classification with OpenAI's CLIP, in pure Go",
		Long: `clip ranks labels for images with OpenAI's CLIP, run from a Hugging Face
ONNX export by a pure-Go engine: one static binary, no Python, no ONNX Runtime.`,
		Example: `  clip classify ./photos/*.jpg --labels cat,dog,zebra
  clip classify shots/ -r --labels-file labels.txt --format json | jq '.[] | select(.label=="dog")'
  clip classify assets/*.png --labels logo,photo --expect logo`,
		Version:       versioncmd.Line(f),
		SilenceErrors: true,
		SilenceUsage:  true,
		PersistentPreRunE: func(cmd *cobra.Command, args []string) error {
			st.started = true
			// A command may take one format of its own (classify: github).
			if _, err := f.OutputFormat(); err != nil {
				extra := cmd.Annotations[cmdutil.AnnotationExtraFormat]
				if extra == "" {
					return err
				}
				if f.Globals.Format != extra {
					return cmdutil.UsageErrorf("unknown --format %q (want table, json, jsonl, csv or %s)", f.Globals.Format, extra)
				}
			}
			if f.Globals.Threads < 0 {
				return cmdutil.UsageErrorf("--threads must be 0 (all cores) or more, not %d", f.Globals.Threads)
			}
			return checkModelFlag(f.Globals.Model)
		},
	}
	cmd.SetOut(f.IOStreams.Out)
	cmd.SetErr(f.IOStreams.ErrOut)
	cmd.SetIn(f.IOStreams.In)
	cmd.SetVersionTemplate("{{.Version}}\n")
	cmd.SetFlagErrorFunc(func(c *cobra.Command, err error) error {
		return cmdutil.UsageErrorf("%v (see '%s --help')", err, c.CommandPath())
	})

	pf := cmd.PersistentFlags()
	g := f.Globals
	pf.StringVarP(&g.Model, "model", "m", "", "model: catalogue name, Hugging Face repo id (owner/name[@revision]) or local directory (default clip-vit-base-patch32)")
	pf.StringVar(&g.Format, "format", "", "output format: table|json|jsonl|csv (default: table on a terminal, jsonl otherwise)")
	pf.BoolVarP(&g.Quiet, "quiet", "q", false, "no progress bars or summaries on stderr")
	pf.IntVar(&g.Threads, "threads", 0, "CPU threads for inference (0: all cores)")
	pf.BoolVar(&g.Offline, "offline", false, "never use the network (also HF_HUB_OFFLINE=1)")

	cmd.AddCommand(
		classifycmd.NewCmdClassify(f, nil),
		diffcmd.NewCmdDiff(f, nil),
		embedcmd.NewCmdEmbed(f, nil),
		indexcmd.NewCmdIndex(f, nil),
		searchcmd.NewCmdSearch(f, nil),
		dupescmd.NewCmdDupes(f, nil),
		tokenizecmd.NewCmdTokenize(f, nil),
		preprocesscmd.NewCmdPreprocess(f, nil),
		modelscmd.NewCmdModels(f),
		servecmd.NewCmdServe(f, nil),
		onnxGroup(f),
		versioncmd.NewCmdVersion(f),
		cachecmd.NewCmdCache(f),
	)
	cmd.InitDefaultCompletionCmd()
	cmd.InitDefaultHelpCmd()
	finishTree(cmd)
	addCompletions(cmd, f)
	return cmd, st
}

func onnxGroup(f *cmdutil.Factory) *cobra.Command {
	c := &cobra.Command{Use: "onnx <command>", Short: "Inspect, run and time ONNX files with clip's engine"}
	c.AddCommand(
		onnxinfo.NewCmdInfo(f, nil),
		onnxrun.NewCmdRun(f, nil),
		onnxbench.NewCmdBench(f, nil),
	)
	return c
}
