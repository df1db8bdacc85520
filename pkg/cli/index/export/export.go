// Package export implements `clip index export`: write an index's paths,
// file facts and vectors as Parquet (or JSON lines) for DuckDB, pandas,
// LanceDB, faiss or Spark.
package export

import (
	"context"
	"errors"
	"fmt"
	"io"
	"iter"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"time"

	"github.com/parquet-go/parquet-go"
	"github.com/spf13/cobra"

	"github.com/clip-go/clip/pkg/cli/cmdutil"
	"github.com/clip-go/clip/pkg/cli/iostreams"
	"github.com/clip-go/clip/pkg/clip"
	"github.com/clip-go/clip/pkg/index"
)

// defaultIndex matches `clip index`'s default (the README documents both).
const defaultIndex = "clip-index.sqlite"

// FormatParquet is export's own --format value, and its default.
const FormatParquet = "parquet"

// rowGroupRows bounds a Parquet row group: 64k vectors of 512 floats are
// 128 MiB before compression, what readers hold while decoding one group.
const rowGroupRows = 1 << 16

// ExportOptions are the flags of one `clip index export`.
type ExportOptions struct {
	IO      *iostreams.IOStreams
	Factory *cmdutil.Factory

	Index  string
	Output string
	Under  string
}

// NewCmdExport returns `clip index export`; runF replaces exportRun in
// flag tests.
func NewCmdExport(f *cmdutil.Factory, runF func(*ExportOptions) error) *cobra.Command {
	opts := &ExportOptions{IO: f.IOStreams, Factory: f}
	cmd := &cobra.Command{
		Use:   "export -o FILE [--format parquet|jsonl|json]",
		Short: "Write an index's paths and vectors as Parquet (or JSON lines)",
		Long: `Write every indexed image (or those --under a directory), in path order, to
a Parquet file (the default format) with the columns

  path    string               absolute path
  size    int64                bytes
  mtime   timestamp[ns, UTC]   modification time
  sha256  string               content hash (hex)
  vector  list<float32>        the embedding (unit length, float16 as stored)

and the model that made the vectors as file key-value metadata
(clip.model_id, clip.model_revision, clip.model_fingerprint,
clip.model_sha256, clip.variant, clip.preprocess, clip.dim). The vector is
a standard Parquet LIST: DuckDB reads it as FLOAT[] (and mtime at
microsecond precision), pyarrow, pandas and Polars as a list of float32;
LanceDB's vector search wants it cast to a fixed-size list of the model's
width (clip.dim).

--format jsonl writes one {"schema":1,"file":…,"size":…,"mtime":…,
"sha256":…,"embedding":[…]} per line instead (json: one array). -o - is
stdout.

A directory named "export" is indexed with 'clip index ./export'.`,
		Example: `  clip index export -o photos.parquet
  duckdb -c "SELECT path FROM 'photos.parquet' ORDER BY list_cosine_similarity(vector, (SELECT vector FROM 'photos.parquet' WHERE path LIKE '%IMG_0042.jpg')) DESC LIMIT 5"
  clip index export --index photos.sqlite --format jsonl -o - | jq -r .file`,
		Args:        cobra.NoArgs,
		Annotations: map[string]string{cmdutil.AnnotationExtraFormat: FormatParquet},
		RunE: func(cmd *cobra.Command, args []string) error {
			if runF != nil {
				return runF(opts)
			}
			return exportRun(cmd.Context(), opts)
		},
	}
	// `clip index -r export` reaches this command with index's flags.
	cmd.SetFlagErrorFunc(func(c *cobra.Command, err error) error {
		return cmdutil.UsageErrorf("%v (see 'clip index export --help'; to index a directory named export, write 'clip index ./export')", err)
	})
	fl := cmd.Flags()
	fl.StringVar(&opts.Index, "index", defaultIndex, "index file made by 'clip index'")
	fl.StringVarP(&opts.Output, "output", "o", "", `file to write ("-": stdout)`)
	fl.StringVar(&opts.Under, "under", "", "only images under this directory (or path prefix)")
	return cmd
}

func exportRun(ctx context.Context, opts *ExportOptions) error {
	format := opts.Factory.Globals.Format
	switch format {
	case "":
		format = FormatParquet
	case FormatParquet, cmdutil.FormatJSONL, cmdutil.FormatJSON:
	default:
		return cmdutil.UsageErrorf("clip index export: --format %s: want parquet, jsonl or json", format)
	}
	switch {
	case opts.Output == "":
		return cmdutil.UsageErrorf("clip index export: -o FILE is required (to index a directory named export, write 'clip index ./export')")
	case opts.Output == "-" && format == FormatParquet && opts.IO.IsStdoutTTY():
		return cmdutil.UsageErrorf("clip index export: not writing Parquet to a terminal: give -o FILE")
	}
	if err := cmdutil.CheckOutputFile("-o", opts.Output); err != nil {
		return err
	}
	if err := cmdutil.CheckIndexFile(opts.Index); err != nil {
		return err
	}
	keep, err := cmdutil.UnderFilter(opts.Under)
	if err != nil {
		return cmdutil.UsageErrorf("--under: %v", err)
	}
	t, err := load(ctx, opts.Index, keep)
	if err != nil {
		if ctx.Err() != nil {
			return cmdutil.NewExitError(cmdutil.ExitInterrupted, errors.New("interrupted"))
		}
		return cmdutil.NewExitError(cmdutil.ExitRuntime, err)
	}
	if err := writeFile(ctx, opts, format, t); err != nil {
		if ctx.Err() != nil {
			return cmdutil.NewExitError(cmdutil.ExitInterrupted, errors.New("interrupted"))
		}
		return cmdutil.NewExitError(cmdutil.ExitRuntime, err)
	}
	if !opts.Factory.Globals.Quiet && opts.Output != "-" {
		fmt.Fprintf(opts.IO.ErrOut, "clip: %s: %d images (%s) from %s\n", opts.Output, len(t.files), format, opts.Index)
	}
	return nil
}

// Row is one exported image; the parquet tags are the file's schema.
type Row struct {
	Path   string    `parquet:"path"`
	Size   int64     `parquet:"size"`
	Mtime  time.Time `parquet:"mtime,timestamp(nanosecond:utc)"`
	SHA256 string    `parquet:"sha256"`
	Vector []float32 `parquet:"vector,list"`
}

// table is what an export writes: the files in path order, each with its
// row in vecs. Vectors stay float16 until written, a chunk at a time: a
// million 512-d images are 1 GiB as loaded, 2 GiB more as float32.
type table struct {
	files []index.File
	rows  []int
	vecs  *index.Vectors
	meta  index.Meta
}

// load joins the index's file facts with its vectors.
func load(ctx context.Context, path string, keep func(string) bool) (*table, error) {
	ix, err := index.Open(ctx, path, index.Options{ReadOnly: true})
	if err != nil {
		return nil, err
	}
	defer ix.Close()
	t := &table{}
	if t.meta, _, err = ix.Meta(ctx); err != nil {
		return nil, err
	}
	files, err := ix.Files(ctx)
	if err != nil {
		return nil, err
	}
	if t.vecs, err = ix.Load(ctx, keep); err != nil {
		return nil, err
	}
	row := make(map[string]int, t.vecs.Len())
	for i, p := range t.vecs.Paths {
		row[p] = i
	}
	for _, f := range files {
		if i, ok := row[f.Path]; ok { // --under, and rows without a vector, leave files out
			t.files = append(t.files, f)
			t.rows = append(t.rows, i)
		}
	}
	sort.Sort(byPath{t})
	return t, nil
}

type byPath struct{ *table }

func (b byPath) Len() int           { return len(b.files) }
func (b byPath) Less(i, j int) bool { return b.files[i].Path < b.files[j].Path }
func (b byPath) Swap(i, j int) {
	b.files[i], b.files[j] = b.files[j], b.files[i]
	b.rows[i], b.rows[j] = b.rows[j], b.rows[i]
}

// all yields the rows in path order until ctx is done.
func (t *table) all(ctx context.Context) iter.Seq[Row] {
	return func(yield func(Row) bool) {
		for i, f := range t.files {
			if i%1024 == 0 && ctx.Err() != nil {
				return
			}
			r := Row{Path: f.Path, Size: f.Size, Mtime: time.Unix(0, f.MtimeNs).UTC(), SHA256: f.SHA256, Vector: t.vecs.Float32(t.rows[i])}
			if !yield(r) {
				return
			}
		}
	}
}

// writeFile writes through a temporary file renamed into place, so that a
// failed or interrupted export leaves no truncated file behind.
func writeFile(ctx context.Context, opts *ExportOptions, format string, t *table) error {
	emit := func(w io.Writer) error {
		err := write(w, format, t.all(ctx), t.meta, opts.Factory.Version)
		if err == nil {
			err = ctx.Err()
		}
		return err
	}
	if opts.Output == "-" {
		return emit(opts.IO.Out)
	}
	tmp, err := os.CreateTemp(filepath.Dir(opts.Output), "."+filepath.Base(opts.Output)+".*")
	if err != nil {
		return fmt.Errorf("-o %s: %w", opts.Output, err)
	}
	defer os.Remove(tmp.Name())
	if err := emit(tmp); err != nil {
		tmp.Close()
		return fmt.Errorf("-o %s: %w", opts.Output, err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("-o %s: %w", opts.Output, err)
	}
	if err := os.Chmod(tmp.Name(), 0o644); err != nil {
		return fmt.Errorf("-o %s: %w", opts.Output, err)
	}
	if err := os.Rename(tmp.Name(), opts.Output); err != nil {
		return fmt.Errorf("-o %s: %w", opts.Output, err)
	}
	return nil
}

func write(w io.Writer, format string, rows iter.Seq[Row], meta index.Meta, version string) error {
	if format == FormatParquet {
		return writeParquet(w, rows, meta, version)
	}
	return cmdutil.WriteJSONRecords(w, format, func(yield func(jsonRecord) bool) {
		for r := range rows {
			if !yield(jsonRecord{Schema: clip.SchemaVersion, File: r.Path, Size: r.Size, Mtime: r.Mtime, SHA256: r.SHA256, Embedding: r.Vector}) {
				return
			}
		}
	})
}

type jsonRecord struct {
	Schema    int       `json:"schema"`
	File      string    `json:"file"`
	Size      int64     `json:"size"`
	Mtime     time.Time `json:"mtime"`
	SHA256    string    `json:"sha256"`
	Embedding []float32 `json:"embedding"`
}

func writeParquet(w io.Writer, rows iter.Seq[Row], meta index.Meta, version string) error {
	pw := parquet.NewGenericWriter[Row](w,
		parquet.Compression(&parquet.Snappy),
		parquet.MaxRowsPerRowGroup(rowGroupRows),
		parquet.CreatedBy("clip", version, ""),
	)
	for _, kv := range [][2]string{
		{"clip.schema", strconv.Itoa(clip.SchemaVersion)},
		{"clip.model_id", meta.ModelID},
		{"clip.model_revision", meta.Revision},
		{"clip.model_fingerprint", meta.Fingerprint},
		{"clip.model_sha256", meta.ModelSHA256},
		{"clip.variant", meta.Variant},
		{"clip.preprocess", meta.Preprocess},
		{"clip.dim", strconv.Itoa(meta.Dim)},
		{"clip.stored_encoding", index.Encoding},
	} {
		pw.SetKeyValueMetadata(kv[0], kv[1])
	}
	chunk := make([]Row, 0, 1024)
	flush := func() error {
		_, err := pw.Write(chunk)
		chunk = chunk[:0]
		return err
	}
	for r := range rows {
		if chunk = append(chunk, r); len(chunk) == cap(chunk) {
			if err := flush(); err != nil {
				return err
			}
		}
	}
	if err := flush(); err != nil {
		return err
	}
	return pw.Close()
}
