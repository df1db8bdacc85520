// Package search implements `clip search`: rank the images of a `clip
// index` file by a text query, an example image, or both.
package search

import (
	"context"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"

	"github.com/spf13/cobra"

	"github.com/clip-go/clip/pkg/cli/cmdutil"
	"github.com/clip-go/clip/pkg/cli/iostreams"
	"github.com/clip-go/clip/pkg/cli/modelload"
	"github.com/clip-go/clip/pkg/imageproc"
	"github.com/clip-go/clip/pkg/index"
	"github.com/clip-go/clip/pkg/inputs"
)

// defaultIndex matches `clip index`'s default (verbs do not import each
// other; the README documents both).
const defaultIndex = "clip-index.sqlite"

// SearchOptions are the flags of one `clip search`.
type SearchOptions struct {
	IO      *iostreams.IOStreams
	Factory *cmdutil.Factory

	Args        []string
	Index       string
	Image       string
	Templates   []string
	TopK        int
	Threshold   float64
	HasMin      bool // --threshold was given (cosine similarity can be negative)
	Under       string
	Variant     string
	ExactDecode bool
	Report      string
	Language    string // --language, for NLLB text towers
}

// NewCmdSearch returns `clip search`; runF replaces searchRun in flag tests.
func NewCmdSearch(f *cmdutil.Factory, runF func(*SearchOptions) error) *cobra.Command {
	opts := &SearchOptions{IO: f.IOStreams, Factory: f}
	cmd := &cobra.Command{
		Use:   "search [QUERY...] [--image FILE]",
		Short: "Find indexed images by text or by example",
		Long: `Rank the images of a 'clip index' file by cosine similarity with a text
query (the operands, joined by spaces, through the model's text tower), an
example image (--image), or both (the two embeddings are averaged). Every
indexed vector is scored (exact search). Records are best first:
{"schema":1,"file":…,"score":…}; the table shows rank, score and file.

With --template (repeatable; {} stands for the query) the query is put into
each template and the embeddings averaged, as classify does with labels.
The model must be the one that built the index (exit 2 otherwise).
--report FILE.html also writes a self-contained page of the query and the
hits with thumbnails, to look at in a browser.`,
		Example: `  clip search a dog on a beach
  clip search --image holiday/IMG_0042.jpg -k 20 --report hits.html
  clip search red car --under ~/Pictures/2024 --format json`,
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.Args = args
			opts.HasMin = cmd.Flags().Changed("threshold")
			if runF != nil {
				return runF(opts)
			}
			return searchRun(cmd.Context(), opts)
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&opts.Index, "index", defaultIndex, "index file made by 'clip index'")
	fl.StringVar(&opts.Image, "image", "", "query by this example image")
	fl.StringArrayVar(&opts.Templates, "template", nil, `put the text query into this prompt template ({} is the query; repeatable)`)
	fl.IntVarP(&opts.TopK, "top-k", "k", 10, "show this many best images (0: all)")
	fl.Float64Var(&opts.Threshold, "threshold", 0, "drop images scoring below this cosine similarity (default: keep all)")
	fl.StringVar(&opts.Under, "under", "", "only images under this directory (or path prefix)")
	fl.StringVar(&opts.Variant, "variant", "fp32", "model variant: fp32|fp16|quantized|uint8|q4|q4f16|bnb4")
	fl.BoolVar(&opts.ExactDecode, "exact-decode", false, modelload.ExactDecodeUsage+"; implied when the index was made with it")
	fl.StringVar(&opts.Language, "language", "auto", modelload.LanguageUsage)
	fl.StringVar(&opts.Report, "report", "", "write a self-contained HTML page of the query and the hits (thumbnails, scores) to this file")
	return cmd
}

func searchRun(ctx context.Context, opts *SearchOptions) error {
	format, err := opts.Factory.OutputFormat()
	if err != nil {
		return err
	}
	if err := modelload.CheckLanguage(opts.Language); err != nil {
		return err
	}
	q := index.Query{Text: strings.Join(opts.Args, " "), Templates: opts.Templates}
	if opts.Image != "" {
		q.Image = []float32{} // the example's embedding, once the model has loaded
	}
	switch err := q.Check(); {
	case errors.Is(err, index.ErrEmptyQuery):
		return cmdutil.UsageErrorf("nothing to search for: give a text query, --image FILE, or both")
	case err != nil:
		return cmdutil.UsageErrorf("--%v", err) // --template "…" has no {}
	}
	if opts.TopK < 0 {
		return cmdutil.UsageErrorf("--top-k must be 0 (all) or more")
	}
	if err := checkReport(opts); err != nil {
		return err
	}
	if err := cmdutil.CheckIndexFile(opts.Index); err != nil {
		return err
	}
	ix, err := index.Open(ctx, opts.Index, index.Options{ReadOnly: true})
	if err != nil {
		return cmdutil.NewExitError(cmdutil.ExitRuntime, err)
	}
	defer ix.Close()
	var queryImage []byte
	if opts.Image != "" {
		// Read before the model loads: a wrong path is a quick usage error.
		if queryImage, err = inputs.ReadFile(ctx, opts.Image, 1<<30, nil); err != nil {
			return cmdutil.UsageErrorf("--image: %v", err)
		}
	}

	// The index says how its images were decoded; an --image query is
	// decoded the same way (and the model check below compares it).
	if have, ok, err := ix.Meta(ctx); err == nil && ok {
		var pre struct{ Decode string }
		if json.Unmarshal([]byte(have.Preprocess), &pre) == nil && pre.Decode == "exact" {
			opts.ExactDecode = true
		}
	}
	model, err := modelload.Open(ctx, opts.Factory, modelload.Options{Variant: opts.Variant, Decode: imageproc.DecodeOptions{}, ExactDecode: opts.ExactDecode, Language: opts.Language})
	if err != nil {
		return cmdutil.NewExitError(cmdutil.ExitRuntime, err)
	}
	defer model.Close()
	meta, err := model.IndexMeta(ctx)
	if err != nil {
		return cmdutil.NewExitError(cmdutil.ExitRuntime, err)
	}
	if err := ix.Check(ctx, meta); err != nil {
		if mm := (*index.MismatchError)(nil); errors.As(err, &mm) {
			return cmdutil.UsageErrorf("%v; search with --model %s, or rebuild the index with this model", err, mm.Index.ModelID)
		}
		return cmdutil.NewExitError(cmdutil.ExitRuntime, err)
	}

	if queryImage != nil {
		h, w := model.InputSize()
		pixels := make([]float32, 3*h*w)
		if err := model.PrepareImage(queryImage, opts.Image, pixels); err != nil {
			return cmdutil.UsageErrorf("--image %s: %v", opts.Image, err)
		}
		embs, err := model.EncodeImages(ctx, pixels, 1)
		if err != nil {
			return cmdutil.NewExitError(cmdutil.ExitRuntime, err)
		}
		q.Image = embs[0]
	}
	vec, err := q.Vector(ctx, model)
	if err != nil {
		return cmdutil.NewExitError(cmdutil.ExitRuntime, err)
	}

	keep, err := cmdutil.UnderFilter(opts.Under)
	if err != nil {
		return cmdutil.UsageErrorf("--under: %v", err)
	}
	vecs, err := ix.Load(ctx, keep)
	if err != nil {
		return cmdutil.NewExitError(cmdutil.ExitRuntime, err)
	}
	defer vecs.Close()
	sopt := index.SearchOptions{K: opts.TopK, Workers: opts.Factory.Threads()}
	if opts.HasMin {
		sopt.Threshold, sopt.HasMin = float32(opts.Threshold), true
	}
	hits := vecs.Search(vec, sopt)
	if err := write(opts.IO.Out, format, hits); err != nil {
		return cmdutil.NewExitError(cmdutil.ExitRuntime, err)
	}
	return writeReport(ctx, opts, strings.TrimSpace(q.Text), queryImage, model.Describe(), vecs.Len(), hits)
}

func write(w io.Writer, format string, hits []index.Hit) error {
	recs := index.Records(hits)
	switch format {
	case cmdutil.FormatCSV:
		c := csv.NewWriter(w)
		_ = c.Write([]string{"file", "score"})
		for _, r := range recs {
			_ = c.Write([]string{r.File, strconv.FormatFloat(float64(r.Score), 'f', 4, 32)})
		}
		c.Flush()
		return c.Error()
	case cmdutil.FormatTable:
		for i, r := range recs {
			if _, err := fmt.Fprintf(w, "%3d  %.4f  %s\n", i+1, r.Score, r.File); err != nil {
				return err
			}
		}
		return nil
	}
	return cmdutil.WriteJSONRecords(w, format, slices.Values(recs))
}
