// Package export implements `clip index export`: write an index's paths,
// file facts and vectors as Parquet (or JSON lines) for DuckDB, pandas,
// LanceDB, faiss or Spark.
package export

import (
	"context"
	"errors"
	"fmt"
	"io"
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
	keep, err := index.Under(opts.Under)
	if err != nil {
		return cmdutil.UsageErrorf("--under: %v", err)
	}
	rows, meta, err := load(ctx, opts.Index, keep)
	if err != nil {
		if ctx.Err() != nil {
			return cmdutil.NewExitError(cmdutil.ExitInterrupted, errors.New("interrupted"))
		}
		return cmdutil.NewExitError(cmdutil.ExitRuntime, err)
	}
	if err := writeFile(opts, format, rows, meta); err != nil {
		return cmdutil.NewExitError(cmdutil.ExitRuntime, err)
	}
	if !opts.Factory.Globals.Quiet && opts.Output != "-" {
		fmt.Fprintf(opts.IO.ErrOut, "clip: %s: %d images (%s) from %s\n", opts.Output, len(rows), format, opts.Index)
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

// load joins the index's file facts with its vectors, in path order.
func load(ctx context.Context, path string, keep func(string) bool) ([]Row, index.Meta, error) {
	ix, err := index.Open(ctx, path, index.Options{ReadOnly: true})
	if err != nil {
		return nil, index.Meta{}, err
	}
	defer ix.Close()
	meta, _, err := ix.Meta(ctx)
	if err != nil {
		return nil, meta, err
	}
	files, err := ix.Files(ctx)
	if err != nil {
		return nil, meta, err
	}
	vecs, err := ix.Load(ctx, keep)
	if err != nil {
		return nil, meta, err
	}
	byPath := make(map[string]index.File, len(files))
	for _, f := range files {
		byPath[f.Path] = f
	}
	rows := make([]Row, 0, vecs.Len())
	for i, p := range vecs.Paths {
		f := byPath[p] // written with the vector: an index row has both
		rows = append(rows, Row{Path: p, Size: f.Size, Mtime: time.Unix(0, f.MtimeNs).UTC(), SHA256: f.SHA256, Vector: vecs.Float32(i)})
	}
	sort.Slice(rows, func(a, b int) bool { return rows[a].Path < rows[b].Path })
	return rows, meta, nil
}

// writeFile writes through a temporary file renamed into place, so that a
// failed or interrupted export leaves no truncated file behind.
func writeFile(opts *ExportOptions, format string, rows []Row, meta index.Meta) error {
	if opts.Output == "-" {
		return write(opts.IO.Out, format, rows, meta, opts.Factory.Version)
	}
	tmp, err := os.CreateTemp(filepath.Dir(opts.Output), "."+filepath.Base(opts.Output)+".*")
	if err != nil {
		return fmt.Errorf("-o %s: %w", opts.Output, err)
	}
	defer os.Remove(tmp.Name())
	if err := write(tmp, format, rows, meta, opts.Factory.Version); err != nil {
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

func write(w io.Writer, format string, rows []Row, meta index.Meta, version string) error {
	if format == FormatParquet {
		return writeParquet(w, rows, meta, version)
	}
	recs := make([]jsonRecord, len(rows))
	for i, r := range rows {
		recs[i] = jsonRecord{Schema: clip.SchemaVersion, File: r.Path, Size: r.Size, Mtime: r.Mtime, SHA256: r.SHA256, Embedding: r.Vector}
	}
	return cmdutil.WriteJSONRecords(w, format, recs)
}

type jsonRecord struct {
	Schema    int       `json:"schema"`
	File      string    `json:"file"`
	Size      int64     `json:"size"`
	Mtime     time.Time `json:"mtime"`
	SHA256    string    `json:"sha256"`
	Embedding []float32 `json:"embedding"`
}

// writeParquet writes rows as one Parquet file. The vector is a standard
// (three-level) LIST of FLOAT, not a fixed-size list: Parquet has no
// fixed-size list type (Arrow keeps its fixed_size_list only through its
// own serialized schema in the metadata), and a plain LIST is what every
// reader maps to its list type: DuckDB FLOAT[], Arrow list<float>, Polars
// List(Float32). Snappy compression: readers all have it built in (vectors
// barely compress; paths and hashes a little).
func writeParquet(w io.Writer, rows []Row, meta index.Meta, version string) error {
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
	for len(rows) > 0 {
		n := min(len(rows), 1024)
		if _, err := pw.Write(rows[:n]); err != nil {
			return err
		}
		rows = rows[n:]
	}
	return pw.Close()
}
