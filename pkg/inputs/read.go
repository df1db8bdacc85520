package inputs

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"

	"github.com/clip-go/clip/pkg/imageproc"
)

// headerBytes is how much of a file is read before the rest: enough for the
// header of every supported format, EXIF included in all but rare JPEGs.
const headerBytes = 256 << 10

// readChunk is the unit between two checks of the context.
const readChunk = 4 << 20

// ReadFile reads a local file with limits, for inputs that may be hostile
// or merely wrong: the path must name a regular file (a FIFO, a device such
// as a symlink to /dev/zero, or a socket is refused before it is opened, so
// nothing blocks), it may hold at most limit bytes (0: no limit), check
// (if not nil) sees the first bytes before the rest is read, and the read
// stops when ctx is cancelled. Errors do not repeat the path: callers
// report it beside them.
func ReadFile(ctx context.Context, path string, limit int64, check func(prefix []byte) error) ([]byte, error) {
	if err := checkRegular(path); err != nil {
		return nil, err
	}
	f, err := os.Open(path)
	if err != nil {
		return nil, cleanPathError(err)
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return nil, cleanPathError(err)
	}
	if !st.Mode().IsRegular() { // replaced between the check and the open
		return nil, notRegular(st.Mode())
	}
	if limit > 0 && st.Size() > limit {
		return nil, fmt.Errorf("file is %d bytes, over the %d-byte limit", st.Size(), limit)
	}
	return readCapped(ctx, f, st.Size(), limit, check)
}

// checkRegular refuses anything but a regular file (after symlinks), and
// names a dangling symlink as such.
func checkRegular(path string) error {
	st, err := os.Stat(path)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			if target, lerr := os.Readlink(path); lerr == nil {
				return fmt.Errorf("broken symbolic link: %s does not exist", target)
			}
		}
		return cleanPathError(err)
	}
	if st.IsDir() {
		return errors.New("is a directory")
	}
	if !st.Mode().IsRegular() {
		return notRegular(st.Mode())
	}
	return nil
}

func notRegular(m fs.FileMode) error {
	kind := "a special file"
	switch {
	case m&fs.ModeNamedPipe != 0:
		kind = "a named pipe (FIFO)"
	case m&fs.ModeSocket != 0:
		kind = "a socket"
	case m&fs.ModeCharDevice != 0:
		kind = "a character device"
	case m&fs.ModeDevice != 0:
		kind = "a block device"
	}
	return fmt.Errorf("not a regular file: %s", kind)
}

// readCapped reads r to its end: at most limit bytes (0: no limit), the
// first headerBytes shown to check before the rest is read, ctx checked
// between chunks. sizeHint (the file's size, or 0) sizes the buffer.
func readCapped(ctx context.Context, r io.Reader, sizeHint, limit int64, check func([]byte) error) ([]byte, error) {
	capacity := sizeHint + 1 // +1 sees growth past the size without a reallocation
	if capacity < 512 {
		capacity = 512
	}
	if limit > 0 && capacity > limit+1 {
		capacity = limit + 1
	}
	first := min(int64(headerBytes), capacity)
	buf := make([]byte, 0, first)
	checked := check == nil
	for {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		if len(buf) == cap(buf) {
			next := max(2*int64(cap(buf)), capacity)
			if limit > 0 && next > limit+1 {
				next = limit + 1
			}
			if next <= int64(cap(buf)) {
				return nil, fmt.Errorf("over the %d-byte limit", limit)
			}
			grown := make([]byte, len(buf), next)
			copy(grown, buf)
			buf = grown
		}
		end := min(cap(buf), len(buf)+readChunk)
		n, err := r.Read(buf[len(buf):end])
		buf = buf[:len(buf)+n]
		if limit > 0 && int64(len(buf)) > limit {
			return nil, fmt.Errorf("over the %d-byte limit", limit)
		}
		if !checked && (len(buf) >= headerBytes || err != nil) {
			checked = true
			if cerr := check(buf); cerr != nil {
				return nil, cerr
			}
		}
		if err == io.EOF {
			return buf, nil
		}
		if err != nil {
			return nil, cleanPathError(err)
		}
	}
}

// NewImageFetcher reads image inputs within the limits decoding will
// apply: a file larger than any image under the megapixel cap can be
// (imageproc.DecodeOptions.MaxFileBytes) is refused unread, and one whose
// header declares too many pixels, or is no supported image, before its
// body is read. URL limits are the Fetcher's defaults.
func NewImageFetcher(dec imageproc.DecodeOptions) *Fetcher {
	return &Fetcher{
		MaxFileBytes: dec.MaxFileBytes(),
		CheckHeader:  func(prefix []byte) error { return imageproc.CheckHeader(prefix, dec) },
	}
}
