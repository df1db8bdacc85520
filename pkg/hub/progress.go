package hub

import (
	"io"
	"time"

	"github.com/schollz/progressbar/v3"
)

// TerminalProgress draws one progress bar per downloaded file on w (a
// terminal's stderr); pass it as StoreOptions.Progress.
func TerminalProgress(w io.Writer) func(file string, size, done int64) io.WriteCloser {
	return func(file string, size, done int64) io.WriteCloser {
		bar := progressbar.NewOptions64(size,
			progressbar.OptionSetWriter(w),
			progressbar.OptionSetDescription(file),
			progressbar.OptionShowBytes(true),
			progressbar.OptionThrottle(100*time.Millisecond),
			progressbar.OptionShowCount(),
			progressbar.OptionOnCompletion(func() { io.WriteString(w, "\n") }),
			progressbar.OptionSetPredictTime(true),
			progressbar.OptionFullWidth(),
		)
		if done > 0 {
			_ = bar.Set64(done)
		}
		return &barWriter{bar: bar}
	}
}

type barWriter struct{ bar *progressbar.ProgressBar }

func (b *barWriter) Write(p []byte) (int, error) {
	_ = b.bar.Add(len(p))
	return len(p), nil
}

func (b *barWriter) Close() error { return b.bar.Finish() }
