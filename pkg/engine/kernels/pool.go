package kernels

import (
	"runtime"
	"sync"
	"sync/atomic"
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
	busy    sync.Mutex
	jobs    []chan func(thread int)
	done    sync.WaitGroup
	closed  atomic.Bool

	// scratch[t] holds thread t's packing buffers, reused across calls;
	// guarded by busy.
	scratch []gemmScratch
}

// NewPool starts a Pool of the given number of threads (including the
// caller). threads < 1 means runtime.GOMAXPROCS(0).
func NewPool(threads int) *Pool {
	if threads < 1 {
		threads = runtime.GOMAXPROCS(0)
	}
	p := &Pool{threads: threads, scratch: make([]gemmScratch, threads)}
	for t := 1; t < threads; t++ {
		ch := make(chan func(int))
		p.jobs = append(p.jobs, ch)
		go func(thread int) {
			for job := range ch {
				job(thread)
				p.done.Done()
			}
		}(t)
	}
	return p
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
	for _, ch := range p.jobs {
		close(ch)
	}
	p.jobs = nil
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
	if len(p.jobs) == 0 { // closed between the check and the lock
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
	p.done.Add(threads - 1)
	for t := 1; t < threads; t++ {
		p.jobs[t-1] <- fn
	}
	fn(0)
	p.done.Wait()
}

// Parallel splits the range [0, n) into at most p.Threads() contiguous
// chunks of at least minChunk items and runs fn on each, in parallel when
// the pool is free. It returns when every chunk is done.
func (p *Pool) Parallel(n, minChunk int, fn func(lo, hi int)) {
	if n <= 0 {
		return
	}
	if minChunk < 1 {
		minChunk = 1
	}
	want := n / minChunk
	if want <= 1 {
		fn(0, n)
		return
	}
	threads := p.acquire()
	if threads == 1 {
		fn(0, n)
		return
	}
	defer p.release()
	if want < threads {
		threads = want
	}
	p.run(threads, func(t int) {
		lo, hi := n*t/threads, n*(t+1)/threads
		if lo < hi {
			fn(lo, hi)
		}
	})
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
