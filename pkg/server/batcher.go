package server

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// errStopped is returned to jobs still queued when the batcher stops.
var errStopped = errors.New("server is shutting down")

// imageJob is one preprocessed image waiting for inference.
type imageJob struct {
	ctx    context.Context // the request's: a job whose request is gone is skipped
	pixels []float32       // 3×H×W
	done   chan jobResult  // buffered (1): the batcher never blocks on it
	// release frees the job's admission slot once the batcher is done with
	// it (answered or skipped), so a request that gave up early cannot let
	// more images in than the queue holds.
	release func()
}

// finish answers a job and frees its slot.
func (j *imageJob) finish(r jobResult) {
	j.done <- r
	if j.release != nil {
		j.release()
	}
}

type jobResult struct {
	emb []float32
	err error
}

// batcher runs every image inference of the server: images of concurrent
// requests are gathered into one batch (up to maxBatch, waiting at most
// wait for more after the first arrives), and one batch is in flight at a
// time, since the engine already uses every core for one batch.
type batcher struct {
	enc      Model
	engine   *sync.Mutex // held during inference; text encoding shares it
	maxBatch int
	wait     time.Duration
	jobs     chan *imageJob
	m        *metrics
	stop     chan struct{}
	stopped  chan struct{}
	// batches and batchedImages count work done, for the load benchmark's
	// average batch size.
	batches, batchedImages atomic.Int64
}

func newBatcher(enc Model, engine *sync.Mutex, maxBatch int, wait time.Duration, queue int, m *metrics) *batcher {
	b := &batcher{enc: enc, engine: engine, maxBatch: maxBatch, wait: wait,
		jobs: make(chan *imageJob, queue), m: m, stop: make(chan struct{}), stopped: make(chan struct{})}
	go b.loop()
	return b
}

// submit queues a job. Admission control (slots) guarantees room, so this
// never blocks for long; it gives up if the request ends first.
func (b *batcher) submit(j *imageJob) error {
	select {
	case b.jobs <- j:
		return nil
	case <-j.ctx.Done():
		return j.ctx.Err()
	case <-b.stop:
		return errStopped
	}
}

// close stops the loop after the current batch; queued jobs get errStopped.
func (b *batcher) close() {
	close(b.stop)
	<-b.stopped
}

func (b *batcher) loop() {
	defer close(b.stopped)
	h, w := b.enc.InputSize()
	size := 3 * h * w
	buf := make([]float32, 0, b.maxBatch*size)
	batch := make([]*imageJob, 0, b.maxBatch)
	timer := time.NewTimer(time.Hour)
	timer.Stop()
	for {
		batch = batch[:0]
		select {
		case j := <-b.jobs:
			batch = append(batch, j)
		case <-b.stop:
			b.drain()
			return
		}
		if len(batch) < b.maxBatch {
			timer.Reset(b.wait)
		gather:
			for len(batch) < b.maxBatch {
				select {
				case j := <-b.jobs:
					batch = append(batch, j)
				case <-timer.C:
					break gather
				}
			}
			timer.Stop()
		}
		b.run(batch, buf[:0], size)
	}
}

// run infers one batch, skipping jobs whose request has already ended.
func (b *batcher) run(batch []*imageJob, buf []float32, size int) {
	live := batch[:0:0]
	for _, j := range batch {
		if err := j.ctx.Err(); err != nil {
			j.finish(jobResult{err: err})
			continue
		}
		live = append(live, j)
		buf = append(buf, j.pixels...)
	}
	if len(live) == 0 {
		return
	}
	// Inference is not tied to any one request: the batch serves several.
	ctx := context.Background()
	start := time.Now()
	b.engine.Lock()
	embs, err := b.enc.EncodeImages(ctx, buf[:len(live)*size], len(live))
	b.engine.Unlock()
	b.m.inference.Observe(time.Since(start).Seconds())
	b.m.batchSize.Observe(float64(len(live)))
	b.batches.Add(1)
	b.batchedImages.Add(int64(len(live)))
	if err == nil && len(embs) != len(live) {
		err = errors.New("image encoder returned the wrong number of embeddings")
	}
	for i, j := range live {
		if err != nil {
			j.finish(jobResult{err: err})
		} else {
			j.finish(jobResult{emb: embs[i]})
		}
	}
}

func (b *batcher) drain() {
	for {
		select {
		case j := <-b.jobs:
			j.finish(jobResult{err: errStopped})
		default:
			return
		}
	}
}

// slots is an admission control: a fixed number of units (images in the
// server, or bodies being received) may be in use at once. A request that
// does not fit is refused with 429 at once rather than queued without
// bound.
type slots struct {
	max   int64
	used  atomic.Int64
	gauge prometheus.Gauge
}

// acquire reserves n slots, or none.
func (s *slots) acquire(n int) bool {
	for {
		cur := s.used.Load()
		if cur+int64(n) > s.max {
			return false
		}
		if s.used.CompareAndSwap(cur, cur+int64(n)) {
			s.gauge.Add(float64(n))
			return true
		}
	}
}

func (s *slots) release(n int) {
	s.used.Add(-int64(n))
	s.gauge.Sub(float64(n))
}
