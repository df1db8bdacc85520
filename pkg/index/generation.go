package index

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
)

// The vector file (vecfile.go) is derived from the images table; SQLite
// stays the source of truth. Every change to an image's path or vector
// bumps vectors_state.generation through triggers, which live in the
// schema and so fire for every writer: this clip, an older one, or a
// person with the sqlite3 shell. uid is random per index file, so a
// vector file never matches an index that replaced its own (same name,
// same generation count, other rows). Touches (size, mtime) and meta
// changes do not bump it: they leave the vectors as they were, and Load
// compares the dimension with meta itself.
const generationSchema = `
CREATE TABLE IF NOT EXISTS vectors_state (
	id         INTEGER PRIMARY KEY CHECK (id = 1),
	uid        TEXT NOT NULL,
	generation INTEGER NOT NULL
);
INSERT OR IGNORE INTO vectors_state(id, uid, generation) VALUES (1, lower(hex(randomblob(16))), 0);
CREATE TRIGGER IF NOT EXISTS vectors_gen_insert AFTER INSERT ON images
	BEGIN UPDATE vectors_state SET generation = generation + 1; END;
CREATE TRIGGER IF NOT EXISTS vectors_gen_update AFTER UPDATE OF path, embedding ON images
	BEGIN UPDATE vectors_state SET generation = generation + 1; END;
CREATE TRIGGER IF NOT EXISTS vectors_gen_delete AFTER DELETE ON images
	BEGIN UPDATE vectors_state SET generation = generation + 1; END;
`

var generationTriggers = []string{"vectors_gen_insert", "vectors_gen_update", "vectors_gen_delete"}

// triggerCount counts the generation triggers present: without all three
// a write could leave the generation unchanged, so it cannot be trusted.
const triggerCount = `(SELECT count(*) FROM sqlite_master WHERE type = 'trigger' AND name IN ('vectors_gen_insert', 'vectors_gen_update', 'vectors_gen_delete'))`

// generation names one state of an index's vectors.
type generation struct {
	uid string
	n   int64
	ok  bool // the index keeps a trustworthy generation
}

// rowQuerier is *sql.DB or *sql.Conn.
type rowQuerier interface {
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}

// generation is the index's current generation.
func (ix *Index) generation(ctx context.Context) (generation, error) {
	return ix.generationOf(ctx, ix.db)
}

// generationOf reads the generation through db (a connection in a
// transaction, for a snapshot). An index made before the vectors_state
// table, opened read-only, has none.
func (ix *Index) generationOf(ctx context.Context, db rowQuerier) (generation, error) {
	var tables int
	if err := db.QueryRowContext(ctx, `SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = 'vectors_state'`).Scan(&tables); err != nil || tables == 0 {
		return generation{}, nil
	}
	var g generation
	var triggers int
	err := db.QueryRowContext(ctx, `SELECT uid, generation, `+triggerCount+` FROM vectors_state`).Scan(&g.uid, &g.n, &triggers)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return generation{}, nil
	case err != nil:
		return generation{}, fmt.Errorf("index %s: %w", ix.path, err)
	}
	g.ok = triggers == len(generationTriggers)
	return g, nil
}
