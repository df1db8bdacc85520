// Package list implements `clip models list`: the built-in catalogue and
// every model in the local cache, with variants and sizes.
package list

import (
	"fmt"
	"strconv"
	"strings"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"github.com/clip-go/clip/pkg/cli/cmdutil"
	"github.com/clip-go/clip/pkg/cli/iostreams"
	"github.com/clip-go/clip/pkg/cli/models/shared"
	"github.com/clip-go/clip/pkg/hub"
)

// ListOptions are the arguments of one `clip models list`.
type ListOptions struct {
	IO      *iostreams.IOStreams
	Factory *cmdutil.Factory

	InstalledOnly bool
}

// NewCmdList returns `clip models list`. runF replaces listRun in tests.
func NewCmdList(f *cmdutil.Factory, runF func(*ListOptions) error) *cobra.Command {
	opts := &ListOptions{IO: f.IOStreams, Factory: f}
	cmd := &cobra.Command{
		Use:   "list",
		Short: "List the model catalogue and the models in the cache",
		Long: `List the built-in catalogue (short names you can pass to --model) and
every model revision in the local cache ($CLIP_HOME, else
$XDG_CACHE_HOME/clip, else ~/.cache/clip), with the variants each offers,
which of them are downloaded, and sizes. Download sizes of models not yet
pulled are the rounded figures the hub's file listings show.`,
		Example: `  clip models list
  clip models list --installed --format json`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if runF != nil {
				return runF(opts)
			}
			return listRun(opts)
		},
	}
	cmd.Flags().BoolVar(&opts.InstalledOnly, "installed", false, "only models in the local cache")
	return cmd
}

// Row is one model in the listing (the JSON form).
type Row struct {
	Name              string           `json:"name,omitempty"`
	Repo              string           `json:"repo"`
	Revision          string           `json:"revision"`
	Commit            string           `json:"commit,omitempty"`
	Default           bool             `json:"default,omitempty"`
	Layout            hub.Layout       `json:"layout,omitempty"`
	Description       string           `json:"description,omitempty"`
	Family            string           `json:"family,omitempty"`
	Languages         string           `json:"languages,omitempty"`
	InputSize         int              `json:"input_size,omitempty"`
	Variants          []hub.Variant    `json:"variants"`
	DownloadBytes     map[string]int64 `json:"download_bytes_approx,omitempty"`
	InstalledVariants []hub.Variant    `json:"installed_variants"`
	InstalledBytes    int64            `json:"installed_bytes"`
	Path              string           `json:"path,omitempty"`
}

func listRun(opts *ListOptions) error {
	format, err := opts.Factory.OutputFormat()
	if err != nil {
		return err
	}
	store, err := shared.NewStore(opts.Factory, true)
	if err != nil {
		return err
	}
	installed, err := store.Installed()
	if err != nil {
		return err
	}
	rows := buildRows(installed, opts.InstalledOnly)

	out := opts.IO.Out
	switch format {
	case cmdutil.FormatJSON:
		if rows == nil {
			rows = []Row{}
		}
		return shared.WriteJSON(out, rows)
	case cmdutil.FormatJSONL:
		return shared.WriteJSONL(out, rows)
	case cmdutil.FormatCSV:
		var recs [][]string
		for _, r := range rows {
			input := ""
			if r.InputSize > 0 {
				input = strconv.Itoa(r.InputSize)
			}
			// New columns go last: scripts reading the earlier ones by position keep working.
			recs = append(recs, []string{r.Name, r.Repo, r.Revision, r.Commit, joinVariants(r.Variants),
				joinVariants(r.InstalledVariants), strconv.FormatInt(r.InstalledBytes, 10), r.Path,
				r.Family, r.Languages, input})
		}
		return shared.WriteCSV(out, []string{"name", "repo", "revision", "commit", "variants", "installed_variants", "installed_bytes", "path",
			"family", "languages", "input_size"}, recs)
	}
	tw := tabwriter.NewWriter(out, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "NAME\tFAMILY\tLANGUAGES\tINPUT\tREPO\tREVISION\tVARIANTS\tINSTALLED\tSIZE")
	for _, r := range rows {
		name := r.Name
		if name == "" {
			name = "-"
		}
		if r.Default {
			name += " (default)"
		}
		rev := r.Revision
		if len(rev) == 40 {
			rev = rev[:7]
		}
		installed, size := "-", "~"+shared.HumanBytes(r.DownloadBytes[string(hub.FP32)])
		if len(r.InstalledVariants) > 0 {
			installed = joinVariants(r.InstalledVariants)
			size = shared.HumanBytes(r.InstalledBytes)
		} else if n := r.DownloadBytes[string(hub.FP32)]; n <= 0 {
			size = "?" // not in the catalogue, or its listing shows no total
		}
		family, langs, input := orDash(r.Family), orDash(r.Languages), "-"
		if r.InputSize > 0 {
			input = strconv.Itoa(r.InputSize)
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n", name, family, langs, input, r.Repo, rev,
			joinVariants(r.Variants), installed, size)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	if len(rows) == 0 && opts.InstalledOnly {
		fmt.Fprintf(opts.IO.ErrOut, "no models in %s; fetch one with `clip models pull %s`\n", store.Root(), hub.DefaultModel)
	}
	return nil
}

// buildRows merges the catalogue with the cache: one row per catalogue
// entry (carrying its cached revision, if any) and one per other cached
// revision.
func buildRows(installed []hub.Installed, installedOnly bool) []Row {
	var rows []Row
	used := make([]bool, len(installed))
	for _, e := range hub.Catalogue() {
		r := Row{
			Name: e.Name, Repo: e.Repo, Revision: e.Revision, Default: e.Name == hub.DefaultModel,
			Layout: e.Layout, Description: e.Description, Variants: e.VariantList(),
			Family: e.Family, Languages: e.Languages, InputSize: e.InputSize,
			DownloadBytes: map[string]int64{}, InstalledVariants: []hub.Variant{},
		}
		for v, n := range e.Variants {
			if n > 0 { // 0: the listing shows no total
				r.DownloadBytes[string(v)] = n
			}
		}
		for i, in := range installed {
			if !used[i] && strings.EqualFold(in.Manifest.Repo, e.Repo) && in.Manifest.Revision == e.Revision {
				used[i] = true
				fillInstalled(&r, in)
			}
		}
		if !installedOnly || len(r.InstalledVariants) > 0 {
			rows = append(rows, r)
		}
	}
	for i, in := range installed {
		if used[i] {
			continue
		}
		r := Row{Name: in.Manifest.Name, Repo: in.Manifest.Repo, Revision: in.Manifest.Revision, Layout: in.Manifest.Layout}
		fillInstalled(&r, in)
		r.Variants = r.InstalledVariants
		rows = append(rows, r)
	}
	return rows
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

func fillInstalled(r *Row, in hub.Installed) {
	r.Commit = in.Manifest.Commit
	r.InstalledVariants = append([]hub.Variant{}, in.Variants...)
	r.InstalledBytes = in.Size
	r.Path = in.Dir
}

func joinVariants(vs []hub.Variant) string {
	if len(vs) == 0 {
		return "-"
	}
	s := make([]string, len(vs))
	for i, v := range vs {
		s[i] = string(v)
	}
	return strings.Join(s, ",")
}
