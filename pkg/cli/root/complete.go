package root

import (
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/spf13/cobra"

	"github.com/clip-go/clip/pkg/cli/cmdutil"
	"github.com/clip-go/clip/pkg/clip"
	"github.com/clip-go/clip/pkg/hub"
)

// addCompletions makes shell completion offer values, not file names, for
// the flags and operands that take a name from a fixed or known set.
func addCompletions(root *cobra.Command, f *cmdutil.Factory) {
	fixed := func(values ...string) cobra.CompletionFunc {
		return func(*cobra.Command, []string, string) ([]cobra.Completion, cobra.ShellCompDirective) {
			return values, cobra.ShellCompDirectiveNoFileComp
		}
	}
	variants := make([]string, len(hub.AllVariants))
	for i, v := range hub.AllVariants {
		variants[i] = string(v)
	}
	_ = root.RegisterFlagCompletionFunc("format", fixed(cmdutil.FormatTable, cmdutil.FormatJSON, cmdutil.FormatJSONL, cmdutil.FormatCSV))
	_ = root.RegisterFlagCompletionFunc("model", func(_ *cobra.Command, _ []string, toComplete string) ([]cobra.Completion, cobra.ShellCompDirective) {
		// A local directory is a model too: once the word looks like a
		// path, the shell completes directories.
		if strings.HasPrefix(toComplete, ".") || strings.HasPrefix(toComplete, "/") || strings.HasPrefix(toComplete, "~") {
			return nil, cobra.ShellCompDirectiveFilterDirs
		}
		return modelNames(f, true), cobra.ShellCompDirectiveNoFileComp
	})
	var walk func(c *cobra.Command)
	walk = func(c *cobra.Command) {
		if c.LocalNonPersistentFlags().Lookup("variant") != nil {
			_ = c.RegisterFlagCompletionFunc("variant", fixed(variants...))
		}
		if c.LocalNonPersistentFlags().Lookup("templates") != nil {
			_ = c.RegisterFlagCompletionFunc("templates", fixed(clip.TemplateSetNames()...))
		}
		for _, sub := range c.Commands() {
			walk(sub)
		}
	}
	walk(root)
	operands := map[string]bool{"rm": false, "path": false, "verify": false, "info": true, "pull": true}
	if models, _, err := root.Find([]string{"models"}); err == nil {
		for _, c := range models.Commands() {
			withCatalogue, ok := operands[c.Name()]
			if !ok || c.ValidArgsFunction != nil {
				continue
			}
			c.ValidArgsFunction = func(_ *cobra.Command, args []string, _ string) ([]cobra.Completion, cobra.ShellCompDirective) {
				if len(args) > 0 {
					return nil, cobra.ShellCompDirectiveNoFileComp
				}
				return modelNames(f, withCatalogue), cobra.ShellCompDirectiveNoFileComp
			}
		}
	}
}

// modelNames are the installed models' names (catalogue name, else repo
// id), and with catalogue every catalogue name too.
func modelNames(f *cmdutil.Factory, catalogue bool) []string {
	seen := map[string]bool{}
	var out []string
	add := func(s string) {
		if s != "" && !seen[s] {
			seen[s] = true
			out = append(out, s)
		}
	}
	if catalogue {
		for _, e := range hub.Catalogue() {
			add(e.Name)
		}
	}
	getenv := f.Getenv
	if getenv == nil {
		getenv = os.Getenv
	}
	if store, err := hub.NewStore(hub.StoreOptions{Offline: true, Getenv: getenv}); err == nil {
		if installed, err := store.Installed(); err == nil {
			var names []string
			for _, in := range installed {
				if in.Manifest.Name != "" {
					names = append(names, in.Manifest.Name)
				} else {
					names = append(names, in.Manifest.Repo)
				}
			}
			sort.Strings(names)
			for _, n := range names {
				add(n)
			}
		}
	}
	return out
}

// checkModelFlag turns the two common --model mistakes into a usage error
// with a suggestion: a file (the .onnx) instead of the model directory, and
// a misspelt catalogue name.
func checkModelFlag(ref string) error {
	if ref == "" {
		return nil
	}
	if st, err := os.Stat(ref); err == nil {
		if st.IsDir() {
			return nil
		}
		dir := filepath.Dir(ref)
		if b := filepath.Base(dir); b == "onnx" || b == "visual" || b == "textual" {
			dir = filepath.Dir(dir)
		}
		return cmdutil.UsageErrorf("--model %s is a file: --model wants the directory holding the model (did you mean --model %s?)", ref, dir)
	}
	if strings.ContainsAny(ref, `/\`) {
		return nil // a repo id (or a missing directory: the store says which)
	}
	if _, ok := hub.LookupCatalogue(ref); ok {
		return nil
	}
	best := hub.NearestCatalogueName(ref)
	if best != "" {
		return cmdutil.UsageErrorf("--model %q is not a catalogue model, a repo id (owner/name) or a directory (did you mean %s? see `clip models list`)", ref, best)
	}
	return nil
}
