package clip

import (
	"bufio"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"math"
	"os"
	"path/filepath"
	"sync"
)

// TextCache is a persistent store of prompt embeddings for one model, so a
// repeated run with the same labels encodes no text. It is an append-only
// file of records (prompt, embedding, CRC); a torn or corrupt tail left by
// a crash is ignored on load and overwritten by the next append.
type TextCache struct {
	path string
	mu   sync.Mutex
	m    map[string][]float32
	// Hits and Misses count lookups since the cache was opened.
	Hits, Misses int
	// OnWriteError, when set, hears of the first failed append (a full
	// disk, a directory made read-only meanwhile). After it the cache
	// answers from memory and writes nothing more: a cache is never worth
	// failing a classification for.
	OnWriteError func(error)
	writeErr     error
}

const textCacheMagic = "CLIPTXT1"

// TextCacheExt ends the name of each model's cache file in the cache directory.
const TextCacheExt = ".bin"

// OpenTextCache loads (or starts) the cache file for the model identified
// by modelKey (a hash of the model's files) under dir. A cache that could
// not be written (dir not creatable, read-only) is an error here, so that
// callers warn once and run without it rather than fail at the first
// append.
func OpenTextCache(dir, modelKey string) (*TextCache, error) {
	if modelKey == "" {
		return nil, errors.New("text cache: empty model key")
	}
	c := &TextCache{path: filepath.Join(dir, modelKey+TextCacheExt), m: map[string][]float32{}}
	if err := checkWritable(dir, c.path); err != nil {
		return nil, err
	}
	f, err := os.Open(c.path)
	if errors.Is(err, os.ErrNotExist) {
		return c, nil
	}
	if err != nil {
		return nil, fmt.Errorf("text cache %s: %w", c.path, err)
	}
	defer f.Close()
	r := bufio.NewReader(f)
	magic := make([]byte, len(textCacheMagic))
	if _, err := io.ReadFull(r, magic); err != nil || string(magic) != textCacheMagic {
		// Not ours or empty: start over rather than fail a classification.
		return c, nil
	}
	good := int64(len(textCacheMagic))
	for {
		prompt, emb, n, err := readTextRecord(r)
		if err == io.EOF {
			break
		}
		if err != nil {
			// A torn or corrupt tail: cut it off so later appends are readable.
			f.Close()
			_ = os.Truncate(c.path, good)
			break
		}
		good += n
		c.m[prompt] = emb
	}
	return c, nil
}

// checkWritable creates dir and makes sure path can be appended to (or
// created there), leaving nothing behind.
func checkWritable(dir, path string) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("text cache: %w", err)
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND, 0)
	if errors.Is(err, os.ErrNotExist) {
		f, err = os.CreateTemp(dir, ".probe-*")
		if err == nil {
			defer os.Remove(f.Name())
		}
	}
	if err != nil {
		return fmt.Errorf("text cache %s: not writable: %w", path, err)
	}
	return f.Close()
}

// Path is the cache file.
func (c *TextCache) Path() string { return c.path }

// Len is the number of cached prompts.
func (c *TextCache) Len() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.m)
}

// readTextRecord returns the record and its size in bytes; io.EOF only
// when the file ends cleanly between records.
func readTextRecord(r *bufio.Reader) (string, []float32, int64, error) {
	var hdr [8]byte
	if _, err := io.ReadFull(r, hdr[:]); err != nil {
		if err == io.ErrUnexpectedEOF {
			return "", nil, 0, errors.New("torn record header")
		}
		return "", nil, 0, err
	}
	plen, dim := binary.LittleEndian.Uint32(hdr[:4]), binary.LittleEndian.Uint32(hdr[4:])
	if plen > 1<<20 || dim > 1<<16 {
		return "", nil, 0, errors.New("corrupt record header")
	}
	body := make([]byte, int(plen)+4*int(dim)+4)
	if _, err := io.ReadFull(r, body); err != nil {
		return "", nil, 0, errors.New("torn record")
	}
	n := len(body) - 4
	crc := crc32.NewIEEE()
	crc.Write(hdr[:])
	crc.Write(body[:n])
	if crc.Sum32() != binary.LittleEndian.Uint32(body[n:]) {
		return "", nil, 0, errors.New("checksum mismatch")
	}
	emb := make([]float32, dim)
	for i := range emb {
		emb[i] = math.Float32frombits(binary.LittleEndian.Uint32(body[int(plen)+4*i:]))
	}
	return string(body[:plen]), emb, int64(len(hdr) + len(body)), nil
}

func appendTextRecord(b []byte, prompt string, emb []float32) []byte {
	start := len(b)
	b = binary.LittleEndian.AppendUint32(b, uint32(len(prompt)))
	b = binary.LittleEndian.AppendUint32(b, uint32(len(emb)))
	b = append(b, prompt...)
	for _, v := range emb {
		b = binary.LittleEndian.AppendUint32(b, math.Float32bits(v))
	}
	return binary.LittleEndian.AppendUint32(b, crc32.ChecksumIEEE(b[start:]))
}

// Wrap returns a TextEncoder that answers from the cache and encodes (then
// stores) only the prompts it lacks.
func (c *TextCache) Wrap(enc TextEncoder) TextEncoder { return cachedEncoder{c, enc} }

type cachedEncoder struct {
	c   *TextCache
	enc TextEncoder
}

func (ce cachedEncoder) EncodeTexts(ctx context.Context, texts []string) ([][]float32, error) {
	c := ce.c
	out := make([][]float32, len(texts))
	var missing []string
	var missingAt []int
	c.mu.Lock()
	for i, t := range texts {
		if e, ok := c.m[t]; ok {
			out[i] = append([]float32(nil), e...)
			c.Hits++
		} else {
			missing = append(missing, t)
			missingAt = append(missingAt, i)
			c.Misses++
		}
	}
	c.mu.Unlock()
	if len(missing) == 0 {
		return out, nil
	}
	embs, err := ce.enc.EncodeTexts(ctx, missing)
	if err != nil {
		return nil, err
	}
	if len(embs) != len(missing) {
		return nil, fmt.Errorf("text encoder returned %d embeddings for %d prompts", len(embs), len(missing))
	}
	for j, i := range missingAt {
		out[i] = embs[j]
	}
	c.store(missing, embs)
	return out, nil
}

// store remembers new embeddings and appends them to the file; the first
// failed append is reported to OnWriteError and ends the appends.
func (c *TextCache) store(prompts []string, embs [][]float32) {
	c.mu.Lock()
	defer c.mu.Unlock()
	var buf []byte
	for i, p := range prompts {
		c.m[p] = append([]float32(nil), embs[i]...)
		buf = appendTextRecord(buf, p, embs[i])
	}
	if c.writeErr != nil {
		return
	}
	if err := c.appendRecords(buf); err != nil {
		c.writeErr = err
		if c.OnWriteError != nil {
			c.OnWriteError(err)
		}
	}
}

// appendRecords writes records in one write, so concurrent clip processes
// (O_APPEND) never interleave parts of records.
func (c *TextCache) appendRecords(buf []byte) error {
	if err := os.MkdirAll(filepath.Dir(c.path), 0o755); err != nil {
		return fmt.Errorf("text cache: %w", err)
	}
	f, err := os.OpenFile(c.path, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return fmt.Errorf("text cache: %w", err)
	}
	defer f.Close()
	if st, err := f.Stat(); err == nil && st.Size() == 0 {
		buf = append([]byte(textCacheMagic), buf...)
	}
	if _, err := f.Write(buf); err != nil {
		return fmt.Errorf("text cache %s: %w", c.path, err)
	}
	return f.Close()
}
