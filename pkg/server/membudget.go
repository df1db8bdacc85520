package server

import (
	"context"
	"image/color"
	"sync"

	"github.com/clip-go/clip/pkg/imageproc"
)

// memBudget bounds the memory of the image decodes running at once: each
// takes an estimate of its peak memory (from the image header) and waits,
// first come first served, until that fits. A decode larger than the whole
// budget still runs, alone.
type memBudget struct {
	mu      sync.Mutex
	size    int64
	used    int64
	waiting []*memWaiter
}

type memWaiter struct {
	n     int64
	ready chan struct{}
}

// acquire takes n bytes of the budget (at most all of it), waiting for
// them unless ctx ends first; it returns what was taken, to release.
func (b *memBudget) acquire(ctx context.Context, n int64) (int64, error) {
	n = min(max(n, 0), b.size)
	b.mu.Lock()
	if len(b.waiting) == 0 && b.used+n <= b.size {
		b.used += n
		b.mu.Unlock()
		return n, nil
	}
	w := &memWaiter{n: n, ready: make(chan struct{})}
	b.waiting = append(b.waiting, w)
	b.mu.Unlock()
	select {
	case <-w.ready:
		return n, nil
	case <-ctx.Done():
		b.mu.Lock()
		defer b.mu.Unlock()
		select {
		case <-w.ready:
			// Granted just as ctx ended: hand it back.
			b.used -= n
		default:
			for i, o := range b.waiting {
				if o == w {
					b.waiting = append(b.waiting[:i], b.waiting[i+1:]...)
					break
				}
			}
		}
		b.grantLocked()
		return 0, ctx.Err()
	}
}

func (b *memBudget) release(n int64) {
	b.mu.Lock()
	b.used -= n
	b.grantLocked()
	b.mu.Unlock()
}

// grantLocked wakes waiters in order while the first one fits.
func (b *memBudget) grantLocked() {
	for len(b.waiting) > 0 && b.used+b.waiting[0].n <= b.size {
		w := b.waiting[0]
		b.waiting = b.waiting[1:]
		b.used += w.n
		close(w.ready)
	}
}

// waiters is the number of decodes waiting for memory (for tests).
func (b *memBudget) waiters() int {
	b.mu.Lock()
	defer b.mu.Unlock()
	return len(b.waiting)
}

// decodeCost estimates the peak memory of decoding an image file and
// preparing it: the decoder's own image (bytes per pixel by colour model)
// plus the 3-byte RGB image the pipeline converts it to. A file whose
// header cannot be read costs nothing here: decoding fails on it at once.
func decodeCost(data []byte) int64 {
	cfg, _, err := imageproc.DecodeHeader(data)
	if err != nil || cfg.Width <= 0 || cfg.Height <= 0 {
		return 0
	}
	bpp := int64(4)
	switch cfg.ColorModel {
	case color.GrayModel, color.AlphaModel:
		bpp = 1
	case color.Gray16Model, color.Alpha16Model:
		bpp = 2
	case color.YCbCrModel:
		bpp = 3
	case color.RGBA64Model, color.NRGBA64Model:
		bpp = 8
	default:
		if _, ok := cfg.ColorModel.(color.Palette); ok {
			bpp = 1
		}
	}
	return int64(cfg.Width) * int64(cfg.Height) * (bpp + 3)
}
