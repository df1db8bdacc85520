// Package classify implements `clip classify`: rank labels for images with
// a CLIP model, as a table for people or json/jsonl/csv for programs, with
// checks (--expect, --fail-if, --min-score) for CI.
package classify

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"runtime"
	"sort"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/clip-go/clip/pkg/cli/cmdutil"
	"github.com/clip-go/clip/pkg/cli/iostreams"
	"github.com/clip-go/clip/pkg/cli/modelload"
	"github.com/clip-go/clip/pkg/clip"
	"github.com/clip-go/clip/pkg/imageproc"
	"github.com/clip-go/clip/pkg/inputs"
	"github.com/clip-go/clip/pkg/report"
)

// ExitInterrupted is the exit code after Ctrl-C (128 + SIGINT, as shells do).
const ExitInterrupted = cmdutil.ExitInterrupted

// Model is what classify needs from a loaded CLIP model.
type Model interface {
	clip.ImageEncoder
	clip.TextEncoder
	// PrepareImage decodes an image file's bytes and writes the model's
	// input tensor (3×H×W) into dst.
	PrepareImage(data []byte, name string, dst []float32) error
	// Scoring is how similarities become probabilities (softmax or
	// per-label sigmoid).
	Scoring() clip.Scoring
	// DefaultTemplates are the family's prompt templates for when none
	// are given.
	DefaultTemplates() []string
	// CacheKey identifies the model's text encoder for the text cache,
	// kept in TextCacheDir.
	CacheKey() string
	TextCacheDir() string
	// Provenance describes the model for --summary (may hash files).
	Provenance(ctx context.Context) (any, error)
	Close() error
}

// ModelOpener loads the model named by --model (and --variant).
type ModelOpener func(ctx context.Context, opts *ClassifyOptions) (Model, error)

// ClassifyOptions are the flags and environment of one `clip classify`.
type ClassifyOptions struct {
	IO      *iostreams.IOStreams
	Factory *cmdutil.Factory
	Open    ModelOpener

	Args        []string
	Labels      []string
	LabelsFile  string
	Templates   []string
	TemplateSet string
	TopK        int
	Threshold   float64

	Expect   []string
	FailIf   []string
	MinScore float64
	Summary  string
	JUnit    string
	Report   string

	modelload.ImageFlags
	NoCache     bool
	Inputs      cmdutil.InputFlags
	Shard       string
	URLTimeout  time.Duration
	URLMaxBytes int64

	// Language is --language (NLLB text towers): auto or a language code.
	Language string
}

// NewCmdClassify returns `clip classify`. runF replaces classifyRun in tests
// that only check flag parsing.
func NewCmdClassify(f *cmdutil.Factory, runF func(*ClassifyOptions) error) *cobra.Command {
	opts := &ClassifyOptions{IO: f.IOStreams, Factory: f, Open: openModel}
	cmd := &cobra.Command{
		Use:   "classify [IMAGE|DIR|GLOB|URL|-]... --labels a,b,c",
		Short: "Rank labels for images (zero-shot)",
		Long: `Rank labels for each image with CLIP: each label becomes a prompt
("a photo of a {}."), and labels are ranked by softmax(logit scale × cosine
similarity) between the image and prompt embeddings.

For sigmoid families (SigLIP, read from the model's config.json) the default
prompt is "This is a photo of {}." and each label's probability is its own
sigmoid(logit scale × cosine + logit bias), independent of the other labels:
probabilities need not sum to 1, and --threshold, --min-score and --expect
apply to that per-label probability.

Inputs are image files, directories (-r to recurse), globs (quoted globs and
** are expanded by clip), http(s) URLs, or "-" for stdin: image data (one
image named "-") or a list of paths.
Formats: JPEG, PNG, GIF, BMP, TIFF, WebP, HEIC/HEIF and AVIF, recognised by
content. Output is one record per image, in input order.`,
		Example: `  clip classify ./photos/*.jpg --labels cat,dog,zebra
  clip classify shots/ -r --labels-file labels.txt --format json | jq '.[] | select(.label=="dog")'
  clip classify assets/*.png --labels logo,photo --expect logo
  find . -name '*.jpg' -print0 | clip classify - -0 --labels indoor,outdoor --format csv`,
		Annotations: map[string]string{cmdutil.AnnotationExtraFormat: formatGitHub},
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.Args = args
			if runF != nil {
				return runF(opts)
			}
			return classifyRun(cmd.Context(), opts)
		},
	}
	fl := cmd.Flags()
	fl.StringArrayVarP(&opts.Labels, "labels", "l", nil, `comma-separated labels (repeatable; quote a label holding a comma: '"a, b",c')`)
	fl.StringVar(&opts.LabelsFile, "labels-file", "", "labels from a file: one per line, or JSON/YAML list, or mapping label → prompts")
	fl.StringArrayVarP(&opts.Templates, "template", "t", nil, `prompt template with {} for the label (repeatable: prompts are ensembled; default: the model family's, "a photo of a {}." for CLIP, "This is a photo of {}." for SigLIP, "{}" for M-CLIP)`)
	fl.StringVar(&opts.TemplateSet, "templates", "", "built-in template set: "+strings.Join(clip.TemplateSetNames(), "|"))
	fl.IntVarP(&opts.TopK, "top-k", "k", 0, "labels listed per image (0: all)")
	fl.Float64Var(&opts.Threshold, "threshold", 0, "report the label as \"unknown\" when the best probability is below this")
	fl.StringSliceVar(&opts.Expect, "expect", nil, "exit 1 if any image's label is not one of these")
	fl.StringSliceVar(&opts.FailIf, "fail-if", nil, "exit 1 if any image's label is one of these")
	fl.Float64Var(&opts.MinScore, "min-score", 0, "exit 1 if any image's best probability is below this")
	opts.ImageFlags.Register(fl)
	fl.StringVar(&opts.Summary, "summary", "", "write a JSON summary with provenance to this file")
	fl.StringVar(&opts.JUnit, "junit", "", "write a JUnit XML report to this file (a test case per image)")
	fl.StringVar(&opts.Report, "report", "", "write a self-contained HTML report (thumbnails grouped by label) to this file")
	fl.BoolVar(&opts.NoCache, "no-cache", false, "do not read or write the text-embedding cache")
	fl.StringVar(&opts.Language, "language", clip.LanguageAuto, modelload.LanguageUsage)
	opts.Inputs.Register(fl)
	fl.StringVar(&opts.Shard, "shard", "", "process only shard K of N (K/N, 0-based, stable by path: e.g. $JOB_COMPLETION_INDEX/8)")
	fl.DurationVar(&opts.URLTimeout, "url-timeout", 30*time.Second, "time limit per URL download")
	fl.Int64Var(&opts.URLMaxBytes, "url-max-bytes", 50<<20, "size limit per URL download")
	return cmd
}

// validated is what classifyRun derives from the flags before any work.
type validated struct {
	format    string
	labels    []clip.Label
	names     []string
	templates []string
	shard     inputs.Shard
	warnings  []string // promptWarnings, for stderr and the summary
	report    *report.Collector
}

func validate(opts *ClassifyOptions) (*validated, error) {
	v := &validated{}
	var err error
	if v.format, err = outputFormat(opts.Factory); err != nil {
		return nil, err
	}
	if v.labels, err = parseLabelFlags(opts.Labels); err != nil {
		return nil, cmdutil.UsageErrorf("%v", err)
	}
	if opts.LabelsFile != "" {
		fromFile, err := readLabelsFile(opts.LabelsFile)
		if err != nil {
			return nil, cmdutil.UsageErrorf("%v", err)
		}
		v.labels = append(v.labels, fromFile...)
	}
	if len(v.labels) == 0 {
		return nil, cmdutil.UsageErrorf("no labels: give --labels a,b,c or --labels-file FILE")
	}
	v.templates = opts.Templates
	if opts.TemplateSet != "" {
		set, err := clip.TemplateSet(opts.TemplateSet)
		if err != nil {
			return nil, cmdutil.UsageErrorf("--templates: %v", err)
		}
		v.templates = append(v.templates, set...)
	}
	if _, err := clip.Prompts(v.labels, v.templates); err != nil {
		return nil, cmdutil.UsageErrorf("%v", err)
	}
	known := map[string]bool{clip.UnknownLabel: opts.Threshold > 0}
	for _, l := range v.labels {
		v.names = append(v.names, l.Name)
		known[l.Name] = true
	}
	for flag, list := range map[string][]string{"--expect": opts.Expect, "--fail-if": opts.FailIf} {
		for _, l := range list {
			if !known[l] {
				return nil, cmdutil.UsageErrorf("%s %q is not one of the labels (%s)", flag, l, strings.Join(v.names, ", "))
			}
		}
	}
	switch {
	case opts.Threshold < 0 || opts.Threshold > 1:
		return nil, cmdutil.UsageErrorf("--threshold must be between 0 and 1")
	case opts.MinScore < 0 || opts.MinScore > 1:
		return nil, cmdutil.UsageErrorf("--min-score must be between 0 and 1")
	case opts.TopK < 0:
		return nil, cmdutil.UsageErrorf("--top-k must be 0 (all) or more")
	case opts.MaxErrors < 0:
		return nil, cmdutil.UsageErrorf("--max-errors must be 0 or more")
	case modelload.CheckLanguage(opts.Language) != nil:
		return nil, modelload.CheckLanguage(opts.Language)
	case opts.BatchSize < 1 || opts.BatchSize > 1024:
		return nil, cmdutil.UsageErrorf("--batch-size must be between 1 and 1024")
	case opts.MaxMegapixels <= 0:
		return nil, cmdutil.UsageErrorf("--max-megapixels must be positive")
	}
	if opts.Shard != "" {
		if v.shard, err = inputs.ParseShard(opts.Shard); err != nil {
			return nil, cmdutil.UsageErrorf("%v", err)
		}
	}
	if len(opts.Args) == 0 {
		return nil, cmdutil.UsageErrorf("no images given (files, directories, globs, URLs, or - for a list on stdin)")
	}
	if err := cmdutil.CheckOutputFile("--summary", opts.Summary); err != nil {
		return nil, err
	}
	if err := cmdutil.CheckOutputFile("--junit", opts.JUnit); err != nil {
		return nil, err
	}
	if err := cmdutil.CheckOutputFile("--report", opts.Report); err != nil {
		return nil, err
	}
	if v.report, err = newReport(opts, v); err != nil {
		return nil, err
	}
	return v, nil
}

// tally collects what the summary reports.
type tally struct {
	queued                       int // inputs given (after --shard), processed or not
	images, errors, failedChecks int
	perLabel                     map[string]int
	interrupted                  bool
	prepare, infer               time.Duration
	firstFailures                []string
}

func classifyRun(ctx context.Context, opts *ClassifyOptions) error {
	v, err := validate(opts)
	if err != nil {
		return err
	}
	ios := opts.IO
	quiet := opts.Factory.Globals.Quiet
	start := time.Now()

	inOpts := opts.Inputs.Options(ios.In)
	inOpts.Offline = opts.Factory.Offline()
	in, err := inputs.Expand(ctx, opts.Args, inOpts)
	if err != nil {
		if ctx.Err() != nil {
			return cmdutil.NewExitError(ExitInterrupted, errors.New("interrupted"))
		}
		return cmdutil.UsageErrorf("%v", err)
	}
	if v.shard.N > 1 {
		kept := in[:0]
		for _, i := range in {
			if v.shard.Keeps(i.Name) {
				kept = append(kept, i)
			}
		}
		in = kept
	}
	if inputs.AllFailed(in) {
		// Nothing can be classified: say why without loading (or
		// downloading) a model.
		return reportUnreadable(ctx, opts, v, in)
	}

	// Ctrl-C before the images: the summary still says so.
	interruptedEarly := func(model Model, loadDur, textDur time.Duration) error {
		t := &tally{queued: len(in), perLabel: map[string]int{}, interrupted: true}
		return finish(ctx, opts, v, t, ctx.Err(), model, nil, loadDur, textDur, 0, opts.Factory.Threads())
	}
	model, err := opts.Open(ctx, opts)
	if err != nil {
		if ctx.Err() != nil {
			return interruptedEarly(nil, time.Since(start), 0)
		}
		return cmdutil.NewExitError(cmdutil.ExitRuntime, err)
	}
	defer model.Close()
	loadDur := time.Since(start)
	// The vision tower's one-off preparation (weight packing) runs beside
	// the prompts' encoding instead of inside the first batch; it must end
	// before the model closes (defers run last-in first-out).
	visionReady := make(chan struct{})
	go func() {
		defer close(visionReady)
		if p, ok := model.(interface {
			PrepareImages(context.Context, int) error
		}); ok {
			_ = p.PrepareImages(ctx, min(opts.BatchSize, len(in))) // a failure is the first batch's to report
		}
	}()
	defer func() { <-visionReady }()
	if len(v.templates) == 0 {
		v.templates = model.DefaultTemplates()
	}
	v.warnings = promptWarnings(v.labels, v.templates, tokenizerOf(model))
	for _, w := range v.warnings {
		if !quiet {
			fmt.Fprintf(ios.ErrOut, "clip: warning: %s\n", w)
		}
	}

	tText := time.Now()
	var enc clip.TextEncoder = model
	var cache *clip.TextCache
	if !opts.NoCache {
		if cache, err = clip.OpenTextCache(model.TextCacheDir(), model.CacheKey()); err == nil {
			if !quiet {
				cache.OnWriteError = func(err error) { fmt.Fprintf(ios.ErrOut, "clip: warning: text cache not saved: %v\n", err) }
			}
			enc = cache.Wrap(model)
		} else if !quiet {
			fmt.Fprintf(ios.ErrOut, "clip: warning: text cache unavailable: %v\n", err)
		}
	}
	zs, err := clip.NewZeroShot(ctx, enc, v.labels, v.templates, model.Scoring())
	if err != nil {
		if ctx.Err() != nil {
			return interruptedEarly(model, loadDur, time.Since(tText))
		}
		return cmdutil.NewExitError(cmdutil.ExitRuntime, fmt.Errorf("encoding labels: %w", err))
	}
	textDur := time.Since(tText)

	t := &tally{queued: len(in), perLabel: map[string]int{}}
	bar := cmdutil.NewProgress(ios, len(in), quiet, "classifying")
	out := newRecordWriter(v.format, bar.Guard(ios, ios.Out), v.names, fileNames(in), opts.Threshold > 0)
	if v.format == formatGitHub {
		if out, err = newGitHubWriter(bar.Guard(ios, ios.Out), v.names, fileNames(in), opts.Threshold > 0, len(in)); err != nil {
			return cmdutil.NewExitError(cmdutil.ExitRuntime, err)
		}
	}
	ci := newCIReport(opts, v)
	fetch := inputs.NewImageFetcher(decodeOptions(opts))
	fetch.MaxBytes, fetch.Timeout = opts.URLMaxBytes, opts.URLTimeout
	v.report.SetReread(rereadFiles(in, fetch))
	prepare := func(ctx context.Context, i int, dst []float32) error {
		data, err := fetch.Open(ctx, in[i])
		if err != nil {
			return err
		}
		v.report.Thumbnail(i, data)
		return model.PrepareImage(data, in[i].Name, dst)
	}
	tImages := time.Now()
	threads := opts.Factory.Threads()
	runErr := clip.EmbedImages(ctx, len(in), prepare, model, clip.PipelineOptions{BatchSize: opts.BatchSize, Workers: threads, InferThreads: threads},
		func(r clip.Result) error {
			rec := classifyResult(in[r.Index].Name, r, zs, opts, t)
			v.report.Add(r.Index, rec, failedWhy(opts, rec))
			if rec.Error != "" && !quiet {
				bar.Printf("clip: %s: %s\n", rec.File, rec.Error)
			}
			err := out.Write(rec)
			ci.add(rec, r.Prepare+r.Infer)
			bar.Add()
			return err
		})
	imagesDur := time.Since(tImages)
	bar.Done()
	if err := out.Close(); err != nil && runErr == nil {
		runErr = err
	}
	if err := ci.finish(ios.Out, ios.ErrOut); err != nil && runErr == nil {
		runErr = err
	}

	t.interrupted = runErr != nil && ctx.Err() != nil
	return finish(ctx, opts, v, t, runErr, model, cache, loadDur, textDur, imagesDur, threads)
}

// finish prints and writes the summaries (after Ctrl-C too, marked
// interrupted) and maps the outcome to the exit code.
func finish(ctx context.Context, opts *ClassifyOptions, v *validated, t *tally, runErr error, model Model, cache *clip.TextCache, loadDur, textDur, imagesDur time.Duration, threads int) error {
	if !opts.Factory.Globals.Quiet {
		printSummary(opts.IO.ErrOut, t, v.names, loadDur, textDur, imagesDur, cache)
	}
	if err := writeReport(ctx, opts, v, model); err != nil {
		return cmdutil.NewExitError(cmdutil.ExitRuntime, err)
	}
	if opts.Summary != "" {
		// After Ctrl-C the summary is still written: its provenance must
		// not fail on the cancelled context.
		if err := writeSummaryFile(context.WithoutCancel(ctx), opts, v, t, model, cache, loadDur, textDur, imagesDur, threads); err != nil {
			return cmdutil.NewExitError(cmdutil.ExitRuntime, err)
		}
	}
	switch {
	case runErr != nil && ctx.Err() != nil:
		return cmdutil.NewExitError(ExitInterrupted, errors.New("interrupted"))
	case runErr != nil:
		return cmdutil.NewExitError(cmdutil.ExitRuntime, runErr)
	case t.errors > opts.MaxErrors:
		return cmdutil.NewExitError(cmdutil.ExitInputErrors, fmt.Errorf("%d of %d inputs could not be classified (--max-errors %d)", t.errors, t.queued, opts.MaxErrors))
	case t.failedChecks > 0:
		return cmdutil.NewExitError(cmdutil.ExitCheckFailed, fmt.Errorf("%d of %d images failed the check: %s", t.failedChecks, t.images, strings.Join(t.firstFailures, "; ")))
	}
	return nil
}

// reportUnreadable writes one error record per input and exits as a run
// with only unreadable inputs does, without a model.
func reportUnreadable(ctx context.Context, opts *ClassifyOptions, v *validated, in []inputs.Input) error {
	out := newRecordWriter(v.format, opts.IO.Out, v.names, fileNames(in), opts.Threshold > 0)
	t := &tally{queued: len(in), perLabel: map[string]int{}}
	var runErr error
	for _, i := range in {
		rec := classifyResult(i.Name, clip.Result{Err: i.Err}, nil, opts, t)
		v.report.Add(v.report.Len(), rec, "")
		if !opts.Factory.Globals.Quiet {
			fmt.Fprintf(opts.IO.ErrOut, "clip: %s: %s\n", rec.File, rec.Error)
		}
		if runErr = out.Write(rec); runErr != nil {
			break
		}
	}
	if err := out.Close(); err != nil && runErr == nil {
		runErr = err
	}
	return finish(ctx, opts, v, t, runErr, nil, nil, 0, 0, 0, opts.Factory.Threads())
}

// classifyResult turns a pipeline result into a record and applies the checks.
func classifyResult(name string, r clip.Result, zs *clip.ZeroShot, opts *ClassifyOptions, t *tally) clip.Record {
	t.images++
	t.prepare += r.Prepare
	t.infer += r.Infer
	if r.Err != nil {
		t.errors++
		return clip.ErrorRecord(name, r.Err)
	}
	scores, err := zs.Classify(r.Embedding)
	if err != nil {
		t.errors++
		return clip.ErrorRecord(name, err)
	}
	rec := clip.NewRecord(name, scores, opts.TopK, opts.Threshold)
	t.perLabel[rec.Label]++
	if _, why := checkFailure(opts, rec); why != "" {
		t.failedChecks++
		if len(t.firstFailures) < 3 {
			t.firstFailures = append(t.firstFailures, why)
		}
	}
	return rec
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

func printSummary(w io.Writer, t *tally, labels []string, load, text, images time.Duration, cache *clip.TextCache) {
	ok := t.images - t.errors
	fmt.Fprintf(w, "classified %d of %d images", ok, t.queued)
	switch {
	case t.interrupted && t.errors > 0:
		fmt.Fprintf(w, " (interrupted; %d errors)", t.errors)
	case t.interrupted:
		fmt.Fprint(w, " (interrupted)")
	case t.errors > 0:
		fmt.Fprintf(w, " (%d errors)", t.errors)
	}
	fmt.Fprintf(w, " in %s: load %s, text %s", round(load+text+images), round(load), round(text))
	if cache != nil {
		fmt.Fprintf(w, " (%d prompts cached, %d encoded)", cache.Hits, cache.Misses)
	}
	if ok > 0 && images > 0 {
		// Per classified image: errors (often instant) would inflate the rate.
		fmt.Fprintf(w, ", %.1f ms/image, %.1f images/s", float64(images.Microseconds())/1000/float64(ok), float64(ok)/images.Seconds())
	}
	fmt.Fprintln(w)
	var parts []string
	for _, l := range append(append([]string(nil), labels...), clip.UnknownLabel) {
		if n := t.perLabel[l]; n > 0 {
			parts = append(parts, fmt.Sprintf("%s %d", l, n))
		}
	}
	if len(parts) > 0 {
		fmt.Fprintf(w, "  %s\n", strings.Join(parts, ", "))
	}
}

func round(d time.Duration) time.Duration {
	if d > time.Second {
		return d.Round(10 * time.Millisecond)
	}
	return d.Round(time.Millisecond)
}

// openModel loads --model with this command's decoding limits.
func openModel(ctx context.Context, opts *ClassifyOptions) (Model, error) {
	return modelload.Open(ctx, opts.Factory, modelload.Options{
		Variant:     opts.Variant,
		Decode:      decodeOptions(opts),
		ExactDecode: opts.ExactDecode,
		Language:    opts.Language,
	})
}

func decodeOptions(opts *ClassifyOptions) imageproc.DecodeOptions {
	return imageproc.DecodeOptions{NoEXIFRotate: opts.NoExifRotate, MaxMegapixels: opts.MaxMegapixels}
}

func writeSummaryFile(ctx context.Context, opts *ClassifyOptions, v *validated, t *tally, model Model, cache *clip.TextCache, load, text, images time.Duration, threads int) error {
	var prov any
	if model != nil {
		var err error
		if prov, err = model.Provenance(ctx); err != nil {
			return fmt.Errorf("--summary: %w", err)
		}
	}
	perLabel := map[string]int{}
	for k, n := range t.perLabel {
		perLabel[k] = n
	}
	labels := append([]string(nil), v.names...)
	sort.Strings(labels)
	s := map[string]any{
		"schema": clip.SchemaVersion,
		"tool": map[string]any{
			"name": "clip", "version": opts.Factory.Version, "commit": opts.Factory.Commit,
			"go": runtime.Version(), "os": runtime.GOOS, "arch": runtime.GOARCH,
		},
		"model":     prov,
		"labels":    v.names,
		"templates": templatesUsed(v.templates),
		"warnings":  append([]string{}, v.warnings...),
		"threads":   threads, "batch_size": opts.BatchSize,
		"interrupted": t.interrupted,
		"counts": map[string]any{
			"inputs": t.queued, "images": t.images, "classified": t.images - t.errors, "errors": t.errors,
			"failed_checks": t.failedChecks, "per_label": perLabel,
		},
		"checks": map[string]any{"expect": opts.Expect, "fail_if": opts.FailIf, "min_score": opts.MinScore, "max_errors": opts.MaxErrors},
		"timing": map[string]any{
			"load_ms": ms(load), "text_ms": ms(text), "images_ms": ms(images),
			"per_image_ms":      perImage(images, t.images-t.errors),
			"images_per_second": perSecond(images, t.images-t.errors),
		},
	}
	if cache != nil {
		s["text_cache"] = map[string]any{"path": cache.Path(), "hits": cache.Hits, "encoded": cache.Misses}
	}
	b, err := json.MarshalIndent(s, "", "  ")
	if err != nil {
		return err
	}
	if err := os.WriteFile(opts.Summary, append(b, '\n'), 0o644); err != nil {
		return fmt.Errorf("--summary: %w", err)
	}
	return nil
}

func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }

func perImage(d time.Duration, n int) float64 {
	if n == 0 {
		return 0
	}
	return ms(d) / float64(n)
}

func perSecond(d time.Duration, n int) float64 {
	if d <= 0 || n == 0 {
		return 0
	}
	return float64(n) / d.Seconds()
}
