// Package verify implements `clip models verify`: re-hash every cached file
// of a model and compare it with the sha256 recorded when it was pulled.
package verify

import (
	"context"
	"fmt"
	"strings"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"github.com/clip-go/clip/pkg/cli/cmdutil"
	"github.com/clip-go/clip/pkg/cli/iostreams"
	"github.com/clip-go/clip/pkg/cli/models/shared"
)

// VerifyOptions are the arguments of one `clip models verify`.
type VerifyOptions struct {
	IO      *iostreams.IOStreams
	Factory *cmdutil.Factory
	Context context.Context

	Ref      string
	Revision string
}

// NewCmdVerify returns `clip models verify`. runF replaces verifyRun in tests.
func NewCmdVerify(f *cmdutil.Factory, runF func(*VerifyOptions) error) *cobra.Command {
	opts := &VerifyOptions{IO: f.IOStreams, Factory: f}
	cmd := &cobra.Command{
		Use:   "verify NAME",
		Short: "Re-hash a cached model's files against the recorded sha256",
		Long: `Read every file of a cached model and compare its size and sha256 with
what was recorded when it was pulled (the digests the hub published).
Every cached revision of the repository is checked unless NAME carries
@revision or --revision is given, or NAME is one revision's cache
directory (as ` + "`clip models path`" + ` prints it). Exits with status 4 if any file is
missing or differs, naming it.`,
		Example: `  clip models verify clip-vit-base-patch32`,
		Args:    cmdutil.ExactlyOne("NAME"),
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.Ref = args[0]
			opts.Context = cmd.Context()
			if runF != nil {
				return runF(opts)
			}
			return verifyRun(opts)
		},
	}
	cmd.Flags().StringVar(&opts.Revision, "revision", "", "only this cached revision")
	return cmd
}

// Row is one checked file (the JSON form).
type Row struct {
	Dir     string `json:"dir"`
	Path    string `json:"path"`
	Size    int64  `json:"size"`
	SHA256  string `json:"sha256"`
	OK      bool   `json:"ok"`
	Problem string `json:"problem,omitempty"`
}

func verifyRun(opts *VerifyOptions) error {
	ctx := opts.Context
	if ctx == nil {
		ctx = context.Background()
	}
	format, err := opts.Factory.OutputFormat()
	if err != nil {
		return err
	}
	if err := shared.CheckRef(opts.Ref); err != nil {
		return err
	}
	store, err := shared.NewStore(opts.Factory, true)
	if err != nil {
		return err
	}
	results, err := store.Verify(ctx, opts.Ref, opts.Revision)
	if err != nil {
		return shared.FindError(err)
	}
	rows := make([]Row, len(results))
	var bad []string
	for i, r := range results {
		rows[i] = Row{Dir: r.Dir, Path: r.Path, Size: r.Size, SHA256: r.SHA256, OK: r.Problem == "", Problem: r.Problem}
		if r.Problem != "" {
			bad = append(bad, fmt.Sprintf("%s (%s)", r.Path, r.Problem))
		}
	}
	switch format {
	case cmdutil.FormatJSON:
		err = shared.WriteJSON(opts.IO.Out, rows)
	case cmdutil.FormatJSONL:
		err = shared.WriteJSONL(opts.IO.Out, rows)
	case cmdutil.FormatCSV:
		var recs [][]string
		for _, r := range rows {
			recs = append(recs, []string{r.Dir, r.Path, fmt.Sprint(r.Size), r.SHA256, fmt.Sprint(r.OK), r.Problem})
		}
		err = shared.WriteCSV(opts.IO.Out, []string{"dir", "path", "size", "sha256", "ok", "problem"}, recs)
	default:
		w := tabwriter.NewWriter(opts.IO.Out, 0, 4, 2, ' ', 0)
		for _, r := range rows {
			status := "ok"
			if !r.OK {
				status = "FAILED: " + r.Problem
			}
			fmt.Fprintf(w, "%s\t%s\t%s\n", r.Path, shared.HumanBytes(r.Size), status)
		}
		err = w.Flush()
	}
	if err != nil {
		return err
	}
	if len(bad) > 0 {
		return cmdutil.NewExitError(cmdutil.ExitRuntime, fmt.Errorf("%s: %d file(s) failed verification: %s; run `clip models rm %s` and pull it again",
			opts.Ref, len(bad), strings.Join(bad, "; "), opts.Ref))
	}
	return nil
}
