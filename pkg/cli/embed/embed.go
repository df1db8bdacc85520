// Package embed implements `clip embed`: L2-normalised CLIP embeddings of
// images or texts, as jsonl/json/csv records or one .npy matrix, for users
// building their own search.
package embed

import (
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"

	"github.com/spf13/cobra"

	"github.com/clip-go/clip/pkg/cli/cmdutil"
	"github.com/clip-go/clip/pkg/cli/iostreams"
	"github.com/clip-go/clip/pkg/cli/modelload"
	"github.com/clip-go/clip/pkg/clip"
	"github.com/clip-go/clip/pkg/imageproc"
	"github.com/clip-go/clip/pkg/inputs"
	"github.com/clip-go/clip/pkg/npy"
)

// EmbedOptions are the flags of one `clip embed`.
type EmbedOptions struct {
	IO      *iostreams.IOStreams
	Factory *cmdutil.Factory

	Args      []string
	Texts     []string
	TextsFile string
	Out       string
	modelload.ImageFlags
	Inputs cmdutil.InputFlags

	// Language is --language (NLLB text towers): auto or a language code.
	Language string
}

// NewCmdEmbed returns `clip embed`; runF replaces embedRun in flag tests.
func NewCmdEmbed(f *cmdutil.Factory, runF func(*EmbedOptions) error) *cobra.Command {
	opts := &EmbedOptions{IO: f.IOStreams, Factory: f}
	cmd := &cobra.Command{
		Use:   "embed [IMAGE|DIR|GLOB|URL|-]... | --text TEXT [TEXT]...",
		Short: "Write L2-normalised image or text embeddings",
		Long: `Write CLIP embeddings, L2-normalised, one record per input in input order:
{"schema":1,"file":…,"embedding":[…]} for images, {"schema":1,"text":…,"embedding":[…]}
for texts. With --text (or --texts-file) the operands are texts too, after
the --text values. With --out FILE.npy the embeddings go to one float32
[N, dim] matrix (rows in input order, failed inputs left out) and stdout
lists each input's row. CSV has one column per dimension (e0, e1, …).`,
		Example: `  clip embed photos/*.jpg > photos.jsonl
  clip embed --text "a dog" "a cat" --format json
  clip embed photos/ -r --out photos.npy > rows.jsonl`,
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.Args = args
			if runF != nil {
				return runF(opts)
			}
			return embedRun(cmd.Context(), opts)
		},
	}
	fl := cmd.Flags()
	fl.StringArrayVar(&opts.Texts, "text", nil, "embed this text (repeatable; the operands are then texts too) instead of images")
	fl.StringVar(&opts.TextsFile, "texts-file", "", "embed each line of this file as a text")
	fl.StringVar(&opts.Language, "language", clip.LanguageAuto, modelload.LanguageUsage)
	fl.StringVarP(&opts.Out, "out", "o", "", "write the embeddings as one .npy float32 matrix to this file")
	opts.ImageFlags.Register(fl)
	opts.Inputs.Register(fl)
	return cmd
}

// item is one output row.
type item struct {
	key, name string // "file" or "text", and its value
	emb       []float32
	err       error
}

func embedRun(ctx context.Context, opts *EmbedOptions) error {
	format, err := opts.Factory.OutputFormat()
	if err != nil {
		return err
	}
	if err := modelload.CheckLanguage(opts.Language); err != nil {
		return err
	}
	texts := opts.Texts
	if opts.TextsFile != "" {
		more, err := readLines(ctx, opts.TextsFile)
		if err != nil {
			return cmdutil.UsageErrorf("--texts-file: %v", err)
		}
		texts = append(texts, more...)
	}
	isText := len(texts) > 0
	if isText {
		// `--text "a cat" "a dog"`: with --text, operands are texts too.
		texts = append(texts, opts.Args...)
		opts.Args = nil
	}
	switch {
	case !isText && len(opts.Args) == 0:
		return cmdutil.UsageErrorf("nothing to embed: give images, or --text TEXT")
	case opts.BatchSize < 1:
		return cmdutil.UsageErrorf("--batch-size must be at least 1")
	}
	if err := cmdutil.CheckOutputFile("--out", opts.Out); err != nil {
		return err
	}
	dec := imageproc.DecodeOptions{NoEXIFRotate: opts.NoExifRotate, MaxMegapixels: opts.MaxMegapixels}
	var in []inputs.Input
	if !isText {
		inOpts := opts.Inputs.Options(opts.IO.In)
		inOpts.Offline = opts.Factory.Offline()
		in, err = inputs.Expand(ctx, opts.Args, inOpts)
		switch {
		case err != nil && ctx.Err() != nil:
			return cmdutil.NewExitError(130, errors.New("interrupted"))
		case err != nil:
			return cmdutil.UsageErrorf("%v", err)
		}
	}
	var model *modelload.Model
	if !inputs.AllFailed(in) { // else the errors are reported without a model
		if model, err = modelload.Open(ctx, opts.Factory, modelload.Options{Variant: opts.Variant, Decode: dec, ExactDecode: opts.ExactDecode, Language: opts.Language}); err != nil {
			return cmdutil.NewExitError(cmdutil.ExitRuntime, err)
		}
		defer model.Close()
	}

	w := newWriter(format, opts.IO.Out, opts.Out != "")
	var matrix []float32
	dim, rows, nerr := 0, 0, 0
	emit := func(it item) error {
		if it.err != nil {
			nerr++
			if !opts.Factory.Globals.Quiet {
				fmt.Fprintf(opts.IO.ErrOut, "clip: %s: %v\n", it.name, it.err)
			}
			return w.write(it, -1)
		}
		dim = len(it.emb)
		row := -1
		if opts.Out != "" {
			matrix = append(matrix, it.emb...)
			row = rows
		}
		rows++
		return w.write(it, row)
	}
	var runErr error
	if isText {
		embs, err := model.EncodeTexts(ctx, texts)
		if err != nil {
			return cmdutil.NewExitError(cmdutil.ExitRuntime, err)
		}
		for i, t := range texts {
			if runErr = emit(item{key: "text", name: t, emb: embs[i]}); runErr != nil {
				break
			}
		}
	} else if model == nil {
		for _, i := range in {
			if runErr = emit(item{key: "file", name: i.Name, err: i.Err}); runErr != nil {
				break
			}
		}
	} else {
		fetch := inputs.NewImageFetcher(dec)
		runErr = clip.EmbedImages(ctx, len(in), func(ctx context.Context, i int, dst []float32) error {
			data, err := fetch.Open(ctx, in[i])
			if err != nil {
				return err
			}
			return model.PrepareImage(data, in[i].Name, dst)
		}, model, clip.PipelineOptions{BatchSize: opts.BatchSize, Workers: opts.Factory.Threads(), InferThreads: opts.Factory.Threads()}, func(r clip.Result) error {
			return emit(item{key: "file", name: in[r.Index].Name, emb: r.Embedding, err: r.Err})
		})
	}
	if err := w.close(); err != nil && runErr == nil {
		runErr = err
	}
	if opts.Out != "" && runErr == nil {
		if err := writeNpy(opts.Out, matrix, rows, dim); err != nil {
			return cmdutil.NewExitError(cmdutil.ExitRuntime, err)
		}
	}
	switch {
	case runErr != nil && ctx.Err() != nil:
		return cmdutil.NewExitError(cmdutil.ExitInterrupted, errors.New("interrupted"))
	case runErr != nil:
		return cmdutil.NewExitError(cmdutil.ExitRuntime, runErr)
	case nerr > opts.MaxErrors:
		return cmdutil.NewExitError(cmdutil.ExitInputErrors, fmt.Errorf("%d of %d inputs could not be embedded (--max-errors %d)", nerr, rows+nerr, opts.MaxErrors))
	}
	return nil
}

func writeNpy(path string, data []float32, rows, dim int) error {
	if data == nil {
		data = []float32{}
	}
	a, err := npy.New([]int64{int64(rows), int64(dim)}, data)
	if err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	return npy.WriteFile(path, a)
}

// readLines reads --texts-file: a regular file (not a FIFO or device, which
// could block or never end) of at most 64 MiB.
func readLines(ctx context.Context, path string) ([]string, error) {
	b, err := inputs.ReadFile(ctx, path, 64<<20, nil)
	if err != nil {
		return nil, err
	}
	lines, err := inputs.ReadLines(bytes.NewReader(bytes.TrimPrefix(b, []byte("\uFEFF"))))
	for i := range lines {
		lines[i] = strings.TrimSpace(lines[i])
	}
	return lines, err
}

// writer streams items; with rowsOnly (--out) records carry the .npy row
// instead of the embedding.
type writer struct {
	format   string
	w        io.Writer
	rowsOnly bool
	array    cmdutil.JSONArrayWriter
	csv      *csv.Writer
	// pending holds CSV rows written before the first embedding told the
	// header how many dimension columns there are.
	pending [][]string
	dim     int
}

func newWriter(format string, w io.Writer, rowsOnly bool) *writer {
	return &writer{format: format, w: w, rowsOnly: rowsOnly, array: cmdutil.JSONArrayWriter{W: w}}
}

// record is one output record, fields in the order classify's records
// use: schema, what was embedded, then the result.
type record struct {
	Schema    int       `json:"schema"`
	File      *string   `json:"file,omitempty"`
	Text      *string   `json:"text,omitempty"`
	Row       *int      `json:"row,omitempty"`
	Embedding []float32 `json:"embedding,omitempty"`
	Error     string    `json:"error,omitempty"`
}

func (w *writer) write(it item, row int) error {
	rec := record{Schema: clip.SchemaVersion}
	if it.key == "text" {
		rec.Text = &it.name
	} else {
		rec.File = &it.name
	}
	switch {
	case it.err != nil:
		rec.Error = it.err.Error()
	case w.rowsOnly:
		rec.Row = &row
	default:
		rec.Embedding = it.emb
	}
	switch w.format {
	case cmdutil.FormatCSV:
		return w.writeCSV(it, row)
	case cmdutil.FormatJSON:
		return w.array.Write(rec)
	case cmdutil.FormatTable:
		if it.err != nil {
			_, err := fmt.Fprintf(w.w, "%s\tERROR %v\n", it.name, it.err)
			return err
		}
		preview := ""
		for i := 0; i < len(it.emb) && i < 4; i++ {
			preview += fmt.Sprintf("%+.4f ", it.emb[i])
		}
		_, err := fmt.Fprintf(w.w, "%s\tdim %d\t[%s…]\n", it.name, len(it.emb), strings.TrimSpace(preview))
		return err
	}
	b, err := json.Marshal(rec)
	if err != nil {
		return err
	}
	_, err = fmt.Fprintf(w.w, "%s\n", b)
	return err
}

// writeCSV writes columns file (or text), row, error, then one column per
// dimension (e0, e1, …) unless rowsOnly.
func (w *writer) writeCSV(it item, row int) error {
	r := ""
	if row >= 0 {
		r = strconv.Itoa(row)
	}
	errs := ""
	if it.err != nil {
		errs = it.err.Error()
	}
	cells := []string{it.name, r, errs}
	if it.err != nil && !w.rowsOnly {
		cells = append(cells, make([]string, w.dim)...) // padded once dim is known
	}
	if w.csv == nil {
		if it.err != nil && !w.rowsOnly {
			w.pending = append(w.pending, cells)
			return nil
		}
		w.header(it.key, len(it.emb))
	}
	if !w.rowsOnly {
		for _, v := range it.emb {
			cells = append(cells, strconv.FormatFloat(float64(v), 'g', -1, 32))
		}
	}
	_ = w.csv.Write(cells)
	w.csv.Flush()
	return w.csv.Error()
}

// header starts the CSV with dim dimension columns and the rows that
// waited for it.
func (w *writer) header(key string, dim int) {
	w.csv = csv.NewWriter(w.w)
	head := []string{key, "row", "error"}
	if !w.rowsOnly {
		for i := 0; i < dim; i++ {
			head = append(head, "e"+strconv.Itoa(i))
		}
	}
	w.dim = dim
	_ = w.csv.Write(head)
	for _, p := range w.pending {
		_ = w.csv.Write(append(p, make([]string, dim)...))
	}
	w.pending = nil
}

func (w *writer) close() error {
	switch w.format {
	case cmdutil.FormatJSON:
		return w.array.Close()
	case cmdutil.FormatCSV:
		if w.csv == nil {
			w.header("file", 0)
		}
		w.csv.Flush()
		return w.csv.Error()
	}
	return nil
}
