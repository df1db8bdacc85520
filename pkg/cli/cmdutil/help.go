package cmdutil

import (
	"fmt"
	"sort"
	"strconv"
	"strings"

	"github.com/spf13/cobra"
)

// Annotation keys a command sets (through SetHelpTopics) so that its
// --help lists the exit codes it can return and the environment it reads.
const (
	annotationExitCodes = "clip/exit-codes"
	annotationEnv       = "clip/env"
)

// exitMeaning is the README's "Exit codes" table.
var exitMeaning = map[int]string{
	ExitOK:          "success",
	ExitCheckFailed: "a check asked for failed (--expect, --fail-if, --min-score; clip diff: a change)",
	ExitUsage:       "usage or configuration error (bad flag, unknown command, bad input file)",
	ExitInputErrors: "more inputs could not be read than --max-errors allows",
	ExitRuntime:     "model or runtime error",
	ExitInterrupted: "interrupted (Ctrl-C)",
}

// envMeaning says what each environment variable clip reads does.
var envMeaning = map[string]string{
	"CLIP_HOME":           "model store and caches (default $XDG_CACHE_HOME/clip, else ~/.cache/clip)",
	"XDG_CACHE_HOME":      "cache root when CLIP_HOME is unset",
	"HF_ENDPOINT":         "Hugging Face hub to download from (default https://huggingface.co)",
	"HF_TOKEN":            "token sent to the hub for gated or private repositories",
	"HF_HUB_OFFLINE":      "1: never use the network, as --offline",
	"CLIP_SERVE_TOKEN":    "bearer token required on /v1/* and /metrics, as --token",
	"GITHUB_ACTIONS":      "true: also append the Markdown summary to GITHUB_STEP_SUMMARY",
	"GITHUB_STEP_SUMMARY": "file the Markdown summary is appended to (with --format github or GITHUB_ACTIONS=true)",
}

// ModelEnv is the environment of every command that resolves --model
// through the model store.
var ModelEnv = []string{"CLIP_HOME", "XDG_CACHE_HOME", "HF_ENDPOINT", "HF_TOKEN", "HF_HUB_OFFLINE"}

// SetHelpTopics records the exit codes cmd can return and the environment
// variables it reads, for HelpFooter.
func SetHelpTopics(cmd *cobra.Command, codes []int, env []string) {
	if cmd.Annotations == nil {
		cmd.Annotations = map[string]string{}
	}
	s := make([]string, len(codes))
	for i, c := range codes {
		s[i] = strconv.Itoa(c)
	}
	cmd.Annotations[annotationExitCodes] = strings.Join(s, ",")
	cmd.Annotations[annotationEnv] = strings.Join(env, ",")
}

// HasHelpTopics reports whether SetHelpTopics was called for cmd.
func HasHelpTopics(cmd *cobra.Command) bool {
	_, ok := cmd.Annotations[annotationExitCodes]
	return ok
}

// HelpFooter is the "Exit codes" and "Environment" sections of cmd's help.
func HelpFooter(cmd *cobra.Command) string {
	var b strings.Builder
	if codes := cmd.Annotations[annotationExitCodes]; codes != "" {
		b.WriteString("\nExit codes:\n")
		list := strings.Split(codes, ",")
		sort.Slice(list, func(i, j int) bool { a, _ := strconv.Atoi(list[i]); c, _ := strconv.Atoi(list[j]); return a < c })
		for _, c := range list {
			n, _ := strconv.Atoi(c)
			fmt.Fprintf(&b, "  %-4d %s\n", n, exitMeaning[n])
		}
	}
	if env := cmd.Annotations[annotationEnv]; env != "" {
		b.WriteString("\nEnvironment:\n")
		for _, e := range strings.Split(env, ",") {
			fmt.Fprintf(&b, "  %-17s %s\n", e, envMeaning[e])
		}
	}
	return b.String()
}
