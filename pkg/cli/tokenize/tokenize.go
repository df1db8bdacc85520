// Package tokenize implements `clip tokenize`: print the CLIP token ids a
// model's own tokenizer gives for texts, for checking prompts and for
// comparing clip with Python or JavaScript pipelines.
package tokenize

import (
	"bufio"
	"context"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"github.com/clip-go/clip/pkg/cli/cmdutil"
	"github.com/clip-go/clip/pkg/cli/iostreams"
	"github.com/clip-go/clip/pkg/cli/modelload"
	"github.com/clip-go/clip/pkg/clip"
	"github.com/clip-go/clip/pkg/hub"
	"github.com/clip-go/clip/pkg/tokenizer"
)

// TokenizeOptions are the flags and arguments of one `clip tokenize`.
type TokenizeOptions struct {
	IO      *iostreams.IOStreams
	Factory *cmdutil.Factory

	Texts  []string
	Stdin  bool   // --stdin: one text per line of standard input
	Model  string // global --model
	Vocab  string // --vocab: OpenAI bpe_simple_vocab_16e6.txt.gz
	Tokens bool   // --tokens: add the token strings
	Pad    bool   // --pad: pad to the context length, add the attention mask
	Format string // resolved --format

	// ResolveModelDir turns --model into a local directory holding the
	// tokenizer files. The default accepts local directories only; the
	// root command may install one that also knows catalogue names and
	// Hugging Face repo ids.
	ResolveModelDir func(ctx context.Context, model string) (string, error)
}

// NewCmdTokenize returns `clip tokenize`. runF replaces tokenizeRun in
// tests that only check flag handling.
func NewCmdTokenize(f *cmdutil.Factory, runF func(*TokenizeOptions) error) *cobra.Command {
	opts := &TokenizeOptions{IO: f.IOStreams, Factory: f}
	opts.ResolveModelDir = func(ctx context.Context, model string) (string, error) {
		if st, err := os.Stat(model); err == nil && st.IsDir() {
			return localModelDir(ctx, model)
		}
		local, err := modelload.ResolvePart(ctx, f, model, hub.FP32, hub.TokenizerFiles)
		if err != nil {
			return "", err
		}
		return modelload.TokenizerDir(local), nil
	}
	cmd := &cobra.Command{
		Use:   "tokenize [TEXT...]",
		Short: "Show the CLIP token ids of texts",
		Long: `Tokenize each TEXT with the model's own tokenizer (tokenizer.json,
else vocab.json + merges.txt, else bpe_simple_vocab_16e6.txt.gz in the model
directory) and print one record per text: start-of-text, the tokens,
end-of-text, cut to the model's context length (end-of-text kept last).

--model is a model directory, a catalogue name or a Hugging Face repo id
(default: ` + modelload.DefaultModel + `); only the tokenizer files are
downloaded, not the ONNX graphs.

--vocab uses OpenAI's bpe_simple_vocab_16e6.txt.gz directly (padding id 0,
as OpenAI's clip.tokenize). The ids match transformers.js and Hugging Face's
CLIPTokenizer (no ftfy or HTML unescaping, unlike OpenAI's Python code).`,
		Example: `  clip tokenize --model ./clip-vit-base-patch32 "a photo of a cat" "a diagram"
  clip tokenize --vocab bpe_simple_vocab_16e6.txt.gz --tokens --format table "Hello World!"
  cat labels.txt | clip tokenize --model ./clip-vit-base-patch32 --stdin --pad --format jsonl`,
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.Texts = args
			if f.Globals != nil {
				opts.Model = f.Globals.Model
			}
			if opts.Stdin && len(args) > 0 {
				return cmdutil.UsageErrorf("give texts as arguments or --stdin, not both")
			}
			if !opts.Stdin && len(args) == 0 {
				return cmdutil.UsageErrorf("no texts to tokenize: give TEXT arguments or --stdin")
			}
			if opts.Model != "" && opts.Vocab != "" {
				return cmdutil.UsageErrorf("--model and --vocab both name a tokenizer: give one")
			}
			if opts.Model == "" && opts.Vocab == "" {
				opts.Model = modelload.DefaultModel
			}
			format, err := f.OutputFormat()
			if err != nil {
				return err
			}
			opts.Format = format
			if runF != nil {
				return runF(opts)
			}
			return tokenizeRun(cmd.Context(), opts)
		},
	}
	fl := cmd.Flags()
	fl.BoolVar(&opts.Stdin, "stdin", false, "read texts from standard input, one per line")
	fl.StringVar(&opts.Vocab, "vocab", "", "use OpenAI's bpe_simple_vocab_16e6.txt.gz instead of a model's tokenizer")
	fl.BoolVar(&opts.Tokens, "tokens", false, "also print the token strings (byte-level, with </w> ending a word)")
	fl.BoolVar(&opts.Pad, "pad", false, "pad to the context length with the model's pad id and print the attention mask")
	return cmd
}

// localModelDir accepts --model only as an existing local directory, in
// the Hugging Face layout or immich's (tokenizer under textual/).
func localModelDir(_ context.Context, model string) (string, error) {
	st, err := os.Stat(model)
	if err != nil || !st.IsDir() {
		return "", cmdutil.UsageErrorf("--model %q: not a local directory (clip tokenize takes a model directory, or --vocab bpe_simple_vocab_16e6.txt.gz)", model)
	}
	files, _ := clip.FilesInDir(model, "") // a directory with only tokenizer files is fine here
	return files.TokenizerDir, nil
}

// record is one output line.
type record struct {
	Text          string   `json:"text"`
	IDs           []int    `json:"ids"`
	Tokens        []string `json:"tokens,omitempty"`
	AttentionMask []int    `json:"attention_mask,omitempty"`
}

func tokenizeRun(ctx context.Context, opts *TokenizeOptions) error {
	if ctx == nil {
		ctx = context.Background()
	}
	tok, err := loadTokenizer(ctx, opts)
	if err != nil {
		return err
	}
	texts := opts.Texts
	if opts.Stdin {
		if texts, err = readLines(ctx, opts.IO.In); err != nil {
			return cmdutil.NewExitError(cmdutil.ExitInputErrors, fmt.Errorf("reading standard input: %w", err))
		}
	}
	records := make([]record, 0, len(texts))
	for _, text := range texts {
		if err := ctx.Err(); err != nil {
			return err
		}
		r := record{Text: text, IDs: tok.Encode(text)}
		if opts.Pad {
			ids, mask := tok.EncodeBatch([]string{text}, tok.ContextLength())
			r.IDs, r.AttentionMask = ids[0], mask[0]
		}
		if opts.Tokens {
			r.Tokens = tok.Tokens(r.IDs)
		}
		records = append(records, r)
	}
	return writeRecords(opts.IO.Out, opts.Format, records, opts.Tokens, opts.Pad)
}

func loadTokenizer(ctx context.Context, opts *TokenizeOptions) (*tokenizer.Tokenizer, error) {
	if opts.Vocab != "" {
		if _, err := os.Stat(opts.Vocab); err != nil {
			return nil, cmdutil.UsageErrorf("--vocab: %v", err)
		}
		return tokenizer.LoadOpenAIVocab(opts.Vocab)
	}
	resolve := opts.ResolveModelDir
	if resolve == nil {
		resolve = localModelDir
	}
	dir, err := resolve(ctx, opts.Model)
	if err != nil {
		return nil, err
	}
	return tokenizer.Load(dir)
}

// readLines reads one text per line; a trailing "\r" is dropped, so CRLF
// files work, and a final newline does not make an extra empty text.
func readLines(ctx context.Context, r io.Reader) ([]string, error) {
	br := bufio.NewReader(r)
	var lines []string
	for {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		line, err := br.ReadString('\n')
		if line != "" {
			line = strings.TrimSuffix(strings.TrimSuffix(line, "\n"), "\r")
			lines = append(lines, line)
		}
		if err == io.EOF {
			return lines, nil
		}
		if err != nil {
			return nil, err
		}
	}
}

func writeRecords(w io.Writer, format string, records []record, tokens, pad bool) error {
	bw := bufio.NewWriter(w)
	switch format {
	case cmdutil.FormatJSON:
		enc := json.NewEncoder(bw)
		enc.SetEscapeHTML(false)
		enc.SetIndent("", "  ")
		if err := enc.Encode(records); err != nil {
			return err
		}
	case cmdutil.FormatJSONL:
		enc := json.NewEncoder(bw)
		enc.SetEscapeHTML(false)
		for _, r := range records {
			if err := enc.Encode(r); err != nil {
				return err
			}
		}
	case cmdutil.FormatCSV:
		cw := csv.NewWriter(bw)
		header := []string{"text", "ids"}
		if tokens {
			header = append(header, "tokens")
		}
		if pad {
			header = append(header, "attention_mask")
		}
		if err := cw.Write(header); err != nil {
			return err
		}
		for _, r := range records {
			row := []string{r.Text, joinInts(r.IDs)}
			if tokens {
				row = append(row, strings.Join(r.Tokens, " "))
			}
			if pad {
				row = append(row, joinInts(r.AttentionMask))
			}
			if err := cw.Write(row); err != nil {
				return err
			}
		}
		cw.Flush()
		if err := cw.Error(); err != nil {
			return err
		}
	default: // table
		tw := tabwriter.NewWriter(bw, 0, 4, 2, ' ', 0)
		header := "TEXT\tN\tIDS"
		if tokens {
			header += "\tTOKENS"
		}
		fmt.Fprintln(tw, header)
		for _, r := range records {
			n := len(r.IDs)
			if pad {
				n = 0
				for _, m := range r.AttentionMask {
					n += m
				}
			}
			line := fmt.Sprintf("%s\t%d\t%s", strconv.Quote(r.Text), n, joinInts(r.IDs))
			if tokens {
				line += "\t" + strings.Join(r.Tokens, " ")
			}
			fmt.Fprintln(tw, line)
		}
		if err := tw.Flush(); err != nil {
			return err
		}
	}
	return bw.Flush()
}

func joinInts(xs []int) string {
	var b strings.Builder
	for i, x := range xs {
		if i > 0 {
			b.WriteByte(' ')
		}
		b.WriteString(strconv.Itoa(x))
	}
	return b.String()
}
