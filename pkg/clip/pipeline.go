package clip

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"runtime/metrics"
	"sort"
	"sync"
	"sync/atomic"
	"time"
)

// ImageEncoder embeds batches of preprocessed images (float32 NCHW). An
// error from EncodeImages is a failure of the model (see ModelError), not of
// the images in the batch.
type ImageEncoder interface {
	InputSize() (h, w int)
	EncodeImages(ctx context.Context, pixels []float32, n int) ([][]float32, error)
}

// imagePreparer is an ImageEncoder that can do its first batch's one-off
// work ahead (Model.PrepareImages).
type imagePreparer interface {
	PrepareImages(ctx context.Context, n int) error
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
	// InferThreads is how many threads the encoder's inference keeps busy
	// (0: unknown). When the decoders and the inference together want
	// more threads than GOMAXPROCS, they take turns instead of sharing
	// the cores: see turns.
	InferThreads int
}

// EmbedImages runs n inputs through prepare workers and batched inference
// and calls emit for every input in input order, from the calling
// goroutine. Decoding overlaps inference, or takes turns with it when
// there are not enough cores for both (see turns); at most about
// 2×BatchSize+Workers images are held in memory, whatever n is. A failed input is a Result
// with Err set and processing goes on. When ctx is cancelled, the results
// already finished are emitted (in order, skipping unfinished ones) and
// ctx's error is returned. When inference fails, the results already
// finished are emitted the same way and the failure is returned as a
// *ModelError: it is the model's fault, not the inputs'.
//
// The work runs in four stages joined by channels: dispatch (input indices,
// bounded by the in-flight budget), prepare (Workers goroutines reading,
// decoding and preprocessing), batch (greedy batches, or full ones when
// taking turns; one inference at a time) and emit (reordering into input
// order, on the caller's goroutine).
func EmbedImages(ctx context.Context, n int, prepare PrepareFunc, enc ImageEncoder, opt PipelineOptions, emit func(Result) error) error {
	opt = opt.withDefaults()
	if n == 0 {
		return nil
	}
	parent := ctx
	ctx, cancel := context.WithCancel(parent)
	defer cancel()
	p := newPipeline(ctx, n, enc, opt)
	p.cancel = cancel

	var wg sync.WaitGroup
	wg.Add(3)
	go func() { defer wg.Done(); p.dispatch() }()
	go func() { defer wg.Done(); p.prepareAll(prepare) }()
	go func() { defer wg.Done(); p.batchAndInfer() }()

	pending, next, emitErr := p.emitInOrder(emit)
	cancel()
	for r := range p.done { // drain so every goroutine can exit
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
	if err := emitFinished(pending, emit); err != nil {
		return err
	}
	if p.modelErr != nil {
		return p.modelErr
	}
	if err := parent.Err(); err != nil {
		return err
	}
	return context.Canceled
}

func (opt PipelineOptions) withDefaults() PipelineOptions {
	if opt.BatchSize <= 0 {
		opt.BatchSize = 8
	}
	if opt.Workers <= 0 {
		opt.Workers = 2
	}
	if opt.Linger <= 0 {
		opt.Linger = 5 * time.Millisecond
	}
	return opt
}

// pipeline is the state EmbedImages' stages share: the channels between
// them and the pool of per-image pixel buffers.
type pipeline struct {
	ctx    context.Context
	cancel context.CancelFunc
	n      int
	enc    ImageEncoder
	opt    PipelineOptions
	size   int // floats per preprocessed image

	turns    *turns        // nil when decoding and inference may overlap
	ahead    atomic.Int64  // inputs dispatched and not yet taken from ready (read by fullBatches only)
	inflight chan struct{} // one token per input between dispatch and emit
	jobs     chan int      // dispatch → prepare
	ready    chan prepared // prepare → batch
	done     chan Result   // batch → emit
	bufs     sync.Pool

	// modelErr is the inference failure that stopped the pipeline; written
	// by the batch stage before it cancels ctx, read after it has exited.
	modelErr error
}

// prepared is one input after the prepare stage.
type prepared struct {
	i   int
	buf []float32
	err error
	dur time.Duration
}

func newPipeline(ctx context.Context, n int, enc ImageEncoder, opt PipelineOptions) *pipeline {
	h, w := enc.InputSize()
	size := 3 * h * w
	budget := 2*opt.BatchSize + opt.Workers
	var t *turns
	if opt.InferThreads > 0 && opt.Workers+opt.InferThreads > runtime.GOMAXPROCS(0) {
		t = &turns{}
	}
	return &pipeline{
		ctx: ctx, n: n, enc: enc, opt: opt, size: size, turns: t,
		inflight: make(chan struct{}, budget),
		jobs:     make(chan int),
		ready:    make(chan prepared, budget),
		done:     make(chan Result, budget),
		bufs:     sync.Pool{New: func() any { return make([]float32, size) }},
	}
}

// dispatch hands out input indices in order, each once the in-flight
// budget has room for it.
func (p *pipeline) dispatch() {
	defer close(p.jobs)
	for i := 0; i < p.n; i++ {
		select {
		case p.inflight <- struct{}{}:
		case <-p.ctx.Done():
			return
		}
		p.ahead.Add(1)
		select {
		case p.jobs <- i:
		case <-p.ctx.Done():
			return
		}
	}
}

// prepareAll runs opt.Workers goroutines that read, decode and preprocess
// inputs into pooled buffers; it closes ready when they are all done.
func (p *pipeline) prepareAll(prepare PrepareFunc) {
	defer close(p.ready)
	var garbage decodeGarbage
	var workers sync.WaitGroup
	for k := 0; k < p.opt.Workers; k++ {
		workers.Add(1)
		go func() {
			defer workers.Done()
			for i := range p.jobs {
				if !p.turns.decoderWait(p.ctx) {
					return
				}
				buf := p.bufs.Get().([]float32)
				t0 := time.Now()
				a0 := heapAllocated()
				err := safePrepare(p.ctx, prepare, i, buf)
				p.turns.decodeEnd()
				garbage.collectPast(heapAllocated() - a0)
				select {
				case p.ready <- prepared{i, buf, err, time.Since(t0)}:
				case <-p.ctx.Done():
					return
				}
			}
		}()
	}
	workers.Wait()
}

// batchAndInfer gathers prepared images into greedy batches (whatever is
// ready, lingering briefly for a fuller batch), runs one inference at a
// time and sends every input's Result to done; failed inputs skip
// inference. It closes done when ready is drained or ctx is cancelled.
func (p *pipeline) batchAndInfer() {
	defer close(p.done)
	if pr, ok := p.enc.(imagePreparer); ok {
		// While the first batch decodes. A failure here is the first
		// inference's to report.
		_ = pr.PrepareImages(p.ctx, min(p.opt.BatchSize, p.n))
	}
	b := &batcher{p: p, pixels: make([]float32, p.opt.BatchSize*p.size)}
	if p.turns != nil {
		b.fullBatches()
		return
	}
	for q := range p.ready {
		if !b.add(q) {
			return
		}
		if !b.gather() || !b.flush() {
			return
		}
	}
	b.flush()
}

// fullBatches is the batch stage when taking turns: add runs each batch
// once full, the last one runs when ready closes. A partial batch also
// runs when no image is between dispatch and here (checked every Linger):
// then the in-flight budget is held by the partial batch and the results
// waiting behind it for the input order (one slow decode lets the others
// run ahead), and waiting for more would wait forever.
func (b *batcher) fullBatches() {
	tick := time.NewTicker(b.p.opt.Linger)
	defer tick.Stop()
	for {
		select {
		case q, ok := <-b.p.ready:
			if !ok {
				b.flush()
				return
			}
			b.p.ahead.Add(-1)
			if !b.add(q) {
				return
			}
		case <-tick.C:
			if len(b.batch) > 0 && b.p.ahead.Load() == 0 && !b.flush() {
				return
			}
		}
	}
}

// batcher is the batch stage's current batch and its pixel tensor.
type batcher struct {
	p      *pipeline
	pixels []float32
	batch  []prepared
}

// send passes a result on; false when the pipeline was cancelled.
func (b *batcher) send(r Result) bool {
	select {
	case b.p.done <- r:
		return true
	case <-b.p.ctx.Done():
		return false
	}
}

// add takes one prepared input: a failure goes straight on, a success joins
// the batch, which runs when full.
func (b *batcher) add(q prepared) bool {
	if q.err != nil {
		b.p.bufs.Put(q.buf)
		return b.send(Result{Index: q.i, Err: q.err, Prepare: q.dur})
	}
	b.batch = append(b.batch, q)
	if len(b.batch) == b.p.opt.BatchSize {
		return b.flush()
	}
	return true
}

// gather takes what else is ready, lingering up to opt.Linger for a fuller
// batch.
func (b *batcher) gather() bool {
	timer := time.NewTimer(b.p.opt.Linger)
	defer timer.Stop()
	for len(b.batch) > 0 && len(b.batch) < b.p.opt.BatchSize {
		select {
		case q, ok := <-b.p.ready:
			if !ok {
				return true
			}
			if !b.add(q) {
				return false
			}
		case <-timer.C:
			return true
		}
	}
	return true
}

// flush runs inference on the batch and sends its results.
func (b *batcher) flush() bool {
	if len(b.batch) == 0 {
		return true
	}
	size := b.p.size
	for j, q := range b.batch {
		copy(b.pixels[j*size:], q.buf)
		b.p.bufs.Put(q.buf)
	}
	t0 := time.Now()
	b.p.turns.inferStart(b.p.ctx)
	embs, err := b.p.enc.EncodeImages(b.p.ctx, b.pixels[:len(b.batch)*size], len(b.batch))
	b.p.turns.inferEnd()
	share := time.Since(t0) / time.Duration(len(b.batch))
	if err == nil && len(embs) != len(b.batch) {
		err = fmt.Errorf("image encoder returned %d embeddings for %d images", len(embs), len(b.batch))
	}
	if err != nil && b.p.ctx.Err() == nil {
		if err = asModelError("", err); !errors.Is(err, context.Canceled) && !errors.Is(err, context.DeadlineExceeded) {
			b.p.modelErr = err
			b.p.cancel()
			return false
		}
	}
	for j, q := range b.batch {
		r := Result{Index: q.i, Err: err, Prepare: q.dur, Infer: share, BatchSize: len(b.batch)}
		if err == nil {
			r.Embedding = embs[j]
		}
		if !b.send(r) {
			return false
		}
	}
	b.batch = b.batch[:0]
	return true
}

// turns makes decoding and inference alternate on the cores instead of
// sharing them, when together they want more threads than there are:
// a decoder starts no image while a batch is being inferred, and an
// inference starts once the decodes already begun have finished. Sharing
// the cores ran the engine's statically split kernels with one of their
// threads waiting for a core a decoder held (its partner spinning, then
// parked), and the two working sets evicting each other from the caches:
// on 16 12 MP photos with ViT-B/32 at 2 threads, 148-151 ms of CPU per
// photo against 142-146 taking turns (decode alone 36-38, inference alone
// 101-105). Every image is still decoded once and inferred once, so turns
// lose nothing but overlap that the cores could not give anyway.
type turns struct {
	mu sync.Mutex
	// inferring is nil while no batch is being inferred; during an
	// inference (and while it waits for its turn) it is a channel that is
	// closed when the inference ends.
	inferring chan struct{}
	// decoding counts the decodes begun and not finished; idle, when not
	// nil, is closed when it drops to zero.
	decoding int
	idle     chan struct{}
}

// decoderWait blocks until no inference is running or waiting, then
// counts a decode as begun (decodeEnd ends it); false when ctx is
// cancelled first. A nil *turns never waits.
func (t *turns) decoderWait(ctx context.Context) bool {
	if t == nil {
		return true
	}
	for {
		t.mu.Lock()
		ch := t.inferring
		if ch == nil {
			t.decoding++
			t.mu.Unlock()
			return true
		}
		t.mu.Unlock()
		select {
		case <-ch:
		case <-ctx.Done():
			return false
		}
	}
}

// decodeEnd ends a decode that decoderWait began.
func (t *turns) decodeEnd() {
	if t == nil {
		return
	}
	t.mu.Lock()
	t.decoding--
	if t.decoding == 0 && t.idle != nil {
		close(t.idle)
		t.idle = nil
	}
	t.mu.Unlock()
}

// inferStart stops new decodes and waits for those begun to finish (or
// for ctx, whose cancellation the inference then reports).
func (t *turns) inferStart(ctx context.Context) {
	if t == nil {
		return
	}
	t.mu.Lock()
	t.inferring = make(chan struct{})
	if t.decoding == 0 {
		t.mu.Unlock()
		return
	}
	t.idle = make(chan struct{})
	idle := t.idle
	t.mu.Unlock()
	select {
	case <-idle:
	case <-ctx.Done():
	}
}

func (t *turns) inferEnd() {
	if t == nil {
		return
	}
	t.mu.Lock()
	close(t.inferring)
	t.inferring = nil
	t.idle = nil
	t.mu.Unlock()
}

// emitInOrder calls emit for results in input order as they arrive, until
// all n are emitted, emit fails or the pipeline is cancelled. It returns
// the results received but not yet emitted and the next index due.
func (p *pipeline) emitInOrder(emit func(Result) error) (pending map[int]Result, next int, err error) {
	pending = map[int]Result{}
	for next < p.n {
		select {
		case r, ok := <-p.done:
			if !ok {
				return pending, next, nil // the batch stage stopped early: ctx was cancelled
			}
			pending[r.Index] = r
			for {
				r, ok := pending[next]
				if !ok {
					break
				}
				delete(pending, next)
				next++
				<-p.inflight
				if err := emit(r); err != nil {
					return pending, next, err
				}
			}
		case <-p.ctx.Done():
			return pending, next, nil
		}
	}
	return pending, next, nil
}

// emitFinished emits, in input order, the results that finished before the
// pipeline was cut short (not those that failed because it was).
func emitFinished(pending map[int]Result, emit func(Result) error) error {
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
	return nil
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
