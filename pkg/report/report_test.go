package report

import (
	"bytes"
	"context"
	"fmt"
	"image"
	"image/color"
	"image/jpeg"
	"image/png"
	"regexp"
	"strings"
	"testing"

	"golang.org/x/net/html"

	"github.com/clip-go/clip/pkg/clip"
	"github.com/clip-go/clip/pkg/imageproc"
)

func pngBytes(t testing.TB, w, h int, c color.RGBA) []byte {
	t.Helper()
	img := image.NewRGBA(image.Rect(0, 0, w, h))
	for i := 0; i < len(img.Pix); i += 4 {
		img.Pix[i], img.Pix[i+1], img.Pix[i+2], img.Pix[i+3] = c.R, c.G, c.B, c.A
	}
	var buf bytes.Buffer
	if err := png.Encode(&buf, img); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func record(file string, probs ...any) clip.Record {
	var scores []clip.Score
	for i := 0; i+1 < len(probs); i += 2 {
		scores = append(scores, clip.Score{Label: probs[i].(string), Probability: probs[i+1].(float64)})
	}
	return clip.NewRecord(file, scores, 0, 0.5)
}

// parse renders entries and parses the page as a browser would.
func parse(t *testing.T, opts Options, entries []Entry) (*html.Node, string) {
	t.Helper()
	var buf bytes.Buffer
	if err := Render(&buf, opts, entries); err != nil {
		t.Fatal(err)
	}
	doc, err := html.Parse(bytes.NewReader(buf.Bytes()))
	if err != nil {
		t.Fatal(err)
	}
	return doc, buf.String()
}

func walk(n *html.Node, fn func(*html.Node)) {
	fn(n)
	for c := n.FirstChild; c != nil; c = c.NextSibling {
		walk(c, fn)
	}
}

func attr(n *html.Node, key string) (string, bool) {
	for _, a := range n.Attr {
		if a.Key == key {
			return a.Val, true
		}
	}
	return "", false
}

func hasClass(n *html.Node, class string) bool {
	v, _ := attr(n, "class")
	for _, c := range strings.Fields(v) {
		if c == class {
			return true
		}
	}
	return false
}

func text(n *html.Node) string {
	var b strings.Builder
	walk(n, func(c *html.Node) {
		if c.Type == html.TextNode {
			b.WriteString(c.Data)
		}
	})
	return b.String()
}

// sections maps each group's heading (without its count) to its cards'
// file names, in page order.
func sections(doc *html.Node) (order []string, files map[string][]string) {
	files = map[string][]string{}
	walk(doc, func(n *html.Node) {
		if n.Type != html.ElementNode || n.Data != "section" {
			return
		}
		var name string
		walk(n, func(c *html.Node) {
			if c.Type == html.ElementNode && c.Data == "h2" {
				name = strings.TrimSpace(c.FirstChild.Data)
			}
			if c.Type == html.ElementNode && c.Data == "article" && hasClass(c, "card") {
				walk(c, func(h *html.Node) {
					if h.Type == html.ElementNode && h.Data == "h3" {
						files[name] = append(files[name], text(h))
					}
				})
			}
		})
		order = append(order, name)
	})
	return order, files
}

func TestRenderOneCardPerInputGroupedWithAttentionFirst(t *testing.T) {
	thumb, err := Thumbnail(pngBytes(t, 40, 30, color.RGBA{200, 0, 0, 255}), imageproc.DecodeOptions{})
	if err != nil {
		t.Fatal(err)
	}
	c := NewCollector(Options{Labels: []string{"cat", "dog"}, Threshold: 0.5, Model: "tiny@main (fp32)", Tool: "v9"})
	inputs := []struct {
		rec    clip.Record
		failed string
	}{
		{record("a.png", "cat", 0.9, "dog", 0.1), ""},
		{record("b.png", "dog", 0.8, "cat", 0.2), ""},
		{clip.ErrorRecord("c.png", errString("not a supported image")), ""},
		{record("d.png", "cat", 0.4, "dog", 0.6-0.2), ""}, // below the threshold: unknown
		{record("e.png", "cat", 0.7, "dog", 0.3), "e.png is \"cat\", expected dog"},
		{record("f.png", "cat", 0.95, "dog", 0.05), ""},
	}
	for i, in := range inputs {
		if in.rec.Error == "" {
			c.pending[i] = thumb
		}
		c.Add(i, in.rec, in.failed)
	}
	doc, page := parse(t, c.opts, c.entries)

	order, files := sections(doc)
	want := []string{"unreadable", "failed checks", "unknown (below --threshold)", "cat", "dog"}
	if strings.Join(order, "|") != strings.Join(want, "|") {
		t.Errorf("groups %q, want %q", order, want)
	}
	wantFiles := map[string]string{"unreadable": "c.png", "failed checks": "e.png", "unknown (below --threshold)": "d.png", "cat": "a.png f.png", "dog": "b.png"}
	cards := 0
	for g, f := range wantFiles {
		if got := strings.Join(files[g], " "); got != f {
			t.Errorf("group %s has %q, want %q", g, got, f)
		}
		cards += len(files[g])
	}
	if cards != len(inputs) {
		t.Errorf("%d cards for %d inputs", cards, len(inputs))
	}
	for _, s := range []string{
		"6 images", "1 unreadable", "1 failed checks", // the summary line
		`<span class="l">cat</span> <span class="n">3</span>`, // per best label: a, e, f
		`<span class="l">unknown</span> <span class="n">1</span>`,
		"is &#34;cat&#34;, expected dog", // the reason without the file name
		"not a supported image",
		"tiny@main (fp32)", "clip v9", // provenance
	} {
		if !strings.Contains(page, s) {
			t.Errorf("page lacks %q", s)
		}
	}
	imgs := 0
	walk(doc, func(n *html.Node) {
		if n.Type == html.ElementNode && n.Data == "img" {
			imgs++
			if src, _ := attr(n, "src"); !strings.HasPrefix(src, "data:image/jpeg;base64,") {
				t.Errorf("img src %.40q is not an inline JPEG", src)
			}
		}
	})
	if imgs != len(inputs)-1 { // the unreadable file has none
		t.Errorf("%d thumbnails, want %d", imgs, len(inputs)-1)
	}
}

type errString string

func (e errString) Error() string { return string(e) }

func TestRenderEscapesFileNamesLabelsAndErrors(t *testing.T) {
	const (
		evilFile  = `<img src=x onerror=alert(1)>.png`
		evilLabel = `</script><script>alert(2)</script>`
		evilError = `<b onmouseover=alert(3)>bad</b>`
	)
	entries := []Entry{
		{Record: record(evilFile, evilLabel, 0.9, "ok", 0.1), Failed: `"` + evilLabel + `" <i>`},
		{Record: clip.ErrorRecord("x\"'><svg onload=alert(4)>", errString(evilError))},
	}
	doc, _ := parse(t, Options{Labels: []string{evilLabel, "ok"}, Title: "</title><script>alert(5)</script>", Model: evilLabel}, entries)

	scripts := 0
	walk(doc, func(n *html.Node) {
		if n.Type != html.ElementNode {
			return
		}
		for _, a := range n.Attr {
			if strings.HasPrefix(a.Key, "on") {
				t.Errorf("<%s> has an event handler %s=%q", n.Data, a.Key, a.Val)
			}
		}
		switch n.Data {
		case "script":
			scripts++
			if text(n) != pageScript {
				t.Errorf("a script that is not the page's own: %q", text(n))
			}
		case "img", "svg", "b", "i":
			t.Errorf("injected element <%s>", n.Data)
		}
	})
	if scripts != 1 {
		t.Errorf("%d script elements, want 1", scripts)
	}
	// The names come back as text, exactly.
	order, files := sections(doc)
	if len(files["unreadable"]) != 1 || files["unreadable"][0] != "x\"'><svg onload=alert(4)>" {
		t.Errorf("unreadable card: %q", files["unreadable"])
	}
	if len(files["failed checks"]) != 1 || files["failed checks"][0] != evilFile {
		t.Errorf("groups %q, failed card %q", order, files["failed checks"])
	}
	if !strings.Contains(text(doc), evilLabel) || !strings.Contains(text(doc), evilError) {
		t.Error("the label or error text is not shown as text")
	}
}

func TestThumbnailFitsInThumbSizeKeepingColourAndAspect(t *testing.T) {
	for _, tc := range []struct{ w, h, wantW, wantH int }{
		{600, 300, 256, 128},
		{300, 900, 85, 256},
		{100, 50, 100, 50}, // small images are not enlarged
	} {
		b, err := Thumbnail(pngBytes(t, tc.w, tc.h, color.RGBA{30, 160, 90, 255}), imageproc.DecodeOptions{})
		if err != nil {
			t.Fatal(err)
		}
		img, err := jpeg.Decode(bytes.NewReader(b))
		if err != nil {
			t.Fatalf("%dx%d: thumbnail is not a JPEG: %v", tc.w, tc.h, err)
		}
		if got := img.Bounds().Size(); got.X != tc.wantW || got.Y != tc.wantH {
			t.Errorf("%dx%d → %v, want %dx%d", tc.w, tc.h, got, tc.wantW, tc.wantH)
		}
		r, g, bl, _ := img.At(tc.wantW/2, tc.wantH/2).RGBA()
		if d := absDiff(r>>8, 30) + absDiff(g>>8, 160) + absDiff(bl>>8, 90); d > 12 {
			t.Errorf("%dx%d: centre colour %d,%d,%d, want about 30,160,90", tc.w, tc.h, r>>8, g>>8, bl>>8)
		}
	}
	if _, err := Thumbnail([]byte("not an image"), imageproc.DecodeOptions{}); err == nil {
		t.Error("no error for bytes that are not an image")
	}
}

func absDiff(a, b uint32) uint32 {
	if a > b {
		return a - b
	}
	return b - a
}

func TestCollectorCapsThumbnailsPerGroupAndSaysSo(t *testing.T) {
	c := NewCollector(Options{Labels: []string{"a", "b"}, ThumbsPerLabel: 2})
	data := pngBytes(t, 8, 8, color.RGBA{255, 255, 255, 255})
	for i := 0; i < 5; i++ {
		c.Thumbnail(i, data)
		c.Add(i, record("x.png", "a", 0.9, "b", 0.1), "")
	}
	c.Thumbnail(5, data)
	c.Add(5, record("y.png", "b", 0.9, "a", 0.1), "")
	kept := 0
	for _, e := range c.entries {
		if e.Thumb != nil {
			kept++
		}
	}
	if kept != 3 || len(c.pending) != 0 {
		t.Errorf("%d thumbnails kept (want 2 of a + 1 of b), %d pending", kept, len(c.pending))
	}
	_, page := parse(t, c.opts, c.entries)
	if !strings.Contains(page, "the first 2 images of each group (3 of 6 images)") {
		t.Error("the page does not say thumbnails were capped")
	}
	// Every group full: no more decoding for thumbnails nobody keeps.
	// Every group that can occur full (no threshold: no unknown; no
	// checks: no failures): no more decoding for thumbnails nobody keeps.
	c.thumbs["b"] = 2
	c.Thumbnail(7, data)
	if len(c.pending) != 0 {
		t.Error("a thumbnail was made after every group was full")
	}
	c.opts.Checks = true
	c.Thumbnail(8, data)
	if len(c.pending) != 1 {
		t.Error("no thumbnail while the failed-checks group could still take one")
	}
	delete(c.pending, 8)
	var nilc *Collector
	nilc.Thumbnail(0, data)
	nilc.Add(0, record("x.png", "a", 1.0), "")
	if n, err := nilc.WriteFile("/nonexistent/x.html"); n != 0 || err != nil || nilc.Len() != 0 {
		t.Error("a nil collector did something")
	}
}

// Cards past a group's first page come hidden in the HTML (the browser
// lays out only a page per group when it opens), with a pager for the
// page's script to show and a note saying how the page works.
func TestRenderHidesCardsPastTheFirstPage(t *testing.T) {
	var entries []Entry
	for i := 0; i < 5; i++ {
		entries = append(entries, Entry{Record: record(fmt.Sprintf("a%d.png", i), "a", 0.9, "b", 0.1)})
	}
	entries = append(entries, Entry{Record: record("b.png", "b", 0.9, "a", 0.1)})
	doc, page := parse(t, Options{Labels: []string{"a", "b"}, PageSize: 2}, entries)
	var hidden []string
	pagers := 0
	walk(doc, func(n *html.Node) {
		if n.Type != html.ElementNode {
			return
		}
		if n.Data == "article" {
			if _, ok := attr(n, "hidden"); ok {
				walk(n, func(h *html.Node) {
					if h.Type == html.ElementNode && h.Data == "h3" {
						hidden = append(hidden, text(h))
					}
				})
			}
		}
		if n.Data == "nav" && hasClass(n, "pager") {
			pagers++
			if got := text(n); !strings.Contains(got, "1–2 of 5") {
				t.Errorf("pager says %q", got)
			}
		}
	})
	if strings.Join(hidden, " ") != "a2.png a3.png a4.png" || pagers != 1 {
		t.Errorf("hidden cards %q and %d pagers; want a2–a4 hidden and one pager (group b fits a page)", hidden, pagers)
	}
	if !strings.Contains(page, "Cards are shown 2 per group at a time") || !strings.Contains(page, `data-page-size="2"`) {
		t.Error("the page does not say it is paged, or does not tell its script the page size")
	}
	if _, page := parse(t, Options{Labels: []string{"a", "b"}}, entries); strings.Contains(page, "per group at a time") || regexp.MustCompile(`<article[^>]* hidden`).MatchString(page) {
		t.Error("a report within one page is paged")
	}
}

// With inputs that can be read again, half of a group's thumbnails go to
// its first images and half, at the end, to its least certain ones; an
// input that cannot be read again (a URL, stdin) keeps a bare card.
func TestAddLeastCertainGivesThumbnailsToTheLeastCertain(t *testing.T) {
	data := pngBytes(t, 8, 8, color.RGBA{0, 0, 255, 255})
	c := NewCollector(Options{Labels: []string{"a", "b"}, ThumbsPerLabel: 4})
	var reread []int
	c.SetReread(func(_ context.Context, i int) ([]byte, error) {
		reread = append(reread, i)
		if i == 8 {
			return nil, nil // cannot be read again
		}
		return data, nil
	})
	probs := []float64{0.9, 0.8, 0.7, 0.6, 0.95, 0.55, 0.85, 0.75, 0.52, 0.99}
	for i, p := range probs {
		c.Thumbnail(i, data)
		c.Add(i, record(fmt.Sprintf("%d.png", i), "a", p, "b", 1-p), "")
	}
	c.AddLeastCertain(context.Background(), 1)
	var with []string
	for _, e := range c.entries {
		if e.Thumb != nil {
			with = append(with, e.Record.File)
		}
	}
	// 0 and 1 first in input order; 8 (0.52) and 5 (0.55) least certain,
	// but 8 cannot be read again.
	if got := strings.Join(with, " "); got != "0.png 1.png 5.png" {
		t.Errorf("thumbnails for %q, want 0.png 1.png 5.png", got)
	}
	if fmt.Sprint(reread) != "[8 5]" && fmt.Sprint(reread) != "[5 8]" {
		t.Errorf("read again: %v, want 8 and 5 only", reread)
	}
	_, page := parse(t, c.opts, c.entries)
	if !strings.Contains(page, "the first 2 images of each group and its 2 least certain (3 of 10 images)") {
		t.Error("the page does not say which images have thumbnails")
	}
	// After Ctrl-C nothing is read again.
	c2 := NewCollector(Options{Labels: []string{"a"}, ThumbsPerLabel: 2})
	c2.SetReread(func(context.Context, int) ([]byte, error) {
		t.Error("read again after the context ended")
		return nil, nil
	})
	for i, p := range probs {
		c2.Thumbnail(i, data)
		c2.Add(i, record(fmt.Sprintf("%d.png", i), "a", p), "")
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	c2.AddLeastCertain(ctx, 1)
	if _, page := parse(t, c2.opts, c2.entries); !strings.Contains(page, "the first 1 images of each group (1 of 10 images)") {
		t.Error("after Ctrl-C the page does not say only the first image of the group has a thumbnail")
	}
}
