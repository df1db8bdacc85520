// Package pull implements `clip models pull`: download a model's files
// for one variant into the cache, verified against the hub's digests.
package pull

import (
	"context"
	"fmt"

	"github.com/spf13/cobra"

	"github.com/clip-go/clip/pkg/cli/cmdutil"
	"github.com/clip-go/clip/pkg/cli/iostreams"
	"github.com/clip-go/clip/pkg/cli/models/shared"
	"github.com/clip-go/clip/pkg/hub"
)

// PullOptions are the arguments of one `clip models pull`.
type PullOptions struct {
	IO      *iostreams.IOStreams
	Factory *cmdutil.Factory
	Context context.Context

	Ref      string
	Variant  string
	Revision string
}

// NewCmdPull returns `clip models pull`. runF replaces pullRun in tests.
func NewCmdPull(f *cmdutil.Factory, runF func(*PullOptions) error) *cobra.Command {
	opts := &PullOptions{IO: f.IOStreams, Factory: f}
	cmd := &cobra.Command{
		Use:   "pull NAME",
		Short: "Download a model into the cache",
		Long: `Download a model's ONNX graphs (one variant) and its tokenizer and
configuration files into the cache, each checked against the digest the hub
publishes before it is put in place. NAME is a catalogue name (see
'clip models list') or any Hugging Face repository id owner/name[@revision]
in the transformers.js layout (onnx/vision_model.onnx, onnx/text_model.onnx)
or immich's (visual/model.onnx, textual/model.onnx).

An interrupted download resumes where it stopped. Files already in the
cache are not fetched again. HF_TOKEN is sent for gated or private
repositories; HF_ENDPOINT selects a mirror.`,
		Example: `  clip models pull clip-vit-base-patch32
  clip models pull clip-vit-large-patch14 --variant quantized
  clip models pull Xenova/clip-vit-base-patch16@main`,
		Args: cmdutil.ExactlyOne("NAME"),
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.Ref = args[0]
			opts.Context = cmd.Context()
			if runF != nil {
				return runF(opts)
			}
			return pullRun(opts)
		},
	}
	cmd.Flags().StringVar(&opts.Variant, "variant", "fp32", "precision: fp32, fp16, quantized (int8), uint8, q4, q4f16 or bnb4")
	cmd.Flags().StringVar(&opts.Revision, "revision", "", "branch, tag or commit (default: the catalogue's, else main)")
	return cmd
}

// Result is the JSON form of a finished pull.
type Result struct {
	Name     string         `json:"name,omitempty"`
	Repo     string         `json:"repo"`
	Revision string         `json:"revision"`
	Commit   string         `json:"commit"`
	Variant  hub.Variant    `json:"variant"`
	Layout   hub.Layout     `json:"layout"`
	Path     string         `json:"path"`
	Files    []hub.FileInfo `json:"files"`
}

func pullRun(opts *PullOptions) error {
	ctx := opts.Context
	if ctx == nil {
		ctx = context.Background()
	}
	format, err := opts.Factory.OutputFormat()
	if err != nil {
		return err
	}
	variant, err := shared.ParseVariant(opts.Variant)
	if err != nil {
		return err
	}
	if err := shared.CheckRef(opts.Ref); err != nil {
		return err
	}
	if opts.Revision != "" {
		if _, err := hub.ParseRepoRef("x/y@" + opts.Revision); err != nil {
			return cmdutil.UsageErrorf("--revision: %v", err)
		}
	}
	store, err := shared.NewStore(opts.Factory, false)
	if err != nil {
		return err
	}
	lm, err := store.Pull(ctx, opts.Ref, opts.Revision, variant)
	if err != nil {
		return err
	}
	res := Result{Name: lm.Name, Repo: lm.ID, Revision: lm.Revision, Commit: lm.Commit, Variant: lm.Variant,
		Layout: lm.Layout, Path: lm.Dir, Files: lm.Files}
	switch format {
	case cmdutil.FormatJSON:
		return shared.WriteJSON(opts.IO.Out, res)
	case cmdutil.FormatJSONL:
		return shared.WriteJSONL(opts.IO.Out, []Result{res})
	case cmdutil.FormatCSV:
		var recs [][]string
		for _, f := range lm.Files {
			recs = append(recs, []string{f.Path, fmt.Sprint(f.Size), f.SHA256})
		}
		return shared.WriteCSV(opts.IO.Out, []string{"path", "size", "sha256"}, recs)
	}
	var total int64
	for _, f := range lm.Files {
		total += f.Size
	}
	commit := lm.Commit
	if len(commit) > 12 {
		commit = commit[:12]
	}
	fmt.Fprintf(opts.IO.Out, "%s (%s) at %s: %d files, %s, verified\n%s\n", lm.ID, lm.Variant, commit, len(lm.Files), shared.HumanBytes(total), lm.Dir)
	return nil
}
