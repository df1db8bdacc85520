// Reads a Parquet file with DuckDB and prints, as one JSON object, its
// column types, its rows (mtime as epoch nanoseconds) and its key-value
// metadata: what the Go test of `clip index export` compares with the
// index it exported. Usage: node read_parquet.mjs FILE.parquet
import { DuckDBInstance } from '@duckdb/node-api';

const file = process.argv[2];
if (!file) {
  console.error('usage: node read_parquet.mjs FILE.parquet');
  process.exit(2);
}
const quoted = "'" + file.replaceAll("'", "''") + "'";
const db = await DuckDBInstance.create(':memory:');
const c = await db.connect();
const rows = async (sql) => (await c.runAndReadAll(sql)).getRowObjectsJson();

const types = {};
for (const r of await rows(`DESCRIBE SELECT * FROM read_parquet(${quoted})`)) {
  types[r.column_name] = r.column_type;
}
const data = await rows(`SELECT path, size, epoch_ns(mtime)::VARCHAR AS mtime_ns, sha256, vector,
  list_cosine_similarity(vector, vector) AS self_cosine FROM read_parquet(${quoted}) ORDER BY path`);
const metadata = {};
for (const r of await rows(`SELECT decode(key) AS key, decode(value) AS value FROM parquet_kv_metadata(${quoted})`)) {
  metadata[r.key] = r.value;
}
console.log(JSON.stringify({ duckdb: (await rows('SELECT version() AS v'))[0].v, types, rows: data, metadata }));
