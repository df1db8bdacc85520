package clip

import (
	"context"
	"runtime"
	"sync"
	"testing"
)

// Decoding big photos must not let garbage pile up to the size of the
// model's live weights (Go's pacer would: with 512 MB live, it collects at
// ~1 GB). Here a 512 MB ballast stands for the weights and each prepare
// leaves 32 MB of garbage, as a 12 MP decode leaves ~100 MB: the heap may
// exceed the ballast by the garbage budget plus what the workers hold,
// never by the pacer's whole margin. (The allocations are never written,
// so they cost address space and heap accounting, little RSS. One worker:
// with two, the second keeps allocating while the first collects, and the
// peak depends on timing.)
func TestEmbedImagesBoundsDecodeGarbage(t *testing.T) {
	if testing.Short() {
		t.Skip("allocates 1 GB of (untouched) heap")
	}
	runtime.GC()
	var base runtime.MemStats
	runtime.ReadMemStats(&base)
	ballast := make([]byte, 512<<20)
	const garbage, n = 32 << 20, 16
	var mu sync.Mutex
	var peak uint64
	prepare := func(_ context.Context, i int, dst []float32) error {
		b := make([]byte, garbage)
		var ms runtime.MemStats
		runtime.ReadMemStats(&ms)
		mu.Lock()
		peak = max(peak, ms.HeapAlloc)
		mu.Unlock()
		runtime.KeepAlive(b)
		dst[0] = float32(i)
		return nil
	}
	err := EmbedImages(context.Background(), n, prepare, &sumEncoder{}, PipelineOptions{BatchSize: 4, Workers: 1},
		func(Result) error { return nil })
	if err != nil {
		t.Fatal(err)
	}
	runtime.KeepAlive(ballast)
	over := int64(peak) - int64(base.HeapAlloc) - int64(len(ballast))
	limit := int64(decodeGarbageBudget + 4*garbage)
	t.Logf("peak heap %d MiB over the ballast (limit %d MiB)", over>>20, limit>>20)
	if over > limit {
		t.Errorf("decode garbage reached %d MiB beyond the live heap, want ≤ %d MiB", over>>20, limit>>20)
	}
}
