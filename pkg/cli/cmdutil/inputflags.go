package cmdutil

import (
	"io"

	"github.com/spf13/pflag"

	"github.com/clip-go/clip/pkg/inputs"
)

// InputFlags are the command-line flags that choose inputs, shared by the
// commands that take images.
type InputFlags struct {
	Recursive bool
	Include   []string
	Exclude   []string
	NullSep   bool
}

// Register adds -r, --include, --exclude and -0 to fs.
func (f *InputFlags) Register(fs *pflag.FlagSet) {
	fs.BoolVarP(&f.Recursive, "recursive", "r", false, "descend into sub-directories")
	fs.StringSliceVar(&f.Include, "include", nil, "only files matching these globs (default: image extensions)")
	fs.StringSliceVar(&f.Exclude, "exclude", nil, "skip files matching these globs")
	fs.BoolVarP(&f.NullSep, "null", "0", false, `"-" reads NUL-separated paths (find -print0)`)
}

// Options are the expansion options these flags give, reading "-" from stdin.
func (f *InputFlags) Options(stdin io.Reader) inputs.Options {
	return inputs.Options{Recursive: f.Recursive, Include: f.Include, Exclude: f.Exclude, NulSep: f.NullSep, Stdin: stdin}
}
