// Package headless runs Debian's Chromium headless for browser tests: a
// one-shot --screenshot / --dump-dom, and a DevTools-protocol session to
// drive a page (set a file input, type, click, read the DOM). Chromium is
// started with the flags this closed network needs (no background
// networking, component updates, sync or QUIC), a fresh profile, and only
// ever pointed at loopback or file:// pages.
package headless

import (
	"bufio"
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"image/color"
	"image/png"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"golang.org/x/net/websocket"
)

// Path is where Debian's chromium package installs the browser.
const Path = "/usr/bin/chromium"

// Chromium returns the browser's path, or skips the test when it is not
// installed (fails under CI=true, where .ci/run installs it).
func Chromium(t testing.TB) string {
	t.Helper()
	if _, err := os.Stat(Path); err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("%s missing (%v): .ci/run installs Debian's chromium", Path, err)
		}
		t.Skipf("%s not installed (apt-get install chromium): browser test skipped", Path)
	}
	return Path
}

// flags are the options every run gets, with a new empty profile.
func flags(t testing.TB) []string {
	return []string{"--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
		"--disable-background-networking", "--disable-component-update", "--disable-sync",
		"--disable-default-apps", "--disable-extensions", "--mute-audio",
		"--user-data-dir=" + profileDir(t)}
}

// profileDir is an empty Chromium profile removed after the test. Not
// t.TempDir: Chromium's helper processes can still be writing into it for
// a moment after the browser process has been killed and reaped, and
// t.TempDir fails the test when its RemoveAll meets a file written
// meanwhile. The cleanup is registered before the browser's own, so it
// runs after it, and retries for a few seconds.
func profileDir(t testing.TB) string {
	t.Helper()
	dir, err := os.MkdirTemp("", "clip-chromium-profile-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		for i := 0; i < 50; i++ {
			if os.RemoveAll(dir) == nil {
				return
			}
			time.Sleep(100 * time.Millisecond)
		}
		t.Logf("chromium profile %s left behind: its helper processes kept writing", dir)
	})
	return dir
}

// Run runs Chromium once on url with extra flags (e.g. --dump-dom,
// --screenshot=FILE) and returns its stdout.
func Run(ctx context.Context, t testing.TB, url string, extra ...string) ([]byte, error) {
	t.Helper()
	cmd := exec.CommandContext(ctx, Chromium(t), append(append(flags(t), extra...), url)...)
	var stderr strings.Builder
	cmd.Stderr = &stderr
	cmd.WaitDelay = 5 * time.Second
	out, err := cmd.Output()
	if err != nil {
		return out, fmt.Errorf("chromium %s: %w\n%s", url, err, tail(stderr.String()))
	}
	return out, nil
}

func tail(s string) string {
	if len(s) > 3000 {
		return "…" + s[len(s)-3000:]
	}
	return s
}

// Page is a DevTools-protocol session on one page of a running Chromium.
type Page struct {
	ws     *websocket.Conn
	cmd    *exec.Cmd
	nextID atomic.Int64
}

var listening = regexp.MustCompile(`DevTools listening on (ws://127\.0\.0\.1:(\d+)/\S+)`)

// Open starts Chromium with remote debugging on a free loopback port and
// attaches to its first page. The browser ends with the test (or ctx).
func Open(ctx context.Context, t testing.TB, width, height int) (*Page, error) {
	t.Helper()
	args := append(flags(t), "--remote-debugging-address=127.0.0.1", "--remote-debugging-port=0",
		"--remote-allow-origins=http://127.0.0.1", fmt.Sprintf("--window-size=%d,%d", width, height), "about:blank")
	cmd := exec.CommandContext(ctx, Chromium(t), args...)
	stderr, err := cmd.StderrPipe()
	if err != nil {
		return nil, err
	}
	cmd.WaitDelay = 5 * time.Second
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
	})
	port := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(stderr)
		found := false
		for sc.Scan() {
			if m := listening.FindStringSubmatch(sc.Text()); m != nil && !found {
				found = true
				port <- m[2]
			}
		}
		_, _ = io.Copy(io.Discard, stderr)
	}()
	var p string
	select {
	case p = <-port:
	case <-ctx.Done():
		return nil, fmt.Errorf("chromium did not say where DevTools listens: %w", ctx.Err())
	}
	// The page target's own websocket (the one stderr names is the browser's).
	var targets []struct{ Type, WebSocketDebuggerURL string }
	if err := getJSON(ctx, "http://127.0.0.1:"+p+"/json/list", &targets); err != nil {
		return nil, err
	}
	for _, tg := range targets {
		if tg.Type == "page" {
			ws, err := websocket.Dial(tg.WebSocketDebuggerURL, "", "http://127.0.0.1")
			if err != nil {
				return nil, fmt.Errorf("devtools websocket: %w", err)
			}
			t.Cleanup(func() { ws.Close() })
			if deadline, ok := ctx.Deadline(); ok {
				_ = ws.SetDeadline(deadline)
			}
			return &Page{ws: ws, cmd: cmd}, nil
		}
	}
	return nil, fmt.Errorf("no page among chromium's targets %+v", targets)
}

func getJSON(ctx context.Context, url string, v any) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	return json.NewDecoder(resp.Body).Decode(v)
}

// Call sends one DevTools command and decodes its result into result (if
// not nil), skipping the events that arrive meanwhile.
func (p *Page) Call(method string, params, result any) error {
	id := p.nextID.Add(1)
	if params == nil {
		params = struct{}{}
	}
	if err := websocket.JSON.Send(p.ws, map[string]any{"id": id, "method": method, "params": params}); err != nil {
		return fmt.Errorf("%s: %w", method, err)
	}
	for {
		var msg struct {
			ID     int64           `json:"id"`
			Result json.RawMessage `json:"result"`
			Error  *struct {
				Code    int    `json:"code"`
				Message string `json:"message"`
			} `json:"error"`
		}
		if err := websocket.JSON.Receive(p.ws, &msg); err != nil {
			return fmt.Errorf("%s: %w", method, err)
		}
		if msg.ID != id {
			continue
		}
		if msg.Error != nil {
			return fmt.Errorf("%s: %d %s", method, msg.Error.Code, msg.Error.Message)
		}
		if result == nil {
			return nil
		}
		return json.Unmarshal(msg.Result, result)
	}
}

// Eval evaluates a JavaScript expression in the page (awaiting a promise)
// and decodes its value into v (if not nil).
func (p *Page) Eval(expr string, v any) error {
	var r struct {
		Result struct {
			Value json.RawMessage `json:"value"`
		} `json:"result"`
		ExceptionDetails *struct {
			Text      string `json:"text"`
			Exception struct {
				Description string `json:"description"`
			} `json:"exception"`
		} `json:"exceptionDetails"`
	}
	if err := p.Call("Runtime.evaluate", map[string]any{"expression": expr, "returnByValue": true, "awaitPromise": true}, &r); err != nil {
		return err
	}
	if e := r.ExceptionDetails; e != nil {
		return fmt.Errorf("%s: %s %s", expr, e.Text, e.Exception.Description)
	}
	if v == nil || len(r.Result.Value) == 0 {
		return nil
	}
	return json.Unmarshal(r.Result.Value, v)
}

// Navigate loads url and waits until its document has loaded.
func (p *Page) Navigate(ctx context.Context, url string) error {
	if err := p.Call("Page.navigate", map[string]any{"url": url}, nil); err != nil {
		return err
	}
	return p.WaitFor(ctx, `document.readyState === "complete" && location.href === `+quote(url))
}

// WaitFor polls a JavaScript condition until it is true or ctx ends.
func (p *Page) WaitFor(ctx context.Context, cond string) error {
	for {
		var ok bool
		if err := p.Eval("!!("+cond+")", &ok); err != nil {
			return err
		}
		if ok {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("waiting for %s: %w", cond, ctx.Err())
		case <-time.After(50 * time.Millisecond):
		}
	}
}

// SetFiles sets the files of the <input type=file> found by a CSS selector.
func (p *Page) SetFiles(selector string, files ...string) error {
	var r struct {
		Result struct {
			ObjectID string `json:"objectId"`
		} `json:"result"`
	}
	if err := p.Call("Runtime.evaluate", map[string]any{"expression": "document.querySelector(" + quote(selector) + ")"}, &r); err != nil {
		return err
	}
	if r.Result.ObjectID == "" {
		return fmt.Errorf("no element %s", selector)
	}
	return p.Call("DOM.setFileInputFiles", map[string]any{"files": files, "objectId": r.Result.ObjectID}, nil)
}

// Type focuses the element found by selector and types text into it as
// keyboard input would.
func (p *Page) Type(selector, text string) error {
	if err := p.Eval("document.querySelector("+quote(selector)+").focus()", nil); err != nil {
		return err
	}
	return p.Call("Input.insertText", map[string]any{"text": text}, nil)
}

// keys are the keys Press knows: DOM key → code, virtual key code, text.
var keys = map[string]struct {
	code string
	vk   int
	text string
}{
	"Tab":    {"Tab", 9, ""},
	"Enter":  {"Enter", 13, "\r"},
	" ":      {"Space", 32, " "},
	"Escape": {"Escape", 27, ""},
}

// Press presses and releases one key (Tab, Enter, space, Escape) on the
// focused element, as the keyboard would: Tab moves the focus, Enter
// submits a form or presses a button.
func (p *Page) Press(key string) error {
	k, ok := keys[key]
	if !ok {
		return fmt.Errorf("headless: no key %q", key)
	}
	ev := map[string]any{"type": "rawKeyDown", "key": key, "code": k.code, "windowsVirtualKeyCode": k.vk, "nativeVirtualKeyCode": k.vk}
	if k.text != "" {
		ev["type"], ev["text"], ev["unmodifiedText"] = "keyDown", k.text, k.text
	}
	if err := p.Call("Input.dispatchKeyEvent", ev, nil); err != nil {
		return err
	}
	return p.Call("Input.dispatchKeyEvent", map[string]any{"type": "keyUp", "key": key, "code": k.code, "windowsVirtualKeyCode": k.vk, "nativeVirtualKeyCode": k.vk}, nil)
}

// Click clicks the middle of the element found by selector with the mouse.
func (p *Page) Click(selector string) error {
	var c struct{ X, Y float64 }
	expr := "(function(){var r=document.querySelector(" + quote(selector) + ").getBoundingClientRect();return {x:r.x+r.width/2,y:r.y+r.height/2};})()"
	if err := p.Eval(expr, &c); err != nil {
		return err
	}
	for _, typ := range []string{"mousePressed", "mouseReleased"} {
		if err := p.Call("Input.dispatchMouseEvent", map[string]any{"type": typ, "x": c.X, "y": c.Y, "button": "left", "clickCount": 1}, nil); err != nil {
			return err
		}
	}
	return nil
}

// Step returns a check that ends the test at a failed browser step,
// naming the step.
func Step(t testing.TB) func(what string, err error) {
	return func(what string, err error) {
		t.Helper()
		if err != nil {
			t.Fatalf("%s: %v", what, err)
		}
	}
}

// CheckPhoneWidth shows the page as a 390-px-wide phone does, fails the
// test if anything makes it wider than the screen, and checks and keeps a
// screenshot under name.
func (p *Page) CheckPhoneWidth(t testing.TB, name string) {
	t.Helper()
	step := Step(t)
	step("phone width", p.Call("Emulation.setDeviceMetricsOverride", map[string]any{"width": 390, "height": 844, "deviceScaleFactor": 1, "mobile": true}, nil))
	var scrollWidth int
	step("scroll width", p.Eval(`document.documentElement.scrollWidth`, &scrollWidth))
	if scrollWidth > 390 {
		t.Errorf("at 390 px the page is %d px wide", scrollWidth)
	}
	shot, err := p.Screenshot()
	step("phone screenshot", err)
	CheckScreenshot(t, name, shot)
}

// DropFiles drags files from outside the page onto the middle of the
// element found by selector and drops them there, as a file manager would.
func (p *Page) DropFiles(selector string, files ...string) error {
	var c struct{ X, Y float64 }
	expr := "(function(){var e=document.querySelector(" + quote(selector) + ");e.scrollIntoView({block:'center'});var r=e.getBoundingClientRect();return {x:r.x+r.width/2,y:r.y+r.height/2};})()"
	if err := p.Eval(expr, &c); err != nil {
		return err
	}
	data := map[string]any{"items": []any{}, "files": files, "dragOperationsMask": 1}
	for _, typ := range []string{"dragEnter", "dragOver", "drop"} {
		if err := p.Call("Input.dispatchDragEvent", map[string]any{"type": typ, "x": c.X, "y": c.Y, "data": data}, nil); err != nil {
			return err
		}
	}
	return nil
}

// Screenshot returns a PNG of the page's viewport.
func (p *Page) Screenshot() ([]byte, error) {
	var r struct{ Data string }
	if err := p.Call("Page.captureScreenshot", map[string]any{"format": "png"}, &r); err != nil {
		return nil, err
	}
	return base64.StdEncoding.DecodeString(r.Data)
}

func quote(s string) string {
	b, _ := json.Marshal(s)
	return string(b)
}

// CheckScreenshot fails the test unless b is a PNG with some content (more
// than a few colours, not one flat background), and keeps it: in
// $CLIP_SCREENSHOT_DIR when set (to look at), else in the test's temp dir.
func CheckScreenshot(t testing.TB, name string, b []byte) {
	t.Helper()
	img, err := png.Decode(bytes.NewReader(b))
	if err != nil {
		t.Fatalf("screenshot %s is not a PNG: %v", name, err)
	}
	colours := map[color.RGBA]int{}
	bounds := img.Bounds()
	for y := bounds.Min.Y; y < bounds.Max.Y; y += 2 {
		for x := bounds.Min.X; x < bounds.Max.X; x += 2 {
			r, g, b, a := img.At(x, y).RGBA()
			colours[color.RGBA{uint8(r >> 8), uint8(g >> 8), uint8(b >> 8), uint8(a >> 8)}]++
		}
	}
	most := 0
	for _, n := range colours {
		most = max(most, n)
	}
	samples := (bounds.Dx() + 1) / 2 * ((bounds.Dy() + 1) / 2)
	if len(colours) < 16 || most > samples*98/100 {
		t.Errorf("screenshot %s looks blank: %d colours, the commonest on %d of %d samples", name, len(colours), most, samples)
	}
	dir := os.Getenv("CLIP_SCREENSHOT_DIR")
	if dir == "" {
		dir = t.TempDir()
	}
	path := filepath.Join(dir, name)
	if err := os.WriteFile(path, b, 0o644); err != nil {
		t.Fatal(err)
	}
	t.Logf("screenshot: %s (%dx%d, %d colours)", path, bounds.Dx(), bounds.Dy(), len(colours))
}
