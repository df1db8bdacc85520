//go:build linux || darwin || freebsd || netbsd || openbsd || dragonfly

package inputs

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"hash/crc32"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/clip-go/clip/pkg/imageproc"
	"github.com/clip-go/clip/pkg/inputs/inputstest"
)

// pngHeader is a PNG signature and IHDR chunk declaring w×h RGBA pixels.
func pngHeader(w, h uint32) []byte {
	ihdr := make([]byte, 13)
	binary.BigEndian.PutUint32(ihdr[0:], w)
	binary.BigEndian.PutUint32(ihdr[4:], h)
	ihdr[8], ihdr[9] = 8, 6
	var b bytes.Buffer
	b.WriteString("\x89PNG\r\n\x1a\n")
	binary.Write(&b, binary.BigEndian, uint32(13))
	chunk := append([]byte("IHDR"), ihdr...)
	b.Write(chunk)
	binary.Write(&b, binary.BigEndian, crc32.ChecksumIEEE(chunk))
	return b.Bytes()
}

// TestExpandNonRegularFiles: directory scans and given paths never open a
// FIFO or a device; each named like an image becomes an error record that
// says what it is, without repeating the path.
func TestExpandNonRegularFiles(t *testing.T) {
	root := tree(t, "a.jpg", "sub/b.png")
	j := func(p string) string { return filepath.Join(root, p) }
	inputstest.Mkfifo(t, j("fifo.jpg"))
	inputstest.Mkfifo(t, j("notes.fifo")) // not named like an image: not considered
	if err := os.Symlink("/dev/zero", j("zero.png")); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(j("gone.png"), j("dangling.png")); err != nil {
		t.Fatal(err)
	}
	var in []Input
	inputstest.NoHang(t, "Expand", func() {
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		var err error
		in, err = Expand(ctx, []string{root, j("fifo.jpg")}, Options{})
		if err != nil {
			t.Error(err)
		}
	})
	got := map[string]string{}
	for _, i := range in {
		msg := ""
		if i.Err != nil {
			msg = i.Err.Error()
			if strings.Contains(msg, i.Name) {
				t.Errorf("%s: error repeats the path: %q", i.Name, msg)
			}
		}
		rel, _ := filepath.Rel(root, i.Name)
		got[rel] += msg + ";"
	}
	want := map[string]string{
		"a.jpg":        ";",
		"dangling.png": "broken symbolic link",
		"fifo.jpg":     "named pipe",
		"zero.png":     "character device",
	}
	if len(got) != len(want) {
		t.Errorf("inputs %v, want the keys of %v", got, want)
	}
	for k, w := range want {
		if !strings.Contains(got[k], w) {
			t.Errorf("%s: %q, want it to mention %q", k, got[k], w)
		}
	}
	if strings.Count(got["fifo.jpg"], "named pipe") != 2 {
		t.Errorf("fifo.jpg scanned and given: %q, want two error records", got["fifo.jpg"])
	}
}

// TestReadFileRefusesEndlessAndHugeInputs: a FIFO and /dev/zero are
// refused unread; a sparse file whose PNG header declares 60000×60000 is
// refused after its header, without reading (allocating) its body.
func TestReadFileRefusesEndlessAndHugeInputs(t *testing.T) {
	dir := t.TempDir()
	ctx := context.Background()
	fifo := filepath.Join(dir, "b.jpg")
	inputstest.Mkfifo(t, fifo)
	zero := filepath.Join(dir, "zero.jpg")
	os.Symlink("/dev/zero", zero)
	dec := imageproc.DecodeOptions{}
	f := NewImageFetcher(dec)
	for _, p := range []string{fifo, zero} {
		inputstest.NoHang(t, "ReadFile("+p+")", func() {
			if _, err := f.Open(ctx, Input{Name: p}); err == nil || !strings.Contains(err.Error(), "not a regular file") {
				t.Errorf("%s: err = %v, want a refusal", p, err)
			}
		})
	}

	sparse := filepath.Join(dir, "huge.png")
	if err := os.WriteFile(sparse, pngHeader(60000, 60000), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Truncate(sparse, 3<<30); err != nil {
		t.Skipf("sparse file: %v", err)
	}
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	// The byte cap derived from 100 MP refuses 3 GB unread ...
	_, errSize := f.Open(ctx, Input{Name: sparse})
	// ... and without a byte cap the header check refuses it after 256 KiB.
	_, errHeader := ReadFile(ctx, sparse, 0, func(p []byte) error { return imageproc.CheckHeader(p, dec) })
	runtime.ReadMemStats(&after)
	if errSize == nil || !strings.Contains(errSize.Error(), "limit") {
		t.Errorf("3 GB file under a 100 MP cap: err = %v, want the byte limit", errSize)
	}
	if !errors.Is(errHeader, imageproc.ErrTooLarge) || !strings.Contains(errHeader.Error(), "60000x60000") {
		t.Errorf("header check: err = %v, want ErrTooLarge for 60000x60000", errHeader)
	}
	if grew := after.TotalAlloc - before.TotalAlloc; grew > 16<<20 {
		t.Errorf("refusing a 3 GB sparse file allocated %d MiB", grew>>20)
	}
	if max := dec.MaxFileBytes(); max < 800e6 || max > 900e6 {
		t.Errorf("MaxFileBytes at 100 MP = %d, want 8 bytes/pixel + 16 MiB", max)
	}
}

func TestReadFileCapsAGrowingFile(t *testing.T) {
	p := filepath.Join(t.TempDir(), "a.bin")
	os.WriteFile(p, make([]byte, 1000), 0o644)
	if _, err := ReadFile(context.Background(), p, 999, nil); err == nil || !strings.Contains(err.Error(), "limit") {
		t.Errorf("1000 bytes under a 999-byte cap: err = %v", err)
	}
	// readCapped itself stops at the cap when the stream is longer than
	// its stat said (a file growing while read, or stdin).
	if _, err := readCapped(context.Background(), io.LimitReader(zeroReader{}, 10<<20), 10, 1<<20, nil); err == nil {
		t.Error("a 10 MiB stream under a 1 MiB cap was read")
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := ReadFile(ctx, p, 0, nil); !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled read: err = %v", err)
	}
}

type zeroReader struct{}

func (zeroReader) Read(p []byte) (int, error) { clear(p); return len(p), nil }

// TestStdinImageOrPathList: "-" holding image data is one image named "-";
// anything else is a list of paths, as before.
func TestStdinImageOrPathList(t *testing.T) {
	root := tree(t, "a.jpg")
	png := append(pngHeader(2, 2), "rest of the file"...)
	in, err := Expand(context.Background(), []string{"-"}, Options{Stdin: bytes.NewReader(png)})
	if err != nil || len(in) != 1 || in[0].Name != StdinName || in[0].Err != nil {
		t.Fatalf("PNG on stdin: %+v, %v", in, err)
	}
	b, err := (&Fetcher{}).Open(context.Background(), in[0])
	if err != nil || !bytes.Equal(b, png) {
		t.Errorf("stdin image read back %d bytes (%v), want %d", len(b), err, len(png))
	}
	in, err = Expand(context.Background(), []string{"-"}, Options{Stdin: strings.NewReader(filepath.Join(root, "a.jpg") + "\n")})
	if err != nil || len(in) != 1 || in[0].Name != filepath.Join(root, "a.jpg") {
		t.Errorf("path list on stdin: %+v, %v", in, err)
	}
}

// TestStdinReadIsCancellable: a "-" whose stdin never delivers (a terminal
// nobody types into) gives up when the context is cancelled.
func TestStdinReadIsCancellable(t *testing.T) {
	r, w := io.Pipe()
	defer w.Close()
	ctx, cancel := context.WithCancel(context.Background())
	time.AfterFunc(50*time.Millisecond, cancel)
	inputstest.NoHang(t, "Expand on a silent stdin", func() {
		if _, err := Expand(ctx, []string{"-"}, Options{Stdin: r}); !errors.Is(err, context.Canceled) {
			t.Errorf("err = %v, want context.Canceled", err)
		}
	})
}

func TestHiddenFilesSkippedUnlessNamed(t *testing.T) {
	root := tree(t, "a.jpg", ".x.png", ".cache/b.jpg", "sub/.y.jpg", "sub/c.jpg")
	j := func(p string) string { return filepath.Join(root, p) }
	cases := map[string]struct {
		args []string
		opt  Options
		want string
	}{
		"dir":            {[]string{root}, Options{Recursive: true}, "a.jpg sub/c.jpg"},
		"glob":           {[]string{j("*.png")}, Options{}, ""},
		"doublestar":     {[]string{j("**/*.jpg")}, Options{}, "a.jpg sub/c.jpg"},
		"dot doublestar": {[]string{j(".cache/**/*.jpg")}, Options{}, ".cache/b.jpg"},
		"named":          {[]string{j(".x.png")}, Options{}, ".x.png"},
		"dot glob":       {[]string{j(".*.png")}, Options{}, ".x.png"},
		"hidden as dir":  {[]string{j(".cache")}, Options{}, ".cache/b.jpg"},
	}
	for name, c := range cases {
		in, err := Expand(context.Background(), c.args, c.opt)
		if err != nil {
			t.Fatal(err)
		}
		var got []string
		for _, i := range in {
			if i.Err == nil {
				rel, _ := filepath.Rel(root, i.Name)
				got = append(got, filepath.ToSlash(rel))
			}
		}
		if g := strings.Join(got, " "); g != c.want {
			t.Errorf("%s: got %q, want %q", name, g, c.want)
		}
	}
}

// TestDotSlashDoublestar: "./**/*.png" (a common way to write it) matches
// below the current directory.
func TestDotSlashDoublestar(t *testing.T) {
	root := tree(t, "a.png", "sub/b.png")
	t.Chdir(root)
	m, err := Glob("./**/*.png")
	if err != nil || strings.Join(m, " ") != "a.png "+filepath.Join("sub", "b.png") {
		t.Errorf("Glob(./**/*.png) = %q, %v", m, err)
	}
}

func TestOfflineRefusesURLs(t *testing.T) {
	in, _ := Expand(context.Background(), []string{"http://127.0.0.1:1/x.png"}, Options{Offline: true})
	if len(in) != 1 || in[0].Err == nil || !strings.Contains(in[0].Err.Error(), "offline") {
		t.Errorf("offline URL: %+v", in)
	}
}
