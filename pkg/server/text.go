package server

import (
	"context"
	"fmt"
	"strings"
	"sync"

	"github.com/clip-go/clip/pkg/clip"
)

// promptCache embeds prompts for every request: an in-memory map keyed by
// the exact prompt, backed by the model's persistent clip.TextCache when
// there is one (so a restarted server, and `clip classify`, reuse the same
// embeddings). Only prompts missing from both reach the text encoder, under
// the engine lock shared with image inference.
type promptCache struct {
	enc    clip.TextEncoder
	disk   *clip.TextCache // nil: memory only
	engine *sync.Mutex
	m      *metrics
	// max bounds the prompts kept in memory (and added to disk), since
	// clients choose them: beyond it prompts are encoded but not kept.
	max int

	mu  sync.Mutex // guards mem
	mem map[string][]float32
}

func newPromptCache(enc clip.TextEncoder, disk *clip.TextCache, engine *sync.Mutex, max int, m *metrics) *promptCache {
	return &promptCache{enc: enc, disk: disk, engine: engine, m: m, max: max, mem: map[string][]float32{}}
}

// EncodeTexts implements clip.TextEncoder. The returned slices are shared
// with the cache and must not be modified (clip.NewZeroShot only reads them).
func (p *promptCache) EncodeTexts(ctx context.Context, texts []string) ([][]float32, error) {
	out := make([][]float32, len(texts))
	missing := p.lookup(texts, out)
	p.m.promptHits.Add(float64(len(texts) - len(missing)))
	// Encode in chunks, taking the engine lock per chunk, so a request with
	// thousands of new prompts does not hold up other requests' images.
	for start := 0; start < len(missing); start += promptChunk {
		chunk := missing[start:min(start+promptChunk, len(missing))]
		if err := p.encodeChunk(ctx, texts, chunk, out); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// promptChunk is how many new prompts are encoded per engine lock.
const promptChunk = 64

func (p *promptCache) encodeChunk(ctx context.Context, texts []string, idx []int, out [][]float32) error {
	p.engine.Lock()
	defer p.engine.Unlock()
	if err := ctx.Err(); err != nil {
		return err
	}
	// Another request may have encoded some while this one waited.
	var missing []int
	p.mu.Lock()
	for _, i := range idx {
		if e, ok := p.mem[texts[i]]; ok {
			out[i] = e
		} else {
			missing = append(missing, i)
		}
	}
	p.mu.Unlock()
	p.m.promptHits.Add(float64(len(idx) - len(missing)))
	if len(missing) == 0 {
		return nil
	}
	todo := make([]string, len(missing))
	for k, i := range missing {
		todo[k] = texts[i]
	}
	var enc clip.TextEncoder = p.enc
	keep := p.size()+len(todo) <= p.max
	if keep && p.disk != nil && p.disk.Len()+len(todo) <= 4*p.max {
		enc = p.disk.Wrap(p.enc)
	}
	embs, err := enc.EncodeTexts(ctx, todo)
	if err != nil && embs == nil {
		return fmt.Errorf("encoding prompts: %w", err)
	}
	// A disk write error still returns the embeddings; serving goes on.
	if len(embs) != len(todo) {
		return fmt.Errorf("text encoder returned %d embeddings for %d prompts", len(embs), len(todo))
	}
	p.m.promptMiss.Add(float64(len(todo)))
	p.mu.Lock()
	for k, i := range missing {
		out[i] = embs[k]
		if keep {
			p.mem[todo[k]] = embs[k]
		}
	}
	p.mu.Unlock()
	return nil
}

// lookup fills out from memory and returns the indices still missing.
func (p *promptCache) lookup(texts []string, out [][]float32) []int {
	p.mu.Lock()
	defer p.mu.Unlock()
	var missing []int
	for i, t := range texts {
		if out[i] != nil {
			continue
		}
		if e, ok := p.mem[t]; ok {
			out[i] = e
		} else {
			missing = append(missing, i)
		}
	}
	return missing
}

func (p *promptCache) size() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return len(p.mem)
}

// classifiers keeps the zero-shot classifiers of recent label sets, so a
// client sending the same labels again skips even the prompt averaging.
type classifiers struct {
	prompts *promptCache
	scoring clip.Scoring
	// templates are the model family's defaults, for requests giving none.
	templates []string
	mu        sync.Mutex
	m         map[string]*clip.ZeroShot
	// maxLabels bounds the labels held over all cached classifiers (each
	// label is one embedding).
	maxLabels int
	labels    int
}

func (c *classifiers) get(ctx context.Context, labels []clip.Label, templates []string) (*clip.ZeroShot, error) {
	if len(templates) == 0 {
		templates = c.templates
	}
	var key strings.Builder
	for _, l := range labels {
		key.WriteString(l.Name)
		key.WriteByte(0)
	}
	key.WriteByte(1)
	for _, t := range templates {
		key.WriteString(t)
		key.WriteByte(0)
	}
	k := key.String()
	c.mu.Lock()
	zs, ok := c.m[k]
	c.mu.Unlock()
	if ok {
		return zs, nil
	}
	zs, err := clip.NewZeroShot(ctx, c.prompts, labels, templates, c.scoring)
	if err != nil {
		return nil, err
	}
	c.mu.Lock()
	if c.labels+len(labels) > c.maxLabels {
		// Crude but bounded: forget everything; the prompt cache still
		// answers, so rebuilding costs only the averaging.
		clear(c.m)
		c.labels = 0
	}
	if _, dup := c.m[k]; !dup {
		c.labels += len(labels)
	}
	c.m[k] = zs
	c.mu.Unlock()
	return zs, nil
}
