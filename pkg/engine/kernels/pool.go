package kernels

import (
	"runtime"
	"sync"
	"sync/atomic"
	"time"
)

// Pool is a fixed set of persistent worker goroutines that the parallel
// kernels split their work over. The calling goroutine always takes a share
// itself, so a Pool of n threads starts n-1 workers.
//
// A nil *Pool is valid everywhere and means "run on the calling goroutine
// only". A Pool runs one kernel at a time: when a second goroutine calls a
// kernel while the Pool is busy, that call runs single-threaded on its own
// goroutine instead of waiting, so concurrent callers never deadlock and
// never oversubscribe the cores.
//
// Kernels never block on anything but their own workers, and every call
// returns only after all of its work is done, so no work outlives a call and
// there is nothing to cancel: callers check their context between kernels.
type Pool struct {
	threads int
	// isa is the level the kernels run at (resolved, see ISA.Resolve),
	// kern its kernels; serial is a one-thread Pool with the same level
	// (itself when threads is 1), see Serial.
	isa     ISA
	kern    *isaKernels
	serial  *Pool
	busy    sync.Mutex
	workers []*poolWorker
	pending atomic.Int32 // workers still running the current call's fn
	closed  atomic.Bool
	// waiting is set while the caller of run is parked on done, which
	// the last worker to finish sends a token on.
	waiting atomic.Bool
	done    chan struct{} // capacity 1

	// scratch[t] holds thread t's packing buffers, reused across calls;
	// guarded by busy.
	scratch []gemmScratch

	// The state of the call holding busy, kept here rather than in
	// per-call closures and descriptors so that a parallel kernel call
	// allocates nothing: job is what the workers run (they are handed
	// &job); parallelTask and gemmTask are method values bound once by
	// NewPool over the par, gemm and gemmQ descriptors.
	job          func(thread int)
	par          parallelCall
	parallelTask func(thread int)
	gemm         gemmRun
	gemmTask     func(thread int)
	gemmQ        gemmQRun
	gemmQTask    func(thread int)
	layerNorm    layerNormCall
	layerNormFn  func(lo, hi int)
	attn         attentionCall
	attnFn       func(lo, hi int)
	dynQuant     dynQuantCall
	dynQuantFn   func(thread int)
	half         []float32 // RoundFloat16's slice
	halfFn       func(lo, hi int)
}

// parallelCall is one Parallel call's split of [0, n) over threads.
type parallelCall struct {
	n, threads int
	fn         func(lo, hi int)
}

// NewPool starts a Pool of the given number of threads (including the
// caller) whose kernels use everything this CPU offers (ISANative).
// threads < 1 means runtime.GOMAXPROCS(0).
func NewPool(threads int) *Pool {
	return newPool(threads, ISANative)
}

// NewPoolWith is NewPool with options, such as WithISA to limit the
// instruction set of every kernel run by the Pool. It fails, starting
// nothing, when an option is invalid on this CPU.
func NewPoolWith(threads int, opts ...PoolOption) (*Pool, error) {
	var cfg poolConfig
	for _, o := range opts {
		if err := o(&cfg); err != nil {
			return nil, err
		}
	}
	return newPool(threads, cfg.isa), nil
}

func newPool(threads int, isa ISA) *Pool {
	if threads < 1 {
		threads = runtime.GOMAXPROCS(0)
	}
	p := &Pool{threads: threads, isa: isa.Resolve(), kern: &isaTable[isa], scratch: make([]gemmScratch, threads), done: make(chan struct{}, 1)}
	p.serial = p
	if threads > 1 {
		p.serial = &Pool{threads: 1, isa: p.isa, kern: p.kern}
		p.serial.serial = p.serial
	}
	p.parallelTask = p.parallelShare
	p.gemmTask = p.gemmShare
	p.gemmQTask = p.gemmQShare
	p.layerNormFn = p.layerNorm.rows
	p.attnFn = p.attn.heads
	p.dynQuantFn = p.dynQuant.share
	p.halfFn = p.roundHalfRange
	for t := 1; t < threads; t++ {
		w := &poolWorker{wake: make(chan struct{}, 1)}
		p.workers = append(p.workers, w)
		go w.loop(p, t)
	}
	return p
}

// poolSpin is how long an idle worker keeps polling for its next job
// before it parks. A model run calls the kernels back to back with a few
// microseconds of single-threaded dispatch between them; waking a parked
// goroutine costs tens of microseconds (futex, scheduler), which at batch
// 1 left the second core idle for a quarter of the run.
const poolSpin = 50 * time.Microsecond

// poolWaitSpin is how long the caller of a parallel kernel polls for its
// workers to finish before it parks. It must exceed the latency of waking
// a parked worker (tens of microseconds, more on a VM): a worker that
// started late would otherwise finish after the caller parked, and the
// call would pay a second wake-up. With 50 µs, ViT-B/32 vision at batch 1
// (many short products) ran 34 instead of 26 ms; 200 µs and 1 ms both
// restore it, and with another process busy on one of the two cores 200
// µs was the faster (60 vs 72 ms, the old yield loop 78 ms).
const poolWaitSpin = 200 * time.Microsecond

// poolWorker is one persistent worker: job is its pending work (nil when
// none), sleeping is set while it is parked on wake.
type poolWorker struct {
	job      atomic.Pointer[func(int)]
	sleeping atomic.Bool
	wake     chan struct{} // capacity 1: a token never blocks the sender
}

func (w *poolWorker) loop(p *Pool, thread int) {
	for {
		fn := w.next(p)
		if fn == nil {
			return // closed
		}
		(*fn)(thread)
		if p.pending.Add(-1) == 0 && p.waiting.Load() {
			select {
			case p.done <- struct{}{}:
			default: // a token is already there
			}
		}
	}
}

// next polls for a job for poolSpin, then parks until woken. It returns
// nil when the pool is closed.
func (w *poolWorker) next(p *Pool) *func(int) {
	start := time.Now()
	for spins := 1; ; spins++ {
		if w.job.Load() != nil {
			return w.job.Swap(nil)
		}
		if p.closed.Load() {
			return nil
		}
		if spins%128 != 0 || time.Since(start) < poolSpin {
			continue
		}
		// Announce the nap, then look again: a dispatcher that stored its
		// job before seeing sleeping set is caught by this second look,
		// and one that sees it set sends a token. Both sides announce with
		// a read-modify-write, not a plain Store: Go's atomics are
		// sequentially consistent, but qemu 7.2 running arm64 code on x86
		// let a plain store (STLR) pass the next load (LDAR), so a worker
		// parked beside its job and CI's arm64 run hung; a
		// read-modify-write is a full barrier there too.
		w.sleeping.Swap(true) // read-modify-write: a full barrier before the look below
		if w.job.Load() == nil && !p.closed.Load() {
			<-w.wake
		}
		w.sleeping.Store(false)
		start = time.Now()
	}
}

// give hands fn to the worker, waking it if it is parked.
func (w *poolWorker) give(fn *func(int)) {
	w.job.Swap(fn) // read-modify-write: a full barrier before reading sleeping
	if w.sleeping.Load() {
		select {
		case w.wake <- struct{}{}:
		default: // a token is already there
		}
	}
}

// Threads reports how many goroutines (including the caller) a call on p
// may use. It is 1 for a nil Pool.
func (p *Pool) Threads() int {
	if p == nil {
		return 1
	}
	return p.threads
}

// Close stops the workers. Calls on a closed Pool run single-threaded.
// Close must not be called while a kernel is running on p.
func (p *Pool) Close() {
	if p == nil || p.closed.Swap(true) {
		return
	}
	p.busy.Lock()
	for _, w := range p.workers {
		select {
		case w.wake <- struct{}{}:
		default:
		}
	}
	p.workers = nil
	p.busy.Unlock()
}

// acquire reserves the pool for one parallel kernel. It returns the number
// of threads granted: 1 (and no reservation) when p is nil, closed, has a
// single thread, or is busy with another call.
func (p *Pool) acquire() int {
	if p == nil || p.threads < 2 || p.closed.Load() {
		return 1
	}
	if !p.busy.TryLock() {
		return 1
	}
	if len(p.workers) == 0 { // closed between the check and the lock
		p.busy.Unlock()
		return 1
	}
	return p.threads
}

func (p *Pool) release() { p.busy.Unlock() }

// run executes fn(thread) for thread in [0, threads) with the caller as
// thread 0, and returns when all have finished. The pool must have been
// acquired with the same thread count.
func (p *Pool) run(threads int, fn func(thread int)) {
	if threads == 1 {
		fn(0)
		return
	}
	p.job = fn
	p.pending.Store(int32(threads - 1))
	for t := 1; t < threads; t++ {
		p.workers[t-1].give(&p.job)
	}
	fn(0)
	// The workers' shares are as long as ours: wait for them by polling
	// for poolWaitSpin, then park. A worker the OS descheduled (another
	// process wants the core) can take milliseconds; polling, or yielding
	// in a loop, for that long would burn the very core it needs.
	start := time.Now()
	for spins := 1; p.pending.Load() != 0; spins++ {
		if spins%128 != 0 || time.Since(start) < poolWaitSpin {
			continue
		}
		// Announce the nap, then look again: a worker that finished
		// before seeing waiting set is caught by this second look, and
		// one that sees it set sends a token. A token left over from an
		// earlier call only makes this loop look once more.
		p.waiting.Swap(true) // read-modify-write: a full barrier before the look below
		if p.pending.Load() != 0 {
			<-p.done
		}
		p.waiting.Store(false)
		start = time.Now()
	}
	p.job = nil
}

// Parallel splits the range [0, n) into at most p.Threads() contiguous
// chunks of at least minChunk items and runs fn on each, in parallel when
// the pool is free. It returns when every chunk is done.
func (p *Pool) Parallel(n, minChunk int, fn func(lo, hi int)) {
	threads := p.beginSplit(n, minChunk)
	if threads <= 1 {
		if n > 0 {
			fn(0, n)
		}
		return
	}
	defer p.release()
	p.split(threads, n, fn)
}

// beginSplit is the first half of Parallel for kernels that keep their
// arguments in the Pool instead of a closure: it returns how many threads
// to split [0, n) over in chunks of at least minChunk, having reserved the
// Pool (to be released by the caller) when that is more than 1. A kernel
// may write its Pool-held arguments only after a reservation.
func (p *Pool) beginSplit(n, minChunk int) int {
	if n <= 0 {
		return 0
	}
	if minChunk < 1 {
		minChunk = 1
	}
	want := n / minChunk
	if want <= 1 {
		return 1
	}
	threads := p.acquire()
	if threads == 1 {
		return 1
	}
	return min(threads, want)
}

// split runs fn over [0, n) in threads contiguous chunks on the reserved
// Pool. fn should be a value that outlives the call (a method value bound
// once), or it is allocated like any escaping closure.
func (p *Pool) split(threads, n int, fn func(lo, hi int)) {
	p.par = parallelCall{n: n, threads: threads, fn: fn}
	p.run(threads, p.parallelTask)
	p.par = parallelCall{}
}

// parallelShare runs thread t's chunk of the current Parallel call.
func (p *Pool) parallelShare(t int) {
	c := &p.par
	lo, hi := c.n*t/c.threads, c.n*(t+1)/c.threads
	if lo < hi {
		c.fn(lo, hi)
	}
}

// barrier is a reusable spinning barrier for a fixed number of goroutines.
// Phases of the kernels are short and balanced, so spinning briefly before
// yielding costs less than parking on a channel.
type barrier struct {
	n     int32
	count atomic.Int32
	gen   atomic.Uint32
}

func (b *barrier) wait() {
	if b.n <= 1 {
		return
	}
	gen := b.gen.Load()
	if b.count.Add(1) == b.n {
		b.count.Store(0)
		b.gen.Add(1)
		return
	}
	for spins := 0; b.gen.Load() == gen; spins++ {
		if spins > 200 {
			runtime.Gosched()
		}
	}
}
