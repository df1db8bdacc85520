package server

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"
)

// rawPost opens a connection and sends a POST /v1/classify's headers.
func rawPost(t *testing.T, ts *testServer, header string) net.Conn {
	t.Helper()
	conn, err := net.Dial("tcp", ts.ts.Listener.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	fmt.Fprintf(conn, "POST /v1/classify HTTP/1.1\r\nHost: test\r\nContent-Type: application/json\r\n%s\r\n", header)
	return conn
}

// readResponse reads one HTTP response from conn (at most 10s).
func readResponse(t *testing.T, conn net.Conn) response {
	t.Helper()
	_ = conn.SetReadDeadline(time.Now().Add(10 * time.Second))
	resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		t.Fatalf("reading the response: %v", err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return response{resp.StatusCode, resp.Header, b}
}

// trickle sends one byte every 20ms until stop is closed or a write fails
// (at most 500 bytes).
func trickle(conn net.Conn, stop chan struct{}) {
	for i := 0; i < 500; i++ {
		select {
		case <-stop:
			return
		case <-time.After(20 * time.Millisecond):
		}
		if _, err := conn.Write([]byte(" ")); err != nil {
			return
		}
	}
}

// TestSlowUploadsDoNotStarve: clients sending their bodies a byte at a
// time hold no queue slot (they used to take one each until --timeout, so
// everyone else got 429), and are cut off with 408 once below the minimum
// upload rate.
func TestSlowUploadsDoNotStarve(t *testing.T) {
	ts := newTestServer(t, Config{Queue: 2, MinUploadRate: 1000, UploadGrace: 300 * time.Millisecond}, &fakeModel{})
	stop := make(chan struct{})
	defer close(stop)
	var slow []net.Conn
	for i := 0; i < 2; i++ {
		conn := rawPost(t, ts, "Content-Length: 100000\r\n")
		_, _ = conn.Write([]byte(`{"labels":`))
		go trickle(conn, stop)
		slow = append(slow, conn)
	}
	waitFor(t, func() bool { return ts.uploads.used.Load() == 2 }, "both slow uploads to be receiving")
	if c := ts.classifyColours(t).classify(t); c.Results[0].Label != "red" {
		t.Fatalf("a normal request beside slow uploads: %+v", c.Results)
	}
	for i, conn := range slow {
		r := readResponse(t, conn)
		if r.status != http.StatusRequestTimeout || r.errorCode() != CodeUploadTimeout {
			t.Errorf("slow upload %d: %d %s, want 408 %s", i, r.status, r.body, CodeUploadTimeout)
		}
	}
	waitFor(t, func() bool { return ts.uploads.used.Load() == 0 }, "the upload slots to be released")
	ts.stillServes(t)
}

// TestUploadBudget: bodies being received beyond --max-uploads get 429.
func TestUploadBudget(t *testing.T) {
	ts := newTestServer(t, Config{Uploads: 1, MinUploadRate: -1}, &fakeModel{})
	conn := rawPost(t, ts, "Content-Length: 1000\r\n")
	_, _ = conn.Write([]byte(`{"labels":`))
	waitFor(t, func() bool { return ts.uploads.used.Load() == 1 }, "the upload to be receiving")
	r := ts.classifyColours(t)
	if r.status != http.StatusTooManyRequests || r.errorCode() != CodeQueueFull || !strings.Contains(string(r.body), "--max-uploads") {
		t.Fatalf("an upload beyond --max-uploads 1: %d %s", r.status, r.body)
	}
	conn.Close()
	waitFor(t, func() bool { return ts.uploads.used.Load() == 0 }, "the upload slot to be released")
	ts.stillServes(t)
}

// TestDeclaredBodyOverMaxBody: a Content-Length over --max-body is refused
// with 413 before any of the body is sent (it used to wait for --timeout,
// then answer 400).
func TestDeclaredBodyOverMaxBody(t *testing.T) {
	ts := newTestServer(t, Config{MaxBody: 1 << 20}, &fakeModel{})
	conn := rawPost(t, ts, "Content-Length: 1000000000000\r\n")
	r := readResponse(t, conn)
	if r.status != http.StatusRequestEntityTooLarge || r.errorCode() != CodeTooLarge || !strings.Contains(string(r.body), "Content-Length") {
		t.Fatalf("Content-Length 10^12: %d %s", r.status, r.body)
	}
	ts.stillServes(t)
}

// TestTooLargeReachesClientsThatKeepSending: a client that sends its
// whole body before reading (as Python's urllib and requests do) gets the
// 413, not a connection reset: the server drains the rest of the body
// before closing (lingering close). The body is larger than the kernel's
// socket buffers, so a server closing at once would reset the connection.
func TestTooLargeReachesClientsThatKeepSending(t *testing.T) {
	ts := newTestServer(t, Config{MaxBody: 1 << 20}, &fakeModel{})
	const size = 24 << 20
	chunk := []byte(strings.Repeat("a", 64<<10))
	for _, chunked := range []bool{false, true} {
		t.Run(fmt.Sprintf("chunked=%v", chunked), func(t *testing.T) {
			header := fmt.Sprintf("Content-Length: %d\r\n", size+12)
			if chunked {
				header = "Transfer-Encoding: chunked\r\n"
			}
			conn := rawPost(t, ts, header)
			_ = conn.SetWriteDeadline(time.Now().Add(20 * time.Second))
			w := bufio.NewWriter(conn)
			var err error
			if chunked {
				_, err = w.WriteString("c\r\n{\"labels\":[\"\r\n")
			} else {
				_, err = w.WriteString(`{"labels":["`)
			}
			for sent := 0; sent < size && err == nil; sent += len(chunk) {
				if chunked {
					_, err = fmt.Fprintf(w, "%x\r\n%s\r\n", len(chunk), chunk)
				} else {
					_, err = w.Write(chunk)
				}
			}
			if err == nil && chunked {
				_, err = w.WriteString("0\r\n\r\n")
			}
			if err == nil {
				err = w.Flush()
			}
			if err != nil {
				t.Fatalf("sending the %d-byte body: %v (the server closed without draining)", size, err)
			}
			r := readResponse(t, conn)
			if r.status != http.StatusRequestEntityTooLarge || r.errorCode() != CodeTooLarge {
				t.Fatalf("body over --max-body: %d %s", r.status, r.body)
			}
		})
	}
	ts.stillServes(t)
}

// TestDecodeMemoryBudget: images are decoded at once only as far as their
// estimated memory (width × height × bytes per pixel, from the header)
// fits the budget, however many decoders are free.
func TestDecodeMemoryBudget(t *testing.T) {
	m := &fakeModel{prepared: make(chan struct{}, 8), prepareGate: make(chan struct{})}
	// A 1000×1000 RGBA PNG costs 7 MB (4 bytes decoded + 3 RGB per pixel):
	// two do not fit in 10 MB.
	ts := newTestServer(t, Config{Decoders: 4, DecodeMemory: 10e6}, m)
	big := solidPNG(red, 1000, 1000)
	if got := decodeCost(big); got != 7e6 {
		t.Fatalf("decodeCost of a 1000×1000 RGBA PNG = %d, want 7000000", got)
	}
	ct, body := multipartBody(t, part{name: "image", filename: "a.png", value: string(big)},
		part{name: "image", filename: "b.png", value: string(big)}, part{name: "labels", value: "red,blue"})
	got := make(chan response, 1)
	go func() { got <- ts.do(t, http.MethodPost, "/v1/classify", ct, body) }()
	<-m.prepared
	waitFor(t, func() bool { return ts.decodeMB.waiters() == 1 }, "the second big image to wait for memory")
	if n := len(m.prepared); n != 0 {
		t.Fatalf("%d more images decoding beside a 7 MB one in a 10 MB budget", n)
	}
	close(m.prepareGate)
	c := (<-got).classify(t)
	for _, r := range c.Results {
		if r.Label != "red" {
			t.Errorf("%s: %+v", r.File, r)
		}
	}
	if ts.decodeMB.used != 0 {
		t.Errorf("%d bytes of the decode budget still held", ts.decodeMB.used)
	}
	ts.stillServes(t)
}

// TestMemBudgetCancel: a decode that gives up waiting leaves the budget as
// it was, and one larger than the whole budget runs alone.
func TestMemBudgetCancel(t *testing.T) {
	b := &memBudget{size: 100}
	got, err := b.acquire(context.Background(), 1000)
	if err != nil || got != 100 {
		t.Fatalf("acquire over the budget: %d %v, want all 100", got, err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { _, err := b.acquire(ctx, 10); done <- err }()
	waitFor(t, func() bool { return b.waiters() == 1 }, "the second acquire to wait")
	cancel()
	if err := <-done; err == nil {
		t.Fatal("a cancelled wait acquired memory")
	}
	b.release(got)
	if b.used != 0 || b.waiters() != 0 {
		t.Fatalf("after release: used %d, %d waiting", b.used, b.waiters())
	}
	if n, err := b.acquire(context.Background(), 60); err != nil || n != 60 {
		t.Fatalf("acquire 60 of a free 100: %d %v", n, err)
	}
}

// TestTooLargeWithExpectContinue: a client that waits for "100 Continue"
// (curl, for large bodies) gets the 413 instead, and the connection
// closes: nothing is sent, so nothing is drained.
func TestTooLargeWithExpectContinue(t *testing.T) {
	ts := newTestServer(t, Config{MaxBody: 1 << 20}, &fakeModel{})
	conn := rawPost(t, ts, "Content-Length: 1000000000000\r\nExpect: 100-continue\r\n")
	_ = conn.SetReadDeadline(time.Now().Add(20 * time.Second))
	b, err := io.ReadAll(conn)
	if err != nil {
		t.Fatalf("the connection stayed open after the 413: %v", err)
	}
	if !strings.HasPrefix(string(b), "HTTP/1.1 413 ") || !strings.Contains(string(b), CodeTooLarge) {
		t.Fatalf("Expect: 100-continue over --max-body got %q", b)
	}
	ts.stillServes(t)
}
