package report

import (
	"context"
	"fmt"
	"image/color"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/clip-go/clip/internal/headless"
	"github.com/clip-go/clip/pkg/clip"
	"github.com/clip-go/clip/pkg/imageproc"
)

// bigReport writes a classify report of n images in three groups of
// sizes 7:4:1, two unreadable, every image with a thumbnail offered (the
// collector keeps the capped number). Image top, the best "cat", is
// input n-10: past the first page and past the thumbnail cap.
func bigReport(t testing.TB, n, pageSize int) (path string, perGroup map[string]int, top int) {
	t.Helper()
	var thumbs, files [][]byte
	for _, c := range []color.RGBA{{220, 30, 30, 255}, {30, 180, 40, 255}, {130, 40, 170, 255}} {
		files = append(files, pngBytes(t, 96, 96, c))
		b, err := Thumbnail(files[len(files)-1], imageproc.DecodeOptions{})
		if err != nil {
			t.Fatal(err)
		}
		thumbs = append(thumbs, b)
	}
	labels := []string{"cat", "dog", "bird"}
	c := NewCollector(Options{Labels: labels, Tool: "test", Time: time.Unix(0, 0), PageSize: pageSize})
	group := make([]int, n)
	c.SetReread(func(_ context.Context, i int) ([]byte, error) { return files[group[i]], nil })
	perGroup = map[string]int{}
	top = n - 10
	for i := 0; i < n; i++ {
		file := fmt.Sprintf("img-%05d.png", i)
		if i == 5 || i == n/2 {
			c.Add(i, clip.ErrorRecord(file, errString("not a supported image")), "")
			perGroup["unreadable"]++
			continue
		}
		g := []int{0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 2}[i%12]
		p := 0.51 + 0.4*float64((i*7919)%1000)/1000 // 0.51 … 0.91, scrambled: none unknown
		if i == top {
			g, p = 0, 0.99
		}
		group[i] = g
		rest := (1 - p) / 2
		scores := []any{labels[g], p, labels[(g+1)%3], rest, labels[(g+2)%3], rest}
		c.pending[i] = thumbs[g]
		c.Add(i, record(file, scores...), "")
		perGroup[labels[g]]++
	}
	c.AddLeastCertain(context.Background(), 2)
	path = filepath.Join(t.TempDir(), "big.html")
	if _, err := c.WriteFile(path); err != nil {
		t.Fatal(err)
	}
	return path, perGroup, top
}

type groupState struct {
	ID, Name     string
	Cards, Shown int
	Thumbs       int
	ShownThumbs  int
	FirstShown   int // data-i of the first visible card
	At           string
	Hidden       bool
	Prev, Next   bool // enabled
}

const readGroups = `Array.from(document.querySelectorAll("section.group")).map(function (s) {
	var cards = Array.from(s.querySelectorAll(".card")), shown = cards.filter(function (c) { return !c.hidden; });
	var pager = s.querySelector(".pager");
	return {id: s.id, name: s.querySelector("h2").firstChild.textContent.trim(), cards: cards.length, shown: shown.length,
		thumbs: s.querySelectorAll(".card img").length, shownThumbs: shown.filter(function (c) { return c.querySelector("img"); }).length, firstShown: shown.length ? +shown[0].dataset.i : -1,
		at: pager && !pager.hidden ? pager.querySelector(".at").textContent : "", hidden: s.hidden,
		prev: !!pager && !pager.querySelector(".prev").disabled, next: !!pager && !pager.querySelector(".next").disabled};
})`

// A 1,200-image report in headless Chromium: each group shows its first
// page of 100 cards with a pager, the buttons page through it, sorting by
// probability orders every card of a group (the best one, far past the
// first page, comes first), and the filter shows one whole group.
func TestBigReportPagesInHeadlessChromium(t *testing.T) {
	headless.Chromium(t)
	path, perGroup, top := bigReport(t, 1200, 0)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	p, err := headless.Open(ctx, t, 1200, 1400)
	if err != nil {
		t.Fatal(err)
	}
	step := headless.Step(t)
	step("open", p.Navigate(ctx, "file://"+path))
	var gs []groupState
	read := func() map[string]groupState {
		t.Helper()
		step("read groups", p.Eval(readGroups, &gs))
		m := map[string]groupState{}
		for _, g := range gs {
			m[g.Name] = g
		}
		return m
	}
	m := read()
	for name, n := range perGroup {
		g := m[name]
		want := fmt.Sprintf("1–%d of %d", DefaultPageSize, n)
		if n <= DefaultPageSize {
			want = ""
		}
		if g.Cards != n || g.Shown != min(n, DefaultPageSize) || g.At != want || g.Prev || g.Next != (n > DefaultPageSize) {
			t.Errorf("group %s on opening: %+v, want %d cards, %d shown, pager %q", name, g, n, min(n, DefaultPageSize), want)
		}
		if name != "unreadable" && g.ShownThumbs != g.Shown {
			t.Errorf("group %s on opening shows %d cards, %d with thumbnails", name, g.Shown, g.ShownThumbs)
		}
		if g.Thumbs > DefaultThumbsPerLabel {
			t.Errorf("group %s has %d thumbnails, cap %d", name, g.Thumbs, DefaultThumbsPerLabel)
		}
	}
	var note string
	step("read notes", p.Eval(`Array.from(document.querySelectorAll(".note")).map(function (n) { return n.textContent; }).join(" ")`, &note))
	if !strings.Contains(note, "the first 100 images of each group and its 100 least certain") || !strings.Contains(note, "100 per group at a time") {
		t.Errorf("the page does not say what it leaves out: %q", note)
	}
	shot, err := p.Screenshot()
	step("screenshot", err)
	headless.CheckScreenshot(t, "big-report.png", shot)

	cat := "#" + m["cat"].ID
	step("scroll to the pager", p.Eval(`document.querySelector("`+cat+` .pager").scrollIntoView({block: "center"})`, nil))
	step("next page", p.Click(cat+" .pager .next"))
	if g := read()["cat"]; g.At != fmt.Sprintf("101–200 of %d", perGroup["cat"]) || g.Shown != 100 || !g.Prev || g.FirstShown <= 0 {
		t.Errorf("cat after next: %+v", g)
	}
	// The page turned back to the group's heading, not hidden under the
	// sticky header.
	var headingAt struct{ Top, Header float64 }
	step("heading position", p.Eval(`({top: document.querySelector("`+cat+` h2").getBoundingClientRect().top,
		header: document.querySelector("header").getBoundingClientRect().bottom})`, &headingAt))
	if headingAt.Top < headingAt.Header-1 || headingAt.Top > headingAt.Header+100 {
		t.Errorf("after next the group's heading is at %.0f px, the header ends at %.0f px", headingAt.Top, headingAt.Header)
	}
	step("to the last page", p.Eval(`(function () { var b = document.querySelector("`+cat+` .pager .next"); while (!b.disabled) { b.click(); } })()`, nil))
	last := (perGroup["cat"]-1)%DefaultPageSize + 1
	if g := read()["cat"]; g.Shown != last || g.Next || g.At != fmt.Sprintf("%d–%d of %d", perGroup["cat"]-last+1, perGroup["cat"], perGroup["cat"]) {
		t.Errorf("cat on its last page: %+v, want %d shown", g, last)
	}

	sortBy := func(v string) {
		t.Helper()
		step("sort "+v, p.Eval(`(function () { var s = document.getElementById("sort"); s.value = "`+v+`"; s.dispatchEvent(new Event("change")); })()`, nil))
	}
	// Least certain first: a whole page of thumbnails in every group.
	sortBy("asc")
	for name, g := range read() {
		if name != "unreadable" && g.ShownThumbs != g.Shown {
			t.Errorf("group %s sorted low first shows %d cards, %d with thumbnails", name, g.Shown, g.ShownThumbs)
		}
	}
	sortBy("desc")
	if g := read()["cat"]; g.FirstShown != top || g.At != fmt.Sprintf("1–100 of %d", perGroup["cat"]) || g.Cards != perGroup["cat"] {
		t.Errorf("cat sorted high first: %+v, want image %d (the best, on no first page) first", g, top)
	}
	step("filter", p.Eval(`(function () { var s = document.getElementById("filter"); s.value = "`+m["dog"].ID+`"; s.dispatchEvent(new Event("change")); })()`, nil))
	for name, g := range read() {
		if g.Hidden != (name != "dog") {
			t.Errorf("filtered to dog: group %s hidden=%v", name, g.Hidden)
		}
		if g.Cards != perGroup[name] {
			t.Errorf("filtered to dog: group %s has %d cards, want all %d", name, g.Cards, perGroup[name])
		}
	}
	sortBy("input")
	if g := read()["dog"]; g.FirstShown != 7 || g.Shown != 100 {
		t.Errorf("dog back in input order: %+v", g)
	}

	// The pager by keyboard: focus its next button, Enter turns the page.
	step("focus next", p.Eval(`document.querySelector("#`+m["dog"].ID+` .pager .next").focus()`, nil))
	step("Enter", p.Press("Enter"))
	if g := read()["dog"]; g.At != fmt.Sprintf("101–200 of %d", perGroup["dog"]) {
		t.Errorf("dog after Enter on next: %+v", g)
	}

	p.CheckPhoneWidth(t, "big-report-phone.png")
}

// BenchmarkOpenInChromium opens a 10,000-image classify report in headless
// Chromium and reports its size and the time from navigation to the load
// event (layout done): paged as made (DefaultPageSize cards per group
// shown), and with every card shown as the page was before paging.
// Thumbnails are 96-px flat shapes: real photos make bigger thumbnails,
// but only DefaultThumbsPerLabel per group.
func BenchmarkOpenInChromium(b *testing.B) {
	headless.Chromium(b)
	const n = 10000
	for _, bc := range []struct {
		name     string
		pageSize int
	}{{"paged", 0}, {"all-shown", n}} {
		b.Run(bc.name, func(b *testing.B) {
			path, _, _ := bigReport(b, n, bc.pageSize)
			st, err := os.Stat(path)
			if err != nil {
				b.Fatal(err)
			}
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
			defer cancel()
			p, err := headless.Open(ctx, b, 1200, 1400)
			if err != nil {
				b.Fatal(err)
			}
			var total float64
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				if err := p.Navigate(ctx, "about:blank"); err != nil {
					b.Fatal(err)
				}
				if err := p.Navigate(ctx, "file://"+path); err != nil {
					b.Fatal(err)
				}
				var ms float64
				if err := p.Eval(`(function () { var e = performance.getEntriesByType("navigation")[0]; return e.loadEventEnd - e.startTime; })()`, &ms); err != nil {
					b.Fatal(err)
				}
				total += ms
			}
			b.ReportMetric(total/float64(b.N), "ms-to-load")
			b.ReportMetric(float64(st.Size()), "bytes")
			b.ReportMetric(float64(st.Size())/n, "bytes/image")
		})
	}
}
