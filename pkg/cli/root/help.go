package root

import (
	"fmt"
	"strings"

	"github.com/spf13/cobra"

	"github.com/clip-go/clip/pkg/cli/cmdutil"
)

// helpTopics lists, per command path below "clip", the exit codes the
// command returns and the environment it reads; TestEveryCommandHasHelpTopics
// keeps it complete.
var helpTopics = map[string]struct {
	codes []int
	env   []string
}{
	"":                      {[]int{0, 1, 2, 3, 4, 130}, withEnv(cmdutil.ModelEnv, "CLIP_SERVE_TOKEN")},
	"classify":              {[]int{0, 1, 2, 3, 4, 130}, withEnv(cmdutil.ModelEnv, "GITHUB_ACTIONS", "GITHUB_STEP_SUMMARY")},
	"diff":                  {[]int{0, 1, 2}, nil},
	"embed":                 {[]int{0, 2, 3, 4, 130}, cmdutil.ModelEnv},
	"index":                 {[]int{0, 2, 3, 4, 130}, cmdutil.ModelEnv},
	"index export":          {[]int{0, 2, 4, 130}, nil},
	"search":                {[]int{0, 2, 4}, cmdutil.ModelEnv},
	"dupes":                 {[]int{0, 2, 4, 130}, nil},
	"tokenize":              {[]int{0, 2, 3, 4}, cmdutil.ModelEnv},
	"preprocess":            {[]int{0, 2, 3, 4}, cmdutil.ModelEnv},
	"serve":                 {[]int{0, 2, 4}, withEnv(cmdutil.ModelEnv, "CLIP_SERVE_TOKEN")},
	"models":                {[]int{0, 2, 4}, cmdutil.ModelEnv},
	"models list":           {[]int{0, 2, 4}, cmdutil.ModelEnv},
	"models pull":           {[]int{0, 2, 4}, cmdutil.ModelEnv},
	"models info":           {[]int{0, 2, 4}, cmdutil.ModelEnv},
	"models verify":         {[]int{0, 2, 4}, cmdutil.ModelEnv},
	"models rm":             {[]int{0, 2, 4}, cmdutil.ModelEnv},
	"models path":           {[]int{0, 2, 4}, cmdutil.ModelEnv},
	"cache":                 {[]int{0, 2, 4}, cacheEnv},
	"cache list":            {[]int{0, 2, 4}, cacheEnv},
	"cache clear":           {[]int{0, 2, 4}, cacheEnv},
	"cache path":            {[]int{0, 2}, cacheEnv},
	"onnx":                  {[]int{0, 2, 3, 4}, nil},
	"onnx info":             {[]int{0, 2, 3, 4}, nil},
	"onnx run":              {[]int{0, 2, 3, 4}, nil},
	"onnx bench":            {[]int{0, 2, 4}, nil},
	"version":               {[]int{0, 2}, nil},
	"help":                  {[]int{0, 2}, nil},
	"completion":            {[]int{0, 2}, nil},
	"completion bash":       {[]int{0, 2}, nil},
	"completion zsh":        {[]int{0, 2}, nil},
	"completion fish":       {[]int{0, 2}, nil},
	"completion powershell": {[]int{0, 2}, nil},
}

// cacheEnv is what locates the caches (HOME too, as ~/.cache).
var cacheEnv = []string{"CLIP_HOME", "XDG_CACHE_HOME"}

func withEnv(base []string, more ...string) []string {
	return append(append([]string(nil), base...), more...)
}

// finishTree gives every command of the tree its help topics, and every
// command group (a command with verbs and nothing to run itself) an
// unknown-verb error: cobra would print the group's help and exit 0.
func finishTree(root *cobra.Command) {
	defaultHelp := root.HelpFunc()
	root.SetHelpFunc(func(c *cobra.Command, args []string) {
		defaultHelp(c, args)
		fmt.Fprint(c.OutOrStdout(), cmdutil.HelpFooter(c))
	})
	if help, _, err := root.Find([]string{"help"}); err == nil && help != root {
		help.RunE = func(c *cobra.Command, args []string) error {
			target, rest, err := root.Find(args)
			if err != nil || len(rest) > 0 {
				return cmdutil.UsageErrorf("unknown help topic %q (see 'clip --help')", strings.Join(args, " "))
			}
			target.InitDefaultHelpFlag()
			return target.Help()
		}
	}
	var walk func(c *cobra.Command)
	walk = func(c *cobra.Command) {
		path := strings.TrimPrefix(strings.TrimPrefix(c.CommandPath(), root.Name()), " ")
		if t, ok := helpTopics[path]; ok {
			cmdutil.SetHelpTopics(c, t.codes, t.env)
		}
		if c != root && c.HasSubCommands() && !c.Runnable() {
			c.Args = cobra.ArbitraryArgs
			c.RunE = unknownVerb
		}
		for _, sub := range c.Commands() {
			walk(sub)
		}
	}
	walk(root)
}

// unknownVerb runs for a command group: alone it shows the group's help;
// with an argument that names no verb it is a usage error.
func unknownVerb(c *cobra.Command, args []string) error {
	if len(args) == 0 {
		return c.Help()
	}
	msg := fmt.Sprintf("unknown command %q for %q", args[0], c.CommandPath())
	if c.SuggestionsMinimumDistance <= 0 {
		c.SuggestionsMinimumDistance = 2 // cobra's own default for the root
	}
	if s := c.SuggestionsFor(args[0]); len(s) > 0 {
		msg += fmt.Sprintf(" (did you mean %s?)", strings.Join(s, " or "))
	} else {
		var verbs []string
		for _, sub := range c.Commands() {
			if sub.IsAvailableCommand() {
				verbs = append(verbs, sub.Name())
			}
		}
		msg += fmt.Sprintf(" (want one of: %s)", strings.Join(verbs, ", "))
	}
	return cmdutil.UsageErrorf("%s", msg)
}
