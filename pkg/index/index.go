// Package index keeps CLIP image embeddings in one SQLite file (through
// modernc.org/sqlite, pure Go) so that a photo collection is embedded once
// and searched many times: the meta table says which model and
// preprocessing made the vectors, the images table holds one row per file
// (path, size, mtime, content sha256, float16 embedding).
//
// Writers commit in batches in WAL mode: a process killed mid-run leaves
// the batches it committed and an index that opens; two writers wait for
// each other's transactions (busy timeout) instead of corrupting the file.
package index

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net/url"
	"os"
	"strconv"
	"strings"
	"time"

	_ "modernc.org/sqlite" // registers the "sqlite" driver
)

// SchemaVersion is the layout of the tables below; an index with another
// version is refused rather than misread.
const SchemaVersion = 1

// Encoding names how embeddings are stored in images.embedding.
const Encoding = "float16"

const schema = `
CREATE TABLE IF NOT EXISTS meta (
	key   TEXT PRIMARY KEY,
	value TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS images (
	path       TEXT PRIMARY KEY,
	size       INTEGER NOT NULL,
	mtime_ns   INTEGER NOT NULL,
	sha256     TEXT NOT NULL,
	embedding  BLOB NOT NULL,
	indexed_at INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS images_sha256 ON images(sha256);
` + generationSchema

// busyTimeout is how long a writer waits for another writer's transaction.
const busyTimeout = 5 * time.Minute

// Meta says what made an index's vectors. Fingerprint covers everything
// that changes them (model file hashes, variant, preprocessing, decode
// mode); the other fields are for people reading the index.
type Meta struct {
	ModelID     string
	Revision    string
	Fingerprint string
	ModelSHA256 string // JSON object: model file → sha256
	Variant     string
	Preprocess  string // JSON of the preprocessing config, decode mode included
	Dim         int
}

func (m Meta) pairs() [][2]string {
	return [][2]string{
		{"schema_version", strconv.Itoa(SchemaVersion)},
		{"encoding", Encoding},
		{"model_id", m.ModelID},
		{"model_revision", m.Revision},
		{"model_fingerprint", m.Fingerprint},
		{"model_sha256", m.ModelSHA256},
		{"variant", m.Variant},
		{"preprocess", m.Preprocess},
		{"dim", strconv.Itoa(m.Dim)},
	}
}

// Index is an open index file.
type Index struct {
	db   *sql.DB
	path string
}

// Options tune Open.
type Options struct {
	// ReadOnly opens an existing index for searching; it is an error if the
	// file does not exist.
	ReadOnly bool
}

// Open opens (creating when needed, unless ReadOnly) the index at path.
func Open(ctx context.Context, path string, opt Options) (*Index, error) {
	if opt.ReadOnly {
		if _, err := os.Stat(path); err != nil {
			return nil, fmt.Errorf("index %s: %w", path, err)
		}
	}
	// Two processes creating one new index race to switch it to WAL, and
	// SQLite answers the loser SQLITE_BUSY at once, without consulting the
	// busy handler (the journal mode is set while the connection opens).
	// Once the file is in WAL mode the busy timeout covers every wait, so
	// only this first step is retried.
	deadline := time.Now().Add(busyTimeout)
	for delay := 10 * time.Millisecond; ; delay = min(2*delay, time.Second) {
		ix, err := open(ctx, path, opt)
		if err == nil || !isBusy(err) || time.Now().After(deadline) {
			return ix, err
		}
		select {
		case <-ctx.Done():
			return nil, fmt.Errorf("index %s: %w", path, ctx.Err())
		case <-time.After(delay):
		}
	}
}

func open(ctx context.Context, path string, opt Options) (*Index, error) {
	q := url.Values{}
	q.Add("_pragma", fmt.Sprintf("busy_timeout(%d)", busyTimeout.Milliseconds()))
	q.Add("_pragma", "journal_mode(WAL)")
	q.Add("_pragma", "synchronous(NORMAL)")
	q.Set("_txlock", "immediate")
	if opt.ReadOnly {
		q.Set("mode", "ro")
	}
	db, err := sql.Open("sqlite", "file:"+(&url.URL{Path: path}).EscapedPath()+"?"+q.Encode())
	if err != nil {
		return nil, fmt.Errorf("index %s: %w", path, err)
	}
	ix := &Index{db: db, path: path}
	if !opt.ReadOnly {
		if err := ix.tx(ctx, func(tx *sql.Tx) error { _, err := tx.ExecContext(ctx, schema); return err }); err != nil {
			db.Close()
			return nil, err
		}
	}
	if v, ok, err := ix.metaValue(ctx, "schema_version"); err != nil {
		db.Close()
		return nil, err
	} else if ok && v != strconv.Itoa(SchemaVersion) {
		db.Close()
		return nil, fmt.Errorf("index %s: schema version %s, this clip reads version %d", path, v, SchemaVersion)
	}
	return ix, nil
}

// isBusy reports whether err is SQLite's SQLITE_BUSY (any extended code).
func isBusy(err error) bool {
	var e interface{ Code() int }
	return errors.As(err, &e) && e.Code()&0xff == 5
}

// Path is the index file.
func (ix *Index) Path() string { return ix.path }

// Close closes the file.
func (ix *Index) Close() error { return ix.db.Close() }

func (ix *Index) metaValue(ctx context.Context, key string) (string, bool, error) {
	var v string
	err := ix.db.QueryRowContext(ctx, `SELECT value FROM meta WHERE key = ?`, key).Scan(&v)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return "", false, nil
	case err != nil && strings.Contains(err.Error(), "no such table"):
		return "", false, fmt.Errorf("index %s: not a clip index (no meta table)", ix.path)
	case err != nil:
		return "", false, fmt.Errorf("index %s: %w", ix.path, err)
	}
	return v, true, nil
}

// Meta returns what made the index's vectors; ok is false for a new,
// empty index.
func (ix *Index) Meta(ctx context.Context) (m Meta, ok bool, err error) {
	rows, err := ix.db.QueryContext(ctx, `SELECT key, value FROM meta`)
	if err != nil {
		return m, false, fmt.Errorf("index %s: %w", ix.path, err)
	}
	defer rows.Close()
	for rows.Next() {
		var k, v string
		if err := rows.Scan(&k, &v); err != nil {
			return m, false, fmt.Errorf("index %s: %w", ix.path, err)
		}
		ok = true
		switch k {
		case "model_id":
			m.ModelID = v
		case "model_revision":
			m.Revision = v
		case "model_fingerprint":
			m.Fingerprint = v
		case "model_sha256":
			m.ModelSHA256 = v
		case "variant":
			m.Variant = v
		case "preprocess":
			m.Preprocess = v
		case "dim":
			m.Dim, _ = strconv.Atoi(v)
		}
	}
	return m, ok, rows.Err()
}

// MismatchError says an index was made by another model (or variant,
// preprocessing, decode mode) than the one in use.
type MismatchError struct {
	Path      string
	Index, Do Meta
}

func (e *MismatchError) Error() string {
	if e.Index.ModelID == e.Do.ModelID && e.Index.Variant == e.Do.Variant {
		return fmt.Sprintf("index %s was made with model %s (%s) but other model files, preprocessing or decode mode (--exact-decode): %s, not %s",
			e.Path, e.Index.ModelID, e.Index.Variant, e.Index.Preprocess, e.Do.Preprocess)
	}
	return fmt.Sprintf("index %s was made with model %s (%s, fingerprint %.12s), not %s (%s, fingerprint %.12s)",
		e.Path, e.Index.ModelID, e.Index.Variant, e.Index.Fingerprint, e.Do.ModelID, e.Do.Variant, e.Do.Fingerprint)
}

// Check returns a *MismatchError unless the index is empty or was made with
// the model m describes.
func (ix *Index) Check(ctx context.Context, m Meta) error {
	have, ok, err := ix.Meta(ctx)
	if err != nil || !ok {
		return err
	}
	if have.Fingerprint != m.Fingerprint || (have.Dim != 0 && m.Dim != 0 && have.Dim != m.Dim) {
		return &MismatchError{Path: ix.path, Index: have, Do: m}
	}
	return nil
}

// Reset empties the index and records m as its model (--rebuild).
func (ix *Index) Reset(ctx context.Context, m Meta) error {
	return ix.tx(ctx, func(tx *sql.Tx) error {
		for _, s := range []string{`DELETE FROM images`, `DELETE FROM meta`} {
			if _, err := tx.ExecContext(ctx, s); err != nil {
				return err
			}
		}
		return putMeta(ctx, tx, m)
	})
}

// SetMeta records m as the index's model, keeping its images (the caller
// has checked they were made with it).
func (ix *Index) SetMeta(ctx context.Context, m Meta) error {
	return ix.tx(ctx, func(tx *sql.Tx) error { return putMeta(ctx, tx, m) })
}

func putMeta(ctx context.Context, tx *sql.Tx, m Meta) error {
	for _, kv := range m.pairs() {
		if _, err := tx.ExecContext(ctx, `INSERT OR REPLACE INTO meta(key, value) VALUES (?, ?)`, kv[0], kv[1]); err != nil {
			return err
		}
	}
	return nil
}

func (ix *Index) tx(ctx context.Context, fn func(*sql.Tx) error) error {
	tx, err := ix.db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("index %s: %w", ix.path, err)
	}
	if err := fn(tx); err != nil {
		_ = tx.Rollback()
		return fmt.Errorf("index %s: %w", ix.path, err)
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("index %s: %w", ix.path, err)
	}
	return nil
}

// File is what the index knows about one indexed file.
type File struct {
	Path    string
	Size    int64
	MtimeNs int64
	SHA256  string
}

// Files lists every indexed file (without embeddings).
func (ix *Index) Files(ctx context.Context) ([]File, error) {
	rows, err := ix.db.QueryContext(ctx, `SELECT path, size, mtime_ns, sha256 FROM images`)
	if err != nil {
		return nil, fmt.Errorf("index %s: %w", ix.path, err)
	}
	defer rows.Close()
	var out []File
	for rows.Next() {
		var f File
		if err := rows.Scan(&f.Path, &f.Size, &f.MtimeNs, &f.SHA256); err != nil {
			return nil, fmt.Errorf("index %s: %w", ix.path, err)
		}
		out = append(out, f)
	}
	return out, rows.Err()
}

// Change is one write of a batch: Put (Embedding set), Move (From set:
// the row of From moves to File.Path, keeping its vector), Copy (CopyOf
// set: a new row with CopyOf's vector), Touch (only size and mtime change)
// or Delete.
type Change struct {
	File      File
	Embedding []float32
	From      string
	CopyOf    string
	Touch     bool
	Delete    bool
}

// Apply writes changes in one transaction.
func (ix *Index) Apply(ctx context.Context, changes []Change) error {
	now := time.Now().Unix()
	return ix.tx(ctx, func(tx *sql.Tx) error {
		for _, c := range changes {
			f := c.File
			var err error
			switch {
			case c.Delete:
				_, err = tx.ExecContext(ctx, `DELETE FROM images WHERE path = ?`, f.Path)
			case c.Touch:
				_, err = tx.ExecContext(ctx, `UPDATE images SET size = ?, mtime_ns = ? WHERE path = ?`, f.Size, f.MtimeNs, f.Path)
			case c.From != "":
				if _, err = tx.ExecContext(ctx, `DELETE FROM images WHERE path = ?`, f.Path); err == nil {
					_, err = tx.ExecContext(ctx, `UPDATE images SET path = ?, size = ?, mtime_ns = ?, sha256 = ?, indexed_at = ? WHERE path = ?`,
						f.Path, f.Size, f.MtimeNs, f.SHA256, now, c.From)
				}
			case c.CopyOf != "":
				_, err = tx.ExecContext(ctx, `INSERT OR REPLACE INTO images(path, size, mtime_ns, sha256, embedding, indexed_at)
					SELECT ?, ?, ?, ?, embedding, ? FROM images WHERE path = ?`, f.Path, f.Size, f.MtimeNs, f.SHA256, now, c.CopyOf)
			default:
				_, err = tx.ExecContext(ctx, `INSERT OR REPLACE INTO images(path, size, mtime_ns, sha256, embedding, indexed_at)
					VALUES (?, ?, ?, ?, ?, ?)`, f.Path, f.Size, f.MtimeNs, f.SHA256, halfBytes(Encode(c.Embedding)), now)
			}
			if err != nil {
				return fmt.Errorf("%s: %w", f.Path, err)
			}
		}
		return nil
	})
}

// Count is the number of indexed images.
func (ix *Index) Count(ctx context.Context) (int, error) {
	var n int
	err := ix.db.QueryRowContext(ctx, `SELECT count(*) FROM images`).Scan(&n)
	return n, err
}

// IntegrityCheck runs SQLite's PRAGMA integrity_check and returns its
// answer ("ok" when the file is sound).
func (ix *Index) IntegrityCheck(ctx context.Context) (string, error) {
	var s string
	err := ix.db.QueryRowContext(ctx, `PRAGMA integrity_check`).Scan(&s)
	return s, err
}

// loadRows reads every vector from the images table, and the generation
// it belongs to (ok false when the index has no generation counter: an
// index opened read-only before a writer added it, or its triggers were
// dropped), in one statement, hence one read snapshot.
func (ix *Index) loadRows(ctx context.Context, dim int) (v *Vectors, gen generation, err error) {
	// One read transaction on one connection, so that the generation and
	// the rows are one snapshot. (Selecting the generation with every row
	// as a scalar subquery made reading 1M rows ten times slower.)
	conn, err := ix.db.Conn(ctx)
	if err != nil {
		return nil, gen, fmt.Errorf("index %s: %w", ix.path, err)
	}
	defer conn.Close()
	if _, err := conn.ExecContext(ctx, `BEGIN DEFERRED`); err != nil {
		return nil, gen, fmt.Errorf("index %s: %w", ix.path, err)
	}
	defer conn.ExecContext(context.WithoutCancel(ctx), `ROLLBACK`)
	if gen, err = ix.generationOf(ctx, conn); err != nil {
		return nil, gen, err
	}
	v = &Vectors{Dim: dim}
	var n int
	if err := conn.QueryRowContext(ctx, `SELECT count(*) FROM images`).Scan(&n); err == nil {
		v.Paths = make([]string, 0, n)
		v.Codes = make([]uint16, 0, n*dim)
	}
	// Table order, not path order: ORDER BY path would visit the rows
	// through the primary-key index, several times slower on big indexes.
	rows, err := conn.QueryContext(ctx, `SELECT path, embedding FROM images`)
	if err != nil {
		return nil, gen, fmt.Errorf("index %s: %w", ix.path, err)
	}
	defer rows.Close()
	for rows.Next() {
		var p string
		var blob sql.RawBytes // read in place: copied into Codes
		if err := rows.Scan(&p, &blob); err != nil {
			return nil, gen, fmt.Errorf("index %s: %w", ix.path, err)
		}
		if len(blob) != 2*dim {
			return nil, gen, fmt.Errorf("index %s: %s: embedding of %d bytes, want %d (%d float16 values)", ix.path, p, len(blob), 2*dim, dim)
		}
		v.Paths = append(v.Paths, p)
		v.Codes = appendHalves(v.Codes, blob)
	}
	if err := rows.Err(); err != nil {
		return nil, gen, fmt.Errorf("index %s: %w", ix.path, err)
	}
	v.quantize()
	return v, gen, nil
}

// Load reads the vectors of the files keep accepts (all when keep is nil)
// for searching: from the vector file beside the index when it is of the
// index's current generation (mapped, not read), else from SQLite, and
// then it writes the vector file for the next search (best effort: a
// read-only directory only costs the next search the same wait). Close
// the Vectors when done with them.
func (ix *Index) Load(ctx context.Context, keep func(path string) bool) (*Vectors, error) {
	m, ok, err := ix.Meta(ctx)
	if err != nil {
		return nil, err
	}
	if !ok {
		return &Vectors{Dim: m.Dim}, nil
	}
	gen, err := ix.generation(ctx)
	if err != nil {
		return nil, err
	}
	if gen.ok {
		if v, err := readVectorFile(VectorFile(ix.path), gen, m.Dim); err == nil {
			return v.filter(keep), nil
		}
	}
	v, gen, err := ix.loadRows(ctx, m.Dim)
	if err != nil {
		return nil, err
	}
	if gen.ok {
		_ = writeVectorFile(VectorFile(ix.path), v, gen)
	}
	return v.filter(keep), nil
}
