package clip

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// sumEncoder "embeds" an image as [sum of its pixels], so results can be
// traced back to inputs; it records batch sizes and concurrent calls.
type sumEncoder struct {
	mu      sync.Mutex
	batches []int
	active  atomic.Int32
	overlap bool
	delay   time.Duration
}

func (e *sumEncoder) InputSize() (int, int) { return 2, 2 }

func (e *sumEncoder) EncodeImages(_ context.Context, px []float32, n int) ([][]float32, error) {
	if e.active.Add(1) > 1 {
		e.overlap = true
	}
	defer e.active.Add(-1)
	time.Sleep(e.delay)
	e.mu.Lock()
	e.batches = append(e.batches, n)
	e.mu.Unlock()
	out := make([][]float32, n)
	for i := range out {
		var s float32
		for _, v := range px[i*12 : (i+1)*12] {
			s += v
		}
		out[i] = []float32{s}
	}
	return out, nil
}

func TestEmbedImagesOrderErrorsAndBatching(t *testing.T) {
	const n = 203
	var maxHeld, held atomic.Int32
	prepare := func(_ context.Context, i int, dst []float32) error {
		if h := held.Add(1); h > maxHeld.Load() {
			maxHeld.Store(h)
		}
		defer held.Add(-1)
		if i%50 == 7 {
			return fmt.Errorf("broken %d", i)
		}
		for j := range dst {
			dst[j] = float32(i)
		}
		if i%3 == 0 {
			time.Sleep(time.Millisecond) // uneven decode times reorder completions
		}
		return nil
	}
	enc := &sumEncoder{}
	next := 0
	errs := 0
	err := EmbedImages(context.Background(), n, prepare, enc, PipelineOptions{BatchSize: 8, Workers: 3}, func(r Result) error {
		if r.Index != next {
			t.Fatalf("emitted %d, want %d (input order)", r.Index, next)
		}
		next++
		if r.Index%50 == 7 {
			if r.Err == nil {
				t.Errorf("input %d: want its error", r.Index)
			}
			errs++
			return nil
		}
		if r.Err != nil || r.Embedding[0] != float32(12*r.Index) {
			t.Errorf("input %d: got %v, %v; want [%d]", r.Index, r.Embedding, r.Err, 12*r.Index)
		}
		return nil
	})
	if err != nil || next != n || errs != 4 {
		t.Fatalf("err %v, emitted %d of %d, %d errors", err, next, n, errs)
	}
	if enc.overlap {
		t.Error("EncodeImages ran concurrently with itself")
	}
	total := 0
	for _, b := range enc.batches {
		if b < 1 || b > 8 {
			t.Errorf("batch of %d", b)
		}
		total += b
	}
	if total != n-4 {
		t.Errorf("encoded %d images, want %d", total, n-4)
	}
}

func TestEmbedImagesFullBatchesWhenInferenceIsSlow(t *testing.T) {
	enc := &sumEncoder{delay: 20 * time.Millisecond}
	err := EmbedImages(context.Background(), 64, func(context.Context, int, []float32) error { return nil }, enc,
		PipelineOptions{BatchSize: 8, Workers: 2}, func(Result) error { return nil })
	if err != nil {
		t.Fatal(err)
	}
	full := 0
	for _, b := range enc.batches {
		if b == 8 {
			full++
		}
	}
	if full < len(enc.batches)/2 {
		t.Errorf("batches %v: want mostly full batches while inference is the bottleneck", enc.batches)
	}
}

func TestEmbedImagesCancelKeepsFinished(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	enc := &sumEncoder{}
	var got []int
	err := EmbedImages(ctx, 1000, func(ctx context.Context, i int, dst []float32) error {
		if i == 20 {
			cancel()
		}
		return ctx.Err()
	}, enc, PipelineOptions{BatchSize: 4, Workers: 2}, func(r Result) error {
		if r.Err != nil && errors.Is(r.Err, context.Canceled) {
			t.Errorf("input %d emitted with a cancellation error", r.Index)
		}
		got = append(got, r.Index)
		return nil
	})
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("err = %v, want context.Canceled", err)
	}
	if len(got) < 10 || len(got) > 60 {
		t.Errorf("emitted %d results after cancelling at 20", len(got))
	}
	for i := 1; i < len(got); i++ {
		if got[i] <= got[i-1] {
			t.Fatalf("out of order after cancel: %v", got)
		}
	}
}

func TestEmbedImagesPanicInPrepareIsAnError(t *testing.T) {
	var errs int
	err := EmbedImages(context.Background(), 3, func(_ context.Context, i int, _ []float32) error {
		if i == 1 {
			panic("decoder bug")
		}
		return nil
	}, &sumEncoder{}, PipelineOptions{}, func(r Result) error {
		if r.Err != nil {
			errs++
		}
		return nil
	})
	if err != nil || errs != 1 {
		t.Errorf("err %v, %d error results; want nil and 1", err, errs)
	}
}

// failingEncoder fails every inference after the first ok batches.
type failingEncoder struct {
	sumEncoder
	ok    int
	calls atomic.Int32
}

func (e *failingEncoder) EncodeImages(ctx context.Context, px []float32, n int) ([][]float32, error) {
	if int(e.calls.Add(1)) > e.ok {
		return nil, errors.New("Expand: shape [1099511627776] is too large")
	}
	return e.sumEncoder.EncodeImages(ctx, px, n)
}

// An inference failure is the model's, not the images': the pipeline stops
// and returns it as a *ModelError instead of one error result per image.
func TestEmbedImagesInferenceFailureIsModelError(t *testing.T) {
	prepare := func(_ context.Context, i int, dst []float32) error {
		if i == 1 {
			return errors.New("corrupt image")
		}
		return nil
	}
	enc := &failingEncoder{ok: 1}
	var emitted []Result
	err := EmbedImages(context.Background(), 40, prepare, enc, PipelineOptions{BatchSize: 4, Workers: 1}, func(r Result) error {
		emitted = append(emitted, r)
		return nil
	})
	var me *ModelError
	if !errors.As(err, &me) || !strings.Contains(err.Error(), "too large") {
		t.Fatalf("EmbedImages = %v, want a *ModelError with the engine's message", err)
	}
	if len(emitted) >= 40 {
		t.Fatalf("emitted %d results after the model failed, want the pipeline stopped", len(emitted))
	}
	for _, r := range emitted {
		if r.Err != nil && r.Index != 1 {
			t.Errorf("input %d got the model's error as its own: %v", r.Index, r.Err)
		}
	}
}

// turnsEncoder records whether a decode started while a batch was being
// inferred, and when PrepareImages ran.
type turnsEncoder struct {
	sumEncoder
	inferring    atomic.Bool
	decodeInside atomic.Int32 // decodes started during an inference
	decoding     atomic.Int32 // decodes running now
	inferInside  atomic.Int32 // inferences started during a decode
	prepared     atomic.Int32 // PrepareImages' n, 0 before it ran
	preparedLate atomic.Bool  // PrepareImages ran after an inference
}

func (e *turnsEncoder) EncodeImages(ctx context.Context, px []float32, n int) ([][]float32, error) {
	e.inferring.Store(true)
	defer e.inferring.Store(false)
	if e.decoding.Load() > 0 {
		e.inferInside.Add(1)
	}
	time.Sleep(5 * time.Millisecond) // room for a decoder to start, were it allowed
	return e.sumEncoder.EncodeImages(ctx, px, n)
}

func (e *turnsEncoder) PrepareImages(_ context.Context, n int) error {
	e.mu.Lock()
	e.preparedLate.Store(len(e.batches) > 0)
	e.mu.Unlock()
	e.prepared.Store(int32(n))
	return nil
}

// When decoders and inference together want more threads than there are
// cores, they take turns: no decode starts during an inference, no
// inference starts during a decode, and the batches are full (all but the last). The encoder's one-off preparation
// runs before the first batch.
func TestEmbedImagesDecodeAndInferenceTakeTurns(t *testing.T) {
	enc := &turnsEncoder{}
	const n = 37
	prepare := func(_ context.Context, i int, dst []float32) error {
		enc.decoding.Add(1)
		defer enc.decoding.Add(-1)
		if enc.inferring.Load() {
			enc.decodeInside.Add(1)
		}
		time.Sleep(time.Millisecond)
		return nil
	}
	opt := PipelineOptions{BatchSize: 8, Workers: 2, InferThreads: runtime.GOMAXPROCS(0)}
	if err := EmbedImages(context.Background(), n, prepare, enc, opt, func(Result) error { return nil }); err != nil {
		t.Fatal(err)
	}
	if k := enc.decodeInside.Load(); k > 0 {
		t.Errorf("%d decodes started while a batch was being inferred", k)
	}
	if k := enc.inferInside.Load(); k > 0 {
		t.Errorf("%d batches started while an image was being decoded", k)
	}
	if want := []int{8, 8, 8, 8, 5}; fmt.Sprint(enc.batches) != fmt.Sprint(want) {
		t.Errorf("batches %v, want %v", enc.batches, want)
	}
	if got := enc.prepared.Load(); got != 8 || enc.preparedLate.Load() {
		t.Errorf("PrepareImages(%d) after an inference: %v; want PrepareImages(8) before the first", got, enc.preparedLate.Load())
	}
}

// Decoders waiting for their turn still stop on cancellation.
func TestEmbedImagesTurnsCancel(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	enc := &turnsEncoder{}
	opt := PipelineOptions{BatchSize: 4, Workers: 2, InferThreads: runtime.GOMAXPROCS(0)}
	done := make(chan error, 1)
	go func() {
		done <- EmbedImages(ctx, 1000, func(context.Context, int, []float32) error { return nil },
			cancelOnInfer{enc, cancel}, opt, func(Result) error { return nil })
	}()
	select {
	case err := <-done:
		if !errors.Is(err, context.Canceled) {
			t.Fatalf("err = %v, want context.Canceled", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("EmbedImages did not return after a cancellation during an inference")
	}
}

// cancelOnInfer cancels the run from inside its first inference.
type cancelOnInfer struct {
	*turnsEncoder
	cancel context.CancelFunc
}

func (c cancelOnInfer) EncodeImages(ctx context.Context, px []float32, n int) ([][]float32, error) {
	c.cancel()
	<-ctx.Done()
	return nil, ctx.Err()
}

// Taking turns waits for full batches, but not forever: when one slow
// decode holds back the input order, the results after it fill the
// in-flight budget while the slow image waits in a partial batch; with
// nothing more to come the batch must run.
func TestEmbedImagesTurnsSlowImageDoesNotStall(t *testing.T) {
	opt := PipelineOptions{BatchSize: 4, Workers: 2, InferThreads: runtime.GOMAXPROCS(0)}
	prepare := func(_ context.Context, i int, _ []float32) error {
		if i%20 == 0 {
			time.Sleep(30 * time.Millisecond)
		}
		return nil
	}
	done := make(chan error, 1)
	emitted := 0
	go func() {
		done <- EmbedImages(context.Background(), 60, prepare, &turnsEncoder{}, opt, func(Result) error { emitted++; return nil })
	}()
	select {
	case err := <-done:
		if err != nil || emitted != 60 {
			t.Fatalf("err %v, %d of 60 emitted", err, emitted)
		}
	case <-time.After(20 * time.Second):
		t.Fatal("EmbedImages stalled: a partial batch waited for images the in-flight budget kept out")
	}
}
