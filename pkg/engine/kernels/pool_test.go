package kernels

import (
	"math"
	"math/rand/v2"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// TestPoolConcurrentCallers runs products from several goroutines on one
// Pool at once: each must still be right (a busy Pool runs the extra
// calls on their own goroutines) and nothing may deadlock.
func TestPoolConcurrentCallers(t *testing.T) {
	pool := NewPool(2)
	defer pool.Close()
	const m, n, k = 70, 90, 400 // above the parallel threshold
	rng := rand.New(rand.NewPCG(20, 1))
	a, b := randSlice(rng, m*k), randSlice(rng, k*n)
	want, mag := refGemm(false, false, m, n, k, 1, a, k, b, n, 0, nil, n)
	var wg sync.WaitGroup
	errs := make(chan string, 8)
	for range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			c := make([]float32, m*n)
			for range 5 {
				Sgemm(pool, false, false, m, n, k, 1, a, k, b, n, 0, c, n)
				for i, w := range want {
					if math.Abs(float64(c[i])-w) > 4*float64(k)*1.2e-7*mag[i] {
						errs <- "wrong product under concurrent use"
						return
					}
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for e := range errs {
		t.Fatal(e)
	}
	pool.Close()
	c := make([]float32, m*n)
	Sgemm(pool, false, false, m, n, k, 1, a, k, b, n, 0, c, n) // closed: runs serially
	if math.Abs(float64(c[0])-want[0]) > 4*float64(k)*1.2e-7*mag[0] {
		t.Fatal("wrong product on a closed Pool")
	}
}

// TestPoolWaitsForSlowWorker runs Parallel calls whose worker share takes
// far longer than the caller's poll (poolSpin), as when the OS deschedules
// a worker, and short ones in between: the caller must park, be woken by
// the last worker, and still see every share done before it returns.
func TestPoolWaitsForSlowWorker(t *testing.T) {
	pool := NewPool(3)
	defer pool.Close()
	for round := range 20 {
		var done [3]atomic.Bool
		delay := time.Duration(0)
		if round%2 == 0 {
			delay = 2 * time.Millisecond // > poolSpin: the caller parks
		}
		pool.Parallel(3, 1, func(lo, hi int) {
			if lo > 0 {
				time.Sleep(delay)
			}
			for i := lo; i < hi; i++ {
				done[i].Store(true)
			}
		})
		for i := range done {
			if !done[i].Load() {
				t.Fatalf("round %d: Parallel returned before share %d finished", round, i)
			}
		}
	}
}
