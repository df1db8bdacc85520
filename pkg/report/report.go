// Package report renders classification results as one self-contained HTML
// file: thumbnails inlined as JPEG data URIs, cards grouped by best label,
// the images that need a look (unreadable, failed checks, unknown) first,
// and a little inline script to sort and filter without a server. Nothing
// in the page loads from anywhere else (its Content-Security-Policy says so).
package report

import (
	"bytes"
	"context"
	"fmt"
	"image"
	"image/jpeg"
	"io"
	"os"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/clip-go/clip/pkg/clip"
	"github.com/clip-go/clip/pkg/imageproc"
)

// ThumbSize bounds a thumbnail's longer side in pixels.
const ThumbSize = 256

// DefaultThumbsPerLabel is how many images of each group keep a thumbnail:
// at about 10 kB each, 10,000 images in a handful of groups stay a file a
// browser opens in a moment. Cards past the cap show the name and bars only.
const DefaultThumbsPerLabel = 200

// DefaultPageSize is how many cards of a group the page shows at a time.
// Headless Chromium loads a 10,000-card page in about 17 s on a shared
// 2-core machine when every card is laid out, and in about 2 s when all
// but a page per group come hidden (BenchmarkOpenInChromium).
const DefaultPageSize = 100

// thumbQuality is the JPEG quality of thumbnails: small files, no visible
// blocking at 256 px.
const thumbQuality = 75

// Options describe the run a report is about.
type Options struct {
	Title     string
	Tool      string // clip's version, for the footer
	Model     string // the model's id, revision and variant
	Time      time.Time
	Labels    []string // in the order given
	Threshold float64
	// Checks says --expect, --fail-if or --min-score were given: only then
	// can the "failed checks" group fill.
	Checks bool
	// ThumbsPerLabel caps thumbnails per group; 0 means DefaultThumbsPerLabel.
	ThumbsPerLabel int
	// PageSize is the cards per group shown at a time; 0 means DefaultPageSize.
	PageSize int
	// LeastCertain is how many of each group's thumbnails went to its
	// least certain images (Collector.AddLeastCertain); the others went
	// to the first images in input order.
	LeastCertain int
	Decode       imageproc.DecodeOptions
}

// Entry is one input's card.
type Entry struct {
	Record clip.Record
	// Failed says why the image failed --expect/--fail-if/--min-score ("" if not).
	Failed string
	Thumb  []byte // JPEG, nil when capped or not decodable
	input  int    // the input's index, for Collector.AddLeastCertain
}

// Reread returns input i's bytes again, or nil when it cannot be read
// twice (stdin, or a URL that should not be fetched again).
type Reread func(ctx context.Context, i int) ([]byte, error)

// Collector gathers thumbnails and records while a run goes on. Its methods
// are safe for concurrent use and do nothing on a nil *Collector, so callers
// need no "is there a report" branches.
type Collector struct {
	opts    Options
	mu      sync.Mutex
	pending map[int][]byte // thumbnails made before their record arrived
	thumbs  map[string]int // thumbnails kept per group
	entries []Entry
	reread  Reread
}

// NewCollector starts a report.
func NewCollector(opts Options) *Collector {
	if opts.ThumbsPerLabel <= 0 {
		opts.ThumbsPerLabel = DefaultThumbsPerLabel
	}
	return &Collector{opts: opts, pending: map[int][]byte{}, thumbs: map[string]int{}}
}

// Thumbnail makes input i's thumbnail from its file bytes, unless every
// group is already full. An undecodable image gets none: its record says why.
func (c *Collector) Thumbnail(i int, data []byte) {
	if c == nil || c.full() {
		return
	}
	b, err := Thumbnail(data, c.opts.Decode)
	if err != nil {
		return
	}
	c.mu.Lock()
	c.pending[i] = b
	c.mu.Unlock()
}

func (c *Collector) full() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	groups := c.opts.Labels
	if c.opts.Threshold > 0 {
		groups = append(groups[:len(groups):len(groups)], clip.UnknownLabel)
	}
	if c.opts.Checks {
		groups = append(groups[:len(groups):len(groups)], groupFailed)
	}
	// Groups that cannot occur never fill, so they are left out.
	for _, l := range groups {
		if c.thumbs[l] < c.firstCap() {
			return false
		}
	}
	return true
}

// firstCap is how many thumbnails of a group go to its first images: all
// of them, unless the inputs can be read again to give half to the least
// certain ones at the end.
func (c *Collector) firstCap() int {
	if c.reread == nil {
		return c.opts.ThumbsPerLabel
	}
	return c.opts.ThumbsPerLabel - c.opts.ThumbsPerLabel/2
}

// SetReread lets AddLeastCertain read inputs again; call it before Add.
func (c *Collector) SetReread(r Reread) {
	if c == nil {
		return
	}
	c.mu.Lock()
	c.reread = r
	c.mu.Unlock()
}

// AddLeastCertain gives a thumbnail to each group's least certain images
// (the lowest best-label probability; half of the group's thumbnails),
// reading them again, workers at a time: sorted by probability, low
// first, a group's first page shows them, where the first images in
// input order kept the other half. Inputs that cannot be read again keep
// a card without one.
func (c *Collector) AddLeastCertain(ctx context.Context, workers int) {
	if c == nil || c.reread == nil {
		return
	}
	c.mu.Lock()
	n := c.opts.ThumbsPerLabel / 2
	byGroup := map[string][]int{}
	for k, e := range c.entries {
		if e.Record.Probability != nil {
			g := groupOf(e)
			byGroup[g] = append(byGroup[g], k)
		}
	}
	var todo []int // entries to give a thumbnail
	for _, ks := range byGroup {
		sort.SliceStable(ks, func(a, b int) bool {
			return *c.entries[ks[a]].Record.Probability < *c.entries[ks[b]].Record.Probability
		})
		for _, k := range ks[:min(n, len(ks))] {
			if c.entries[k].Thumb == nil {
				todo = append(todo, k)
			}
		}
	}
	inputs := make([]int, len(todo))
	for j, k := range todo {
		inputs[j] = c.entries[k].input
	}
	c.mu.Unlock()

	thumbs := make([][]byte, len(todo))
	parallel(ctx, len(todo), workers, func(j int) {
		if data, err := c.reread(ctx, inputs[j]); err == nil && data != nil {
			thumbs[j], _ = Thumbnail(data, c.opts.Decode)
		}
	})
	c.mu.Lock()
	if ctx.Err() == nil {
		c.opts.LeastCertain = n
	} else {
		c.opts.ThumbsPerLabel -= n // interrupted: only the first images got one
	}
	for j, k := range todo {
		c.entries[k].Thumb = thumbs[j]
	}
	c.mu.Unlock()
}

// parallel calls fn(0…n-1), workers at a time, until ctx ends.
func parallel(ctx context.Context, n, workers int, fn func(int)) {
	next := make(chan int)
	var wg sync.WaitGroup
	for w := 0; w < max(1, workers); w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for j := range next {
				fn(j)
			}
		}()
	}
	for j := 0; j < n && ctx.Err() == nil; j++ {
		next <- j
	}
	close(next)
	wg.Wait()
}

// Add records input i's result; failed is why it failed a check, or "".
func (c *Collector) Add(i int, rec clip.Record, failed string) {
	if c == nil {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	// The card is headed by the file name: the reason need not repeat it.
	failed = strings.TrimPrefix(strings.TrimPrefix(failed, rec.File+": "), rec.File+" ")
	e := Entry{Record: rec, Failed: failed, input: i}
	thumb := c.pending[i]
	delete(c.pending, i)
	g := groupOf(e)
	if thumb != nil && c.thumbs[g] < c.firstCap() {
		c.thumbs[g]++
		e.Thumb = thumb
	}
	c.entries = append(c.entries, e)
}

// Len is the number of records added.
func (c *Collector) Len() int {
	if c == nil {
		return 0
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.entries)
}

// WriteFile renders the report to path (written whole, then renamed into
// place, so a failed write never leaves half a page) and returns its size.
func (c *Collector) WriteFile(path string) (int64, error) {
	if c == nil {
		return 0, nil
	}
	c.mu.Lock()
	entries := append([]Entry(nil), c.entries...)
	c.mu.Unlock()
	return writeFile(path, func(w io.Writer) error { return Render(w, c.opts, entries) })
}

// writeFile renders a page into path whole, then renames it into place.
func writeFile(path string, render func(io.Writer) error) (int64, error) {
	var buf bytes.Buffer
	if err := render(&buf); err != nil {
		return 0, err
	}
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, buf.Bytes(), 0o644); err != nil {
		return 0, err
	}
	if err := os.Rename(tmp, path); err != nil {
		os.Remove(tmp)
		return 0, err
	}
	return int64(buf.Len()), nil
}

// Thumbnail decodes an image file and returns it as a JPEG whose longer
// side is at most ThumbSize, resized with imageproc's Pillow-identical
// bicubic filter.
func Thumbnail(data []byte, opt imageproc.DecodeOptions) ([]byte, error) {
	opt.DraftSize = ThumbSize
	src, err := imageproc.DecodeBytes(data, opt)
	if err != nil {
		return nil, err
	}
	w, h := src.Rect.Dx(), src.Rect.Dy()
	if w <= 0 || h <= 0 {
		return nil, fmt.Errorf("empty image")
	}
	if w > ThumbSize || h > ThumbSize {
		if w >= h {
			w, h = ThumbSize, max(1, (h*ThumbSize+w/2)/w)
		} else {
			w, h = max(1, (w*ThumbSize+h/2)/h), ThumbSize
		}
		if src, err = imageproc.Resize(src, w, h, imageproc.Bicubic); err != nil {
			return nil, err
		}
	}
	rgba := image.NewRGBA(image.Rect(0, 0, w, h))
	for y := 0; y < h; y++ {
		in := src.Pix[y*src.Stride : y*src.Stride+3*w]
		out := rgba.Pix[y*rgba.Stride : y*rgba.Stride+4*w]
		for x := 0; x < w; x++ {
			out[4*x], out[4*x+1], out[4*x+2], out[4*x+3] = in[3*x], in[3*x+1], in[3*x+2], 255
		}
	}
	var buf bytes.Buffer
	if err := jpeg.Encode(&buf, rgba, &jpeg.Options{Quality: thumbQuality}); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// SetModel names the model in the footer (known only once it has loaded).
func (c *Collector) SetModel(desc string) {
	if c == nil {
		return
	}
	c.mu.Lock()
	c.opts.Model = desc
	c.mu.Unlock()
}
