package server

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/clip-go/clip/internal/headless"
)

// The page at / used with the keyboard alone (Tab through the form, Enter
// to submit; only the file choice is set through DevTools, as a file
// dialog would) against this server with --queue 2 held full: the page
// shows the API's 429 as it came, in its live status region; once the
// queue frees, Enter again gives a card per image, the undecodable one
// with its error record as text.
func TestPageByKeyboardShowsQueueFullThenResults(t *testing.T) {
	headless.Chromium(t)
	m := &fakeModel{gate: make(chan struct{}), entered: make(chan struct{}, 16)}
	ts := newTestServer(t, Config{Queue: 2, MaxBatch: 1}, m)
	held := make(chan response, 2)
	go func() { held <- ts.classifyColours(t) }()
	<-m.entered
	go func() { held <- ts.classifyColours(t) }()
	waitFor(t, func() bool { return ts.slots.used.Load() == 2 }, "the held requests' images")
	gateOpen := false
	defer func() {
		if !gateOpen {
			close(m.gate)
		}
	}()

	dir := t.TempDir()
	greenFile, broken := filepath.Join(dir, "green.png"), filepath.Join(dir, "broken.png")
	if err := os.WriteFile(greenFile, solidPNG(green, 8, 8), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(broken, []byte("not an image"), 0o644); err != nil {
		t.Fatal(err)
	}

	ctx, p, step := openPage(t, ts)
	var order []string
	for i := 0; i < 5; i++ {
		step("Tab", p.Press("Tab"))
		var id string
		step("focused", p.Eval(`document.activeElement.id`, &id))
		order = append(order, id)
	}
	if got := strings.Join(order, " "); got != "files urls labels templates go" {
		t.Errorf("Tab goes through %q, want files urls labels templates go", got)
	}
	// WCAG AA contrast (4.5:1 for text) of the button and of an error,
	// on the light scheme headless Chromium uses.
	var contrast struct{ Button, Error float64 }
	step("contrast", p.Eval(`(function () {
		function lum(c) {
			var v = c.match(/[\d.]+/g).map(Number);
			if (v.length > 3 && v[3] === 0) { v = [255, 255, 255]; } // transparent: the white canvas
			var l = v.slice(0, 3).map(function (x) { x /= 255; return x <= 0.03928 ? x / 12.92 : Math.pow((x + 0.055) / 1.055, 2.4); });
			return 0.2126 * l[0] + 0.7152 * l[1] + 0.0722 * l[2];
		}
		function ratio(fg, bg) { var a = lum(fg), b = lum(bg); return (Math.max(a, b) + 0.05) / (Math.min(a, b) + 0.05); }
		var b = getComputedStyle(document.getElementById("go")), s = document.getElementById("status");
		s.className = "status error";
		var r = {button: ratio(b.color, b.backgroundColor), error: ratio(getComputedStyle(s).color, getComputedStyle(document.body).backgroundColor)};
		s.className = "status";
		return r;
	})()`, &contrast))
	if contrast.Button < 4.5 || contrast.Error < 4.5 {
		t.Errorf("contrast: button %.2f, error text %.2f; want at least 4.5", contrast.Button, contrast.Error)
	}
	step("choose files", p.SetFiles("#files", greenFile, broken))
	step("type labels", p.Type("#labels", "red, green, blue"))
	step("Enter", p.Press("Enter"))
	step("error shown", p.WaitFor(ctx, `document.getElementById("status").classList.contains("error")`))
	var status struct {
		Text, Role, Live string
		Cards            int
	}
	const readStatus = `(function () { var s = document.getElementById("status");
		return {text: s.textContent, role: s.getAttribute("role"), live: s.getAttribute("aria-live"),
			cards: document.querySelectorAll("#results .card").length}; })()`
	step("read status", p.Eval(readStatus, &status))
	if status.Text != "429 queue_full: the server is busy (2 images queued, --queue); retry later (retry after 1 s)" ||
		status.Role != "status" || status.Live != "polite" || status.Cards != 0 {
		t.Errorf("while the queue is full: %+v", status)
	}

	close(m.gate)
	gateOpen = true
	<-held
	<-held
	waitFor(t, func() bool { return ts.slots.used.Load() == 0 }, "the held requests' end")
	step("Enter again", p.Press("Enter"))
	step("result cards", p.WaitFor(ctx, `document.querySelectorAll("#results .card").length === 2`))
	var cards []struct{ File, Best, Error string }
	step("read cards", p.Eval(`Array.from(document.querySelectorAll("#results .card")).map(function (c) {
		var q = function (s) { var e = c.querySelector(s); return e ? e.textContent : ""; };
		return {file: q("h2"), best: q(".best"), error: q(".error")};
	})`, &cards))
	if cards[0].File != "green.png" || !strings.HasPrefix(cards[0].Best, "green ") || cards[0].Error != "" {
		t.Errorf("green card: %+v", cards[0])
	}
	if cards[1].File != "broken.png" || !strings.Contains(cards[1].Error, "broken.png: image: unknown format") || cards[1].Best != "" {
		t.Errorf("broken file's card: %+v, want its error record", cards[1])
	}
}

// Files dropped on the page's drop zone are the ones classified.
func TestPageClassifiesDroppedFiles(t *testing.T) {
	headless.Chromium(t)
	ts := newTestServer(t, Config{}, &fakeModel{})
	dir := t.TempDir()
	var files []string
	for name, c := range map[string][]byte{"red.png": solidPNG(red, 8, 8), "blue.png": solidPNG(blue, 8, 8)} {
		files = append(files, filepath.Join(dir, name))
		if err := os.WriteFile(files[len(files)-1], c, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	ctx, p, step := openPage(t, ts)
	step("drop files", p.DropFiles("#drop", files...))
	step("list dropped files", p.WaitFor(ctx, `document.querySelectorAll("#picked li").length === 2`))
	step("type labels", p.Type("#labels", "red, green, blue"))
	step("click Classify", p.Click("#go"))
	step("result cards", p.WaitFor(ctx, `document.querySelectorAll("#results .card").length === 2`))
	var best []string
	step("read cards", p.Eval(`Array.from(document.querySelectorAll("#results .card")).map(function (c) {
		return c.querySelector("h2").textContent + " " + c.querySelector(".best").textContent.split(" ")[0];
	})`, &best))
	for i, f := range files {
		name := filepath.Base(f)
		if want := name + " " + strings.TrimSuffix(name, ".png"); best[i] != want {
			t.Errorf("card %d: %q, want %q", i, best[i], want)
		}
	}
}

// openPage opens the server's page at / in headless Chromium for the
// rest of the test, and returns the check for its steps.
func openPage(t *testing.T, ts *testServer) (context.Context, *headless.Page, func(string, error)) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	t.Cleanup(cancel)
	p, err := headless.Open(ctx, t, 900, 1000)
	if err != nil {
		t.Fatal(err)
	}
	step := headless.Step(t)
	step("open /", p.Navigate(ctx, ts.ts.URL+"/"))
	return ctx, p, step
}
