package server

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/clip-go/clip/pkg/clip"
)

// ClassifyResponse is the body of POST /v1/classify.
type ClassifyResponse struct {
	Schema  int           `json:"schema"`
	Model   *ModelInfo    `json:"model"`
	Results []clip.Record `json:"results"`
}

// EmbedRecord is one result of POST /v1/embed, with the fields of
// `clip embed`'s jsonl records.
type EmbedRecord struct {
	Schema    int       `json:"schema"`
	File      string    `json:"file,omitempty"`
	Text      *string   `json:"text,omitempty"`
	Embedding []float32 `json:"embedding,omitempty"`
	Error     string    `json:"error,omitempty"`
}

// EmbedResponse is the body of POST /v1/embed.
type EmbedResponse struct {
	Schema  int           `json:"schema"`
	Model   *ModelInfo    `json:"model"`
	Results []EmbedRecord `json:"results"`
}

// begin is the common start of the API endpoints: the server must be
// ready, the body is received under the upload limits (size, rate, and
// a budget of bodies in progress), and only then does the request take
// its queue slots, one per image: a slow upload holds no queue slot.
func (s *Server) begin(w http.ResponseWriter, r *http.Request) (*loaded, *apiRequest, *lease, *apiError) {
	st, e := s.available()
	if e != nil {
		return nil, nil, nil, e
	}
	if r.ContentLength > s.cfg.MaxBody {
		return nil, nil, nil, errorf(http.StatusRequestEntityTooLarge, CodeTooLarge,
			fmt.Sprintf("Content-Length %d is over the %d-byte limit (--max-body)", r.ContentLength, s.cfg.MaxBody))
	}
	req, e := s.receive(w, r)
	if e != nil {
		return nil, nil, nil, e
	}
	n := max(1, len(req.images))
	if !s.slots.acquire(n) {
		return nil, nil, nil, s.queueFull()
	}
	l := &lease{s: s.slots}
	l.held.Store(int64(n))
	return st, req, l, nil
}

// call is one API request once its body has arrived: its context (the
// server's --timeout from the headers on), the loaded model, the parsed
// body and its queue slots.
type call struct {
	ctx context.Context
	st  *loaded
	req *apiRequest
	l   *lease
}

// withBody adapts an API handler: h runs once the body is received
// (begin), under --timeout, and the request's queue slots are freed after.
func (s *Server) withBody(h func(http.ResponseWriter, *call) *apiError) func(http.ResponseWriter, *http.Request) *apiError {
	return func(w http.ResponseWriter, r *http.Request) *apiError {
		ctx, cancel := context.WithTimeout(r.Context(), s.cfg.Timeout)
		defer cancel()
		st, req, l, e := s.begin(w, r)
		if e != nil {
			return e
		}
		defer l.release()
		return h(w, &call{ctx: ctx, st: st, req: req, l: l})
	}
}

// receive reads and parses the body, holding an upload slot meanwhile.
func (s *Server) receive(w http.ResponseWriter, r *http.Request) (*apiRequest, *apiError) {
	if !s.uploads.acquire(1) {
		return nil, &apiError{Status: http.StatusTooManyRequests, Code: CodeQueueFull,
			Message: fmt.Sprintf("the server is busy (%d uploads in progress, --max-uploads); retry later", s.cfg.Uploads), RetryAfter: 1}
	}
	defer s.uploads.release(1)
	start := time.Now()
	up := &uploadReader{body: r.Body, rc: http.NewResponseController(w), start: start,
		grace: s.cfg.UploadGrace, rate: s.cfg.MinUploadRate, deadline: start.Add(s.cfg.Timeout)}
	r.Body = http.MaxBytesReader(w, up, s.cfg.MaxBody)
	left := func() int64 {
		if r.ContentLength < 0 {
			return -1
		}
		return max(0, r.ContentLength-up.n)
	}
	req, e := s.parseRequest(r, left)
	if e != nil {
		return nil, e
	}
	// What follows a multipart body's closing boundary is read here, under
	// the upload limits, rather than by the server after the response.
	if _, err := io.Copy(io.Discard, r.Body); err != nil {
		return nil, s.bodyError(err, "reading the request body")
	}
	up.done()
	return req, nil
}

// lease is a request's admission slots. Each image handed to the batcher
// takes one slot along (freed when the batcher is done with it); the rest
// are freed when the request ends.
type lease struct {
	s    *slots
	held atomic.Int64
}

// transfer moves one slot to a job, returning the job's release func.
func (l *lease) transfer() func() {
	if l.held.Add(-1) < 0 {
		l.held.Add(1)
		return nil
	}
	return func() { l.s.release(1) }
}

func (l *lease) release() {
	if n := l.held.Swap(0); n > 0 {
		l.s.release(int(n))
	}
}

func (s *Server) queueFull() *apiError {
	return &apiError{Status: http.StatusTooManyRequests, Code: CodeQueueFull,
		Message: fmt.Sprintf("the server is busy (%d images queued, --queue); retry later", s.cfg.Queue), RetryAfter: 1}
}

// finish maps the end of a request's context to its error response.
func finish(ctx context.Context) *apiError {
	switch {
	case errors.Is(ctx.Err(), context.DeadlineExceeded):
		return errorf(http.StatusGatewayTimeout, CodeTimeout, "the request took longer than the server's --timeout")
	case ctx.Err() != nil:
		// The client went away: nobody reads the answer.
		return errorf(499, "client_closed", "client closed the request")
	}
	return nil
}

func (s *Server) handleClassify(w http.ResponseWriter, c *call) *apiError {
	ctx, st, req, l := c.ctx, c.st, c.req, c.l
	switch {
	case len(req.images) == 0:
		return errorf(http.StatusBadRequest, CodeBadRequest, "no images: send image file parts, or JSON images [{\"url\"}|{\"base64\"}]")
	case len(req.labels) == 0:
		return errorf(http.StatusBadRequest, CodeBadRequest, "no labels: send labels (comma-separated or repeated)")
	case len(req.texts) > 0:
		return errorf(http.StatusBadRequest, CodeBadRequest, "texts are for /v1/embed")
	case req.prefix != "":
		return errorf(http.StatusBadRequest, CodeBadRequest, "prefix is for /v1/search")
	}
	labels := make([]clip.Label, len(req.labels))
	for i, l := range req.labels {
		labels[i] = clip.Label{Name: l}
	}
	if _, err := clip.Prompts(labels, req.templates); err != nil {
		return errorf(http.StatusBadRequest, CodeBadRequest, err.Error())
	}
	// Labels encode (usually from the cache) while images download and decode.
	var zs *clip.ZeroShot
	var zsErr error
	textDone := make(chan struct{})
	go func() {
		defer close(textDone)
		zs, zsErr = st.classifiers.get(ctx, labels, req.templates)
	}()
	embs, errs, fatal := s.embedImages(ctx, st, l, req.images)
	<-textDone
	if e := finish(ctx); e != nil {
		return e
	}
	if fatal != nil {
		s.log.Error("inference failed", "error", fatal.Error())
		return errorf(http.StatusInternalServerError, CodeInternal, "inference failed: "+fatal.Error())
	}
	if zsErr != nil {
		s.log.Error("encoding labels failed", "error", zsErr.Error())
		return errorf(http.StatusInternalServerError, CodeInternal, "encoding labels: "+zsErr.Error())
	}
	resp := ClassifyResponse{Schema: clip.SchemaVersion, Model: st.info, Results: make([]clip.Record, len(req.images))}
	for i, in := range req.images {
		if errs[i] != nil {
			resp.Results[i] = clip.ErrorRecord(in.name, errs[i])
			continue
		}
		scores, err := zs.Classify(embs[i])
		if err != nil {
			resp.Results[i] = clip.ErrorRecord(in.name, err)
			continue
		}
		resp.Results[i] = clip.NewRecord(in.name, scores, req.topK, req.threshold)
	}
	s.countImages(errs)
	writeJSON(w, http.StatusOK, resp)
	return nil
}

func (s *Server) handleEmbed(w http.ResponseWriter, c *call) *apiError {
	ctx, st, req, l := c.ctx, c.st, c.req, c.l
	switch {
	case len(req.images) > 0 && len(req.texts) > 0:
		return errorf(http.StatusBadRequest, CodeBadRequest, "give images or texts, not both")
	case len(req.images) == 0 && len(req.texts) == 0:
		return errorf(http.StatusBadRequest, CodeBadRequest, "nothing to embed: send images or texts")
	case len(req.labels) > 0 || len(req.templates) > 0:
		return errorf(http.StatusBadRequest, CodeBadRequest, "labels and templates are for /v1/classify")
	case req.prefix != "":
		return errorf(http.StatusBadRequest, CodeBadRequest, "prefix is for /v1/search")
	}
	resp := EmbedResponse{Schema: clip.SchemaVersion, Model: st.info}
	if len(req.texts) > 0 {
		embs, err := st.prompts.EncodeTexts(ctx, req.texts)
		if e := finish(ctx); e != nil {
			return e
		}
		if err != nil {
			return errorf(http.StatusInternalServerError, CodeInternal, err.Error())
		}
		for i := range req.texts {
			resp.Results = append(resp.Results, EmbedRecord{Schema: clip.SchemaVersion, Text: &req.texts[i], Embedding: embs[i]})
		}
		s.metrics.texts.Add(float64(len(req.texts)))
		writeJSON(w, http.StatusOK, resp)
		return nil
	}
	embs, errs, fatal := s.embedImages(ctx, st, l, req.images)
	if e := finish(ctx); e != nil {
		return e
	}
	if fatal != nil {
		return errorf(http.StatusInternalServerError, CodeInternal, "inference failed: "+fatal.Error())
	}
	for i, in := range req.images {
		rec := EmbedRecord{Schema: clip.SchemaVersion, File: in.name}
		if errs[i] != nil {
			rec.Error = errs[i].Error()
		} else {
			rec.Embedding = embs[i]
		}
		resp.Results = append(resp.Results, rec)
	}
	s.countImages(errs)
	writeJSON(w, http.StatusOK, resp)
	return nil
}

func (s *Server) countImages(errs []error) {
	for _, err := range errs {
		if err != nil {
			s.metrics.images.WithLabelValues("error").Inc()
		} else {
			s.metrics.images.WithLabelValues("ok").Inc()
		}
	}
}

// inferenceError marks a failure of the model, not of one image.
type inferenceError struct{ err error }

func (e inferenceError) Error() string { return e.err.Error() }

// embedImages fetches, decodes and embeds a request's images: decoding runs
// in parallel (bounded by the decode semaphore), inference through the
// shared batcher. errs[i] is a bad image (an error record); fatal is an
// inference failure.
func (s *Server) embedImages(ctx context.Context, st *loaded, l *lease, images []imageInput) (embs [][]float32, errs []error, fatal error) {
	embs = make([][]float32, len(images))
	errs = make([]error, len(images))
	h, w := st.model.InputSize()
	var wg sync.WaitGroup
	var fatalOnce sync.Once
	for i := range images {
		wg.Add(1)
		go func() {
			defer wg.Done()
			emb, err := s.embedOne(ctx, st, l, &images[i], 3*h*w)
			var ie inferenceError
			if errors.As(err, &ie) {
				fatalOnce.Do(func() { fatal = ie.err })
				return
			}
			embs[i], errs[i] = emb, err
		}()
	}
	wg.Wait()
	return embs, errs, fatal
}

// embedAllImages embeds images that must all succeed (a search example,
// Weaviate's positional vectors): the first bad image is a 400 naming it.
func (s *Server) embedAllImages(ctx context.Context, st *loaded, l *lease, images []imageInput) ([][]float32, *apiError) {
	embs, errs, fatal := s.embedImages(ctx, st, l, images)
	if e := finish(ctx); e != nil {
		return nil, e
	}
	if fatal != nil {
		return nil, errorf(http.StatusInternalServerError, CodeInternal, "inference failed: "+fatal.Error())
	}
	s.countImages(errs)
	for i, err := range errs {
		if err != nil {
			return nil, errorf(http.StatusBadRequest, CodeBadRequest, fmt.Sprintf("%s: %v", images[i].name, err))
		}
	}
	return embs, nil
}

func (s *Server) embedOne(ctx context.Context, st *loaded, l *lease, in *imageInput, size int) ([]float32, error) {
	if in.err != nil {
		return nil, in.err
	}
	data := in.data
	if in.url != "" {
		var err error
		if data, err = s.fetcher.get(ctx, in.url); err != nil {
			return nil, cleanFetchError(err)
		}
	}
	// Decoding takes a decoder (CPU) and its estimated memory: a few huge
	// images must not be decoded at once just because cores are free.
	cost, err := s.decodeMB.acquire(ctx, decodeCost(data))
	if err != nil {
		return nil, err
	}
	select {
	case s.decode <- struct{}{}:
	case <-ctx.Done():
		s.decodeMB.release(cost)
		return nil, ctx.Err()
	}
	pixels := make([]float32, size)
	err = st.model.PrepareImage(data, in.name, pixels)
	<-s.decode
	s.decodeMB.release(cost)
	in.data = nil // the file is no longer needed while the image waits for inference
	if err != nil {
		return nil, err
	}
	job := &imageJob{ctx: ctx, pixels: pixels, done: make(chan jobResult, 1), release: l.transfer()}
	if err := st.batch.submit(job); err != nil {
		if job.release != nil {
			job.release()
		}
		return nil, err
	}
	select {
	case res := <-job.done:
		if res.err != nil && ctx.Err() == nil {
			return nil, inferenceError{res.err}
		}
		return res.emb, res.err
	case <-ctx.Done():
		// The batcher frees the job's slot when it reaches it.
		return nil, ctx.Err()
	}
}

// cleanFetchError keeps the useful part of a URL download error: the
// refusal of an internal address, or the cause, without Go's wrapping.
func cleanFetchError(err error) error {
	var be *blockedError
	if errors.As(err, &be) {
		return be
	}
	msg := err.Error()
	if i := strings.LastIndex(msg, ": "); i >= 0 && strings.HasPrefix(msg, "Get ") {
		return fmt.Errorf("fetching the URL: %s", msg[i+2:])
	}
	return fmt.Errorf("fetching the URL: %s", msg)
}
