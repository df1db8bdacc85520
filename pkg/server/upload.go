package server

import (
	"errors"
	"io"
	"net/http"
	"os"
	"strings"
	"time"
)

// Lingering close: after an error answer to a request whose body is still
// arriving, the rest of the body is read and discarded (at most this much,
// for at most this long) before the connection closes. Closing a socket
// with unread data makes the kernel send a reset, and a client that sends
// its whole body before reading the answer (Python's urllib and requests)
// then sees "connection reset by peer" instead of the 413. nginx does the
// same (lingering_close).
const (
	lingerBytes = 64 << 20
	lingerTime  = 5 * time.Second
)

// uploadReader is a request body under the upload limits: it must keep up
// a minimum average rate after a grace period, and end within the
// request's time limit. Both are enforced with read deadlines on the
// connection, so a stalled client is cut off even while no byte arrives.
type uploadReader struct {
	body     io.ReadCloser
	rc       *http.ResponseController
	start    time.Time
	grace    time.Duration
	rate     int64     // bytes/s; 0 means no minimum
	deadline time.Time // the request's time limit
	n        int64     // bytes read so far
}

func (u *uploadReader) Read(p []byte) (int, error) {
	d := u.deadline
	if u.rate > 0 {
		// By then the client must have sent more than it has so far.
		due := u.start.Add(u.grace + time.Duration(float64(u.n)/float64(u.rate)*float64(time.Second)))
		if due.Before(d) {
			d = due
		}
	}
	_ = u.rc.SetReadDeadline(d)
	n, err := u.body.Read(p)
	u.n += int64(n)
	return n, err
}

func (u *uploadReader) Close() error { return u.body.Close() }

// done lifts the read deadline once the whole body is read: the
// connection's background read (which notices a client hanging up) must
// not time out while the request is in inference, since that cancels the
// request (the handler's own context enforces --timeout from here). After
// a failed read the deadline stays, so that nothing waits on the client.
func (u *uploadReader) done() { _ = u.rc.SetReadDeadline(time.Time{}) }

// isTimeout reports whether a body read failed on a read deadline.
func isTimeout(err error) bool {
	return errors.Is(err, os.ErrDeadlineExceeded)
}

// linger answers with e while the client may still be sending its body,
// then drains the body (bounded by lingerBytes and lingerTime) so that the
// client reads the answer rather than a connection reset.
func linger(w http.ResponseWriter, body io.Reader, e *apiError, writeError func(http.ResponseWriter, *apiError)) {
	rc := http.NewResponseController(w)
	// Without full duplex the server would discard or give up on the body
	// itself before the answer is written.
	_ = rc.EnableFullDuplex()
	w.Header().Set("Connection", "close")
	writeError(w, e)
	_ = rc.Flush()
	_ = rc.SetReadDeadline(time.Now().Add(lingerTime))
	_, _ = io.CopyN(io.Discard, body, lingerBytes)
}

// watchedBody notes whether a handler started reading the request body.
type watchedBody struct {
	io.ReadCloser
	read bool
}

func (b *watchedBody) Read(p []byte) (int, error) {
	b.read = true
	return b.ReadCloser.Read(p)
}

// mayBeSending reports whether the client may still be sending its body:
// unless it waits for "100 Continue" (which only a read of the body
// sends), it sends it unasked.
func (b *watchedBody) mayBeSending(r *http.Request) bool {
	return b.read || !strings.EqualFold(r.Header.Get("Expect"), "100-continue")
}
