package clip

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"runtime/metrics"
	"sort"
	"sync"
	"time"
)

// ImageEncoder embeds batches of preprocessed images (float32 NCHW).
type ImageEncoder interface {
	InputSize() (h, w int)
	EncodeImages(ctx context.Context, pixels []float32, n int) ([][]float32, error)
}

// PrepareFunc reads, decodes and preprocesses input i into dst (3×H×W).
type PrepareFunc func(ctx context.Context, i int, dst []float32) error

// Result is one input's outcome.
type Result struct {
	Index     int
	Embedding []float32 // nil when Err is set
	Err       error
	Prepare   time.Duration // read + decode + preprocess
	Infer     time.Duration // this input's share of its batch's inference
	BatchSize int
}

// PipelineOptions size the image pipeline.
type PipelineOptions struct {
	BatchSize int           // images per inference (default 8)
	Workers   int           // parallel decoders (default 2)
	Linger    time.Duration // how long a partial batch waits for more ready images (default 5ms)
}

// EmbedImages runs n inputs through prepare workers and batched inference
// and calls emit for every input in input order, from the calling
// goroutine. Decoding overlaps inference; at most about 2×BatchSize+Workers
// images are held in memory, whatever n is. A failed input is a Result
// with Err set and processing goes on. When ctx is cancelled, the results
// already finished are emitted (in order, skipping unfinished ones) and
// ctx's error is returned.
func EmbedImages(ctx context.Context, n int, prepare PrepareFunc, enc ImageEncoder, opt PipelineOptions, emit func(Result) error) error {
	if opt.BatchSize <= 0 {
		opt.BatchSize = 8
	}
	if opt.Workers <= 0 {
		opt.Workers = 2
	}
	if opt.Linger <= 0 {
		opt.Linger = 5 * time.Millisecond
	}
	if n == 0 {
		return nil
	}
	h, w := enc.InputSize()
	size := 3 * h * w
	parent := ctx
	ctx, cancel := context.WithCancel(parent)
	defer cancel()

	type prepared struct {
		i   int
		buf []float32
		err error
		dur time.Duration
	}
	inflight := make(chan struct{}, 2*opt.BatchSize+opt.Workers)
	jobs := make(chan int)
	ready := make(chan prepared, cap(inflight))
	done := make(chan Result, cap(inflight))
	bufs := sync.Pool{New: func() any { return make([]float32, size) }}
	var wg sync.WaitGroup

	wg.Add(1)
	go func() { // dispatcher: bounded by the in-flight budget
		defer wg.Done()
		defer close(jobs)
		for i := 0; i < n; i++ {
			select {
			case inflight <- struct{}{}:
			case <-ctx.Done():
				return
			}
			select {
			case jobs <- i:
			case <-ctx.Done():
				return
			}
		}
	}()
	var garbage decodeGarbage
	var workers sync.WaitGroup
	for k := 0; k < opt.Workers; k++ {
		workers.Add(1)
		go func() {
			defer workers.Done()
			for i := range jobs {
				buf := bufs.Get().([]float32)
				t0 := time.Now()
				a0 := heapAllocated()
				err := safePrepare(ctx, prepare, i, buf)
				garbage.collectPast(heapAllocated() - a0)
				select {
				case ready <- prepared{i, buf, err, time.Since(t0)}:
				case <-ctx.Done():
					return
				}
			}
		}()
	}
	wg.Add(1)
	go func() { workers.Wait(); close(ready); wg.Done() }()

	wg.Add(1)
	go func() { // batcher: greedy batches, inference one at a time
		defer wg.Done()
		defer close(done)
		pixels := make([]float32, opt.BatchSize*size)
		var batch []prepared
		send := func(r Result) bool {
			select {
			case done <- r:
				return true
			case <-ctx.Done():
				return false
			}
		}
		flush := func() bool {
			if len(batch) == 0 {
				return true
			}
			for j, p := range batch {
				copy(pixels[j*size:], p.buf)
				bufs.Put(p.buf)
			}
			t0 := time.Now()
			embs, err := enc.EncodeImages(ctx, pixels[:len(batch)*size], len(batch))
			share := time.Since(t0) / time.Duration(len(batch))
			for j, p := range batch {
				r := Result{Index: p.i, Err: err, Prepare: p.dur, Infer: share, BatchSize: len(batch)}
				if err == nil {
					r.Embedding = embs[j]
				}
				if !send(r) {
					return false
				}
			}
			batch = batch[:0]
			return true
		}
		add := func(p prepared) bool {
			if p.err != nil {
				bufs.Put(p.buf)
				return send(Result{Index: p.i, Err: p.err, Prepare: p.dur})
			}
			batch = append(batch, p)
			if len(batch) == opt.BatchSize {
				return flush()
			}
			return true
		}
		for p := range ready {
			if !add(p) {
				return
			}
			// Take what else is ready; linger briefly for a fuller batch.
			timer := time.NewTimer(opt.Linger)
		more:
			for len(batch) > 0 && len(batch) < opt.BatchSize {
				select {
				case q, ok := <-ready:
					if !ok {
						break more
					}
					if !add(q) {
						timer.Stop()
						return
					}
				case <-timer.C:
					break more
				}
			}
			timer.Stop()
			if !flush() {
				return
			}
		}
		flush()
	}()

	// Emit in input order.
	pending := map[int]Result{}
	next := 0
	var emitErr error
	cancelled := false
	for next < n && emitErr == nil && !cancelled {
		select {
		case r, ok := <-done:
			if !ok {
				cancelled = true // the batcher stopped early: ctx was cancelled
				break
			}
			pending[r.Index] = r
			for emitErr == nil {
				r, ok := pending[next]
				if !ok {
					break
				}
				delete(pending, next)
				next++
				<-inflight
				emitErr = emit(r)
			}
		case <-ctx.Done():
			cancelled = true
		}
	}
	cancel()
	for r := range done { // drain so every goroutine can exit
		pending[r.Index] = r
	}
	wg.Wait()
	if emitErr != nil {
		return emitErr
	}
	if next == n {
		return nil
	}
	// Cut short: emit what finished, in order, then report why.
	idx := make([]int, 0, len(pending))
	for i, r := range pending {
		if r.Err == nil || !errors.Is(r.Err, context.Canceled) {
			idx = append(idx, i)
		}
	}
	sort.Ints(idx)
	for _, i := range idx {
		if err := emit(pending[i]); err != nil {
			return err
		}
	}
	if err := parent.Err(); err != nil {
		return err
	}
	return context.Canceled
}

// decodeGarbageBudget bounds what decoding leaves for the collector. A
// 12 MP photo's decode allocates ~100 MB that is garbage once the 224×224
// tensor is made; with the model's weights live on the heap, Go's pacer
// (GOGC=100) lets garbage grow to the size of the live heap before it
// collects: measured, 16 12 MP JPEGs with ViT-B/32 peaked at 1.2 GB RSS,
// twice the model. Collecting whenever the decodes have allocated this much
// keeps the peak near the model + the budget; the collections are cheap,
// the weights being pointer-free.
const decodeGarbageBudget = 256 << 20

type decodeGarbage struct {
	mu    sync.Mutex
	bytes uint64
}

// collectPast adds one prepare's allocations and runs the collector once
// the budget is spent.
func (g *decodeGarbage) collectPast(n uint64) {
	g.mu.Lock()
	g.bytes += n
	spent := g.bytes >= decodeGarbageBudget
	if spent {
		g.bytes = 0
	}
	g.mu.Unlock()
	if spent {
		runtime.GC()
	}
}

// heapAllocated is the process's cumulative heap allocation (all
// goroutines: an over-estimate of one prepare's, which errs towards
// collecting sooner).
func heapAllocated() uint64 {
	s := []metrics.Sample{{Name: "/gc/heap/allocs:bytes"}}
	metrics.Read(s)
	if s[0].Value.Kind() != metrics.KindUint64 {
		return 0
	}
	return s[0].Value.Uint64()
}

func safePrepare(ctx context.Context, prepare PrepareFunc, i int, buf []float32) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("internal error while preparing image: %v", r)
		}
	}()
	return prepare(ctx, i, buf)
}
