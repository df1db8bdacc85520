// Package index implements `clip index`: embed a photo collection once into
// an SQLite index file that `clip search` ranks by text or by example, and
// keep it up to date incrementally.
package index

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/clip-go/clip/pkg/cli/cmdutil"
	exportcmd "github.com/clip-go/clip/pkg/cli/index/export"
	"github.com/clip-go/clip/pkg/cli/iostreams"
	"github.com/clip-go/clip/pkg/cli/modelload"
	"github.com/clip-go/clip/pkg/clip"
	"github.com/clip-go/clip/pkg/imageproc"
	"github.com/clip-go/clip/pkg/index"
	"github.com/clip-go/clip/pkg/inputs"
)

// DefaultIndex is the index file when --index is not given: in the
// current directory, like a project's own file, so that `clip index
// photos/ -r` and then `clip search …` in the same directory meet.
const DefaultIndex = "clip-index.sqlite"

// commitEvery is how many embedded images one transaction holds: a
// killed run loses at most this many embeddings.
const commitEvery = 64

// IndexOptions are the flags of one `clip index`.
type IndexOptions struct {
	IO      *iostreams.IOStreams
	Factory *cmdutil.Factory

	Args    []string
	Index   string
	Rebuild bool
	Prune   bool
	Summary string
	modelload.ImageFlags
	Inputs cmdutil.InputFlags
}

// NewCmdIndex returns `clip index`; runF replaces indexRun in flag tests.
func NewCmdIndex(f *cmdutil.Factory, runF func(*IndexOptions) error) *cobra.Command {
	opts := &IndexOptions{IO: f.IOStreams, Factory: f}
	cmd := &cobra.Command{
		Use:   "index [IMAGE|DIR|GLOB|-]...",
		Short: "Add image embeddings to a search index (incremental)",
		Long: `Embed images into an SQLite index file for 'clip search'. Inputs are those of
'clip classify' (files, directories with -r, globs, --include/--exclude, "-"
for a list of paths on stdin); URLs are not indexed.

A rerun only embeds what changed: a file whose size and modification time
match its row is skipped; a changed file is hashed (sha256) and re-embedded;
a file whose content is already indexed under a path that no longer exists
is recorded as moved, without embedding. Indexed files under the given
directories (or given as files) that no longer exist are removed; --prune
also removes missing files indexed from anywhere else.

The index records the model (id, revision, sha256 of its files), variant,
preprocessing and decode mode; indexing or searching with another model is
an error (exit 2) unless --rebuild empties the index first. Work is
committed every 64 images, so an interrupted run keeps what it did and a
rerun finishes the job.`,
		Example: `  clip index ~/Pictures -r
  clip index photos/ -r --index photos.sqlite --summary summary.json
  find . -name '*.jpg' | clip index -`,
		// Explicit, so that operands are inputs even where this command is
		// the root (tests run it alone): cobra's default for a command with
		// sub-commands refuses unknown operands there.
		Args: cobra.ArbitraryArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.Args = args
			if runF != nil {
				return runF(opts)
			}
			return indexRun(cmd.Context(), opts)
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&opts.Index, "index", DefaultIndex, "index file (SQLite)")
	fl.BoolVar(&opts.Rebuild, "rebuild", false, "empty the index first (required to switch it to another model)")
	fl.BoolVar(&opts.Prune, "prune", false, "also remove indexed files outside the given inputs that no longer exist")
	fl.StringVar(&opts.Summary, "summary", "", "write the run's counts as JSON to this file")
	opts.ImageFlags.Register(fl)
	opts.Inputs.Register(fl)
	// cobra runs the sub-command when the first operand is exactly
	// "export": a directory of that name is indexed as ./export.
	cmd.AddCommand(exportcmd.NewCmdExport(f, nil))
	return cmd
}

// Summary is what one run did, for stderr and --summary.
type Summary struct {
	Schema    int     `json:"schema"`
	Index     string  `json:"index"`
	Model     string  `json:"model"`
	Added     int     `json:"added"`
	Updated   int     `json:"updated"`
	Moved     int     `json:"moved"`
	Unchanged int     `json:"unchanged"`
	Removed   int     `json:"removed"`
	Errors    int     `json:"errors"`
	Embedded  int     `json:"embedded"`
	Images    int     `json:"images"` // in the index after the run
	Seconds   float64 `json:"seconds"`
}

// file is one input with what the plan needs.
type file struct {
	index.File
	name    string // as the user gave it, for messages
	in      inputs.Input
	indexed bool // a row exists at this path
}

func indexRun(ctx context.Context, opts *IndexOptions) error {
	start := time.Now()
	switch {
	case len(opts.Args) == 0:
		return cmdutil.UsageErrorf("nothing to index: give image files, directories (with -r) or globs")
	case opts.BatchSize < 1:
		return cmdutil.UsageErrorf("--batch-size must be at least 1")
	}
	if err := cmdutil.CheckOutputFile("--index", opts.Index); err != nil {
		return err
	}
	if err := cmdutil.CheckOutputFile("--summary", opts.Summary); err != nil {
		return err
	}
	inOpts := opts.Inputs.Options(opts.IO.In)
	inOpts.Offline = true // URLs are refused below; never fetch them
	in, err := inputs.Expand(ctx, opts.Args, inOpts)
	switch {
	case err != nil && ctx.Err() != nil:
		return cmdutil.NewExitError(cmdutil.ExitInterrupted, errors.New("interrupted"))
	case err != nil:
		return cmdutil.UsageErrorf("%v", err)
	}
	quiet := opts.Factory.Globals.Quiet
	sum := Summary{Schema: clip.SchemaVersion, Index: opts.Index}
	report := func(name string, err error) {
		sum.Errors++
		if !quiet {
			fmt.Fprintf(opts.IO.ErrOut, "clip: %s: %v\n", name, err)
		}
	}
	var files []*file
	seen := map[string]bool{}
	for _, x := range in {
		switch {
		case x.Err != nil:
			report(x.Name, x.Err)
			continue
		case x.IsURL || x.Name == inputs.StdinName:
			report(x.Name, errors.New("not a local file: only files can be indexed (their path, size and mtime are what a rerun compares)"))
			continue
		}
		abs, err := filepath.Abs(x.Name)
		if err != nil {
			report(x.Name, err)
			continue
		}
		if seen[abs] {
			continue
		}
		seen[abs] = true
		files = append(files, &file{File: index.File{Path: abs}, name: x.Name, in: x})
	}

	dec := imageproc.DecodeOptions{NoEXIFRotate: opts.NoExifRotate, MaxMegapixels: opts.MaxMegapixels}
	model, err := modelload.Open(ctx, opts.Factory, modelload.Options{Variant: opts.Variant, Decode: dec, ExactDecode: opts.ExactDecode})
	if err != nil {
		return cmdutil.NewExitError(cmdutil.ExitRuntime, err)
	}
	defer model.Close()
	meta, err := model.IndexMeta(ctx)
	if err != nil {
		return cmdutil.NewExitError(cmdutil.ExitRuntime, err)
	}
	sum.Model = model.Describe()
	ix, err := index.Open(ctx, opts.Index, index.Options{})
	if err != nil {
		return cmdutil.NewExitError(cmdutil.ExitRuntime, err)
	}
	defer ix.Close()
	if opts.Rebuild {
		err = ix.Reset(ctx, meta)
	} else if err = ix.Check(ctx, meta); err == nil {
		if have, ok, _ := ix.Meta(ctx); ok {
			meta.Dim = have.Dim
		}
		err = ix.SetMeta(ctx, meta)
	}
	if mm := (*index.MismatchError)(nil); errors.As(err, &mm) {
		return cmdutil.UsageErrorf("%v; search it with that model, or pass --rebuild to re-embed everything with this one", err)
	} else if err != nil {
		return cmdutil.NewExitError(cmdutil.ExitRuntime, err)
	}

	plan, err := makePlan(ctx, ix, files, opts, report)
	if err != nil {
		if ctx.Err() != nil {
			return cmdutil.NewExitError(cmdutil.ExitInterrupted, errors.New("interrupted"))
		}
		return cmdutil.NewExitError(cmdutil.ExitRuntime, err)
	}
	sum.Unchanged, sum.Moved, sum.Added = plan.unchanged, plan.moved, plan.copied
	if err := ix.Apply(ctx, plan.quick); err != nil {
		return cmdutil.NewExitError(cmdutil.ExitRuntime, err)
	}

	runErr := embed(ctx, opts, model, dec, ix, &meta, plan.embed, &sum)
	if runErr == nil {
		var del []index.Change
		for _, p := range plan.missing {
			del = append(del, index.Change{File: index.File{Path: p}, Delete: true})
		}
		if runErr = ix.Apply(ctx, del); runErr == nil {
			sum.Removed = len(del)
		}
	}
	if runErr == nil {
		// The vector file only speeds up searches (which rewrite it when
		// stale): failing to write it costs no indexed work.
		if err := ix.WriteVectorFile(ctx); err != nil {
			fmt.Fprintf(opts.IO.ErrOut, "clip: warning: %v (searches will read the index itself)\n", err)
		}
	}
	sum.Images, _ = ix.Count(ctx)
	sum.Seconds = time.Since(start).Seconds()
	if !quiet {
		fmt.Fprintf(opts.IO.ErrOut, "clip: %s: %d images; added %d, updated %d, moved %d, unchanged %d, removed %d, errors %d (%d embedded in %.1fs)\n",
			opts.Index, sum.Images, sum.Added, sum.Updated, sum.Moved, sum.Unchanged, sum.Removed, sum.Errors, sum.Embedded, sum.Seconds)
	}
	if opts.Summary != "" {
		b, _ := json.MarshalIndent(sum, "", "  ")
		if err := os.WriteFile(opts.Summary, append(b, '\n'), 0o644); err != nil && runErr == nil {
			runErr = fmt.Errorf("--summary: %w", err)
		}
	}
	switch {
	case runErr != nil && ctx.Err() != nil:
		return cmdutil.NewExitError(cmdutil.ExitInterrupted, errors.New("interrupted (the index keeps what was committed; rerun to finish)"))
	case runErr != nil:
		return cmdutil.NewExitError(cmdutil.ExitRuntime, runErr)
	case sum.Errors > opts.MaxErrors:
		return cmdutil.NewExitError(cmdutil.ExitInputErrors, fmt.Errorf("%d of %d inputs could not be indexed (--max-errors %d)", sum.Errors, len(in), opts.MaxErrors))
	}
	return nil
}

// plan is what a run will do: quick changes (moves, copies, touched
// mtimes) written before embedding, files to embed, rows to delete after.
type plan struct {
	quick                    []index.Change
	embed                    []*file
	missing                  []string
	unchanged, moved, copied int
}

// makePlan compares the inputs with the index: unchanged by size and
// mtime, else by content hash (same path: unchanged; a vanished path:
// moved; a path still present: copied), else to embed.
func makePlan(ctx context.Context, ix *index.Index, files []*file, opts *IndexOptions, report func(string, error)) (*plan, error) {
	rows, err := ix.Files(ctx)
	if err != nil {
		return nil, err
	}
	byPath := make(map[string]index.File, len(rows))
	bySum := map[string][]string{}
	for _, r := range rows {
		byPath[r.Path] = r
		bySum[r.SHA256] = append(bySum[r.SHA256], r.Path)
	}
	inputPaths := make(map[string]bool, len(files))
	for _, f := range files {
		inputPaths[f.Path] = true
	}
	roots := rootsOf(opts.Args)
	// missing: indexed, in scope, not among the inputs, gone from disk.
	missing := map[string]bool{}
	for _, r := range rows {
		if inputPaths[r.Path] || !(opts.Prune || under(r.Path, roots)) {
			continue
		}
		if _, err := os.Lstat(r.Path); errors.Is(err, os.ErrNotExist) {
			missing[r.Path] = true
		}
	}
	p := &plan{}
	for _, f := range files {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		st, err := os.Stat(f.Path)
		if err != nil {
			report(f.name, err)
			continue
		}
		f.Size, f.MtimeNs = st.Size(), st.ModTime().UnixNano()
		old, indexed := byPath[f.Path]
		f.indexed = indexed
		if indexed && old.Size == f.Size && old.MtimeNs == f.MtimeNs {
			p.unchanged++
			continue
		}
		if f.SHA256, err = hashFile(ctx, f.Path); err != nil {
			report(f.name, err)
			continue
		}
		if indexed && old.SHA256 == f.SHA256 {
			p.unchanged++
			p.quick = append(p.quick, index.Change{File: f.File, Touch: true})
			continue
		}
		var from, copyOf string
		for _, q := range bySum[f.SHA256] {
			if missing[q] {
				from = q
				break
			}
			if copyOf == "" && q != f.Path {
				copyOf = q
			}
		}
		switch {
		case from != "":
			delete(missing, from)
			p.moved++
			p.quick = append(p.quick, index.Change{File: f.File, From: from})
		case copyOf != "" && !indexed:
			p.copied++
			p.quick = append(p.quick, index.Change{File: f.File, CopyOf: copyOf})
		default:
			p.embed = append(p.embed, f)
		}
	}
	for q := range missing {
		p.missing = append(p.missing, q)
	}
	return p, nil
}

// rootsOf are the existing operands as absolute paths: directories (and
// files) whose vanished entries a run removes.
func rootsOf(args []string) []string {
	var roots []string
	for _, a := range args {
		if a == inputs.StdinName {
			continue // the listed files are the inputs themselves
		}
		if strings.ContainsAny(a, "*?[") {
			a = globBase(a)
		}
		abs, err := filepath.Abs(a)
		if err != nil {
			continue
		}
		// A root that is not there (an unmounted disk, a typo) says
		// nothing about the files indexed below it: they are kept.
		if _, err := os.Stat(abs); err == nil {
			roots = append(roots, abs)
		}
	}
	return roots
}

// globBase is the directory part of a glob before its first pattern
// character: photos/2024/*.jpg → photos/2024.
func globBase(g string) string {
	i := strings.IndexAny(g, "*?[")
	return filepath.Dir(g[:i] + "x")
}

func under(p string, roots []string) bool {
	for _, r := range roots {
		if p == r || strings.HasPrefix(p, r+string(filepath.Separator)) || r == string(filepath.Separator) {
			return true
		}
	}
	return false
}

func hashFile(ctx context.Context, path string) (string, error) {
	f, err := os.Open(path)
	if err != nil {
		return "", err
	}
	defer f.Close()
	h := sha256.New()
	buf := make([]byte, 1<<20)
	for {
		if err := ctx.Err(); err != nil {
			return "", err
		}
		n, err := f.Read(buf)
		h.Write(buf[:n])
		if err == io.EOF {
			break
		}
		if err != nil {
			return "", err
		}
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}

// embed runs the files through the model, committing every commitEvery
// embeddings.
func embed(ctx context.Context, opts *IndexOptions, model *modelload.Model, dec imageproc.DecodeOptions, ix *index.Index, meta *index.Meta, files []*file, sum *Summary) error {
	if len(files) == 0 {
		return nil
	}
	bar := cmdutil.NewProgress(opts.IO, len(files), opts.Factory.Globals.Quiet, "indexing")
	defer bar.Done()
	var batch []index.Change
	var added, updated int
	flush := func(ctx context.Context) error {
		if len(batch) == 0 {
			return nil
		}
		if err := ix.Apply(ctx, batch); err != nil {
			return err
		}
		sum.Added += added
		sum.Updated += updated
		sum.Embedded += len(batch)
		batch, added, updated = batch[:0], 0, 0
		return nil
	}
	fetch := inputs.NewImageFetcher(dec)
	err := clip.EmbedImages(ctx, len(files), func(ctx context.Context, i int, dst []float32) error {
		data, err := fetch.Open(ctx, files[i].in)
		if err != nil {
			return err
		}
		return model.PrepareImage(data, files[i].name, dst)
	}, model, clip.PipelineOptions{BatchSize: opts.BatchSize, Workers: opts.Factory.Threads(), InferThreads: opts.Factory.Threads()}, func(r clip.Result) error {
		f := files[r.Index]
		bar.Add()
		if r.Err != nil {
			bar.Printf("clip: %s: %v\n", f.name, r.Err)
			sum.Errors++
			return nil
		}
		if meta.Dim == 0 {
			meta.Dim = len(r.Embedding)
			if err := ix.SetMeta(ctx, *meta); err != nil {
				return err
			}
		}
		batch = append(batch, index.Change{File: f.File, Embedding: r.Embedding})
		if f.indexed {
			updated++
		} else {
			added++
		}
		if len(batch) >= commitEvery {
			return flush(ctx)
		}
		return nil
	})
	// Interrupted or not, what was embedded is kept.
	if ferr := flush(context.WithoutCancel(ctx)); err == nil {
		err = ferr
	}
	return err
}
