package server

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"mime/multipart"
	"net/http"
	"strconv"
	"strings"
)

// imageInput is one image of a request: bytes already in the body, or a URL.
type imageInput struct {
	name string // reported as the record's "file"
	data []byte
	url  string
	err  error // a bad input (e.g. invalid base64): becomes an error record
}

// apiRequest is a parsed /v1/classify or /v1/embed request.
type apiRequest struct {
	images    []imageInput
	texts     []string
	labels    []string
	templates []string
	topK      int
	threshold float64
}

// jsonRequest is the JSON body of /v1/classify and /v1/embed.
type jsonRequest struct {
	Images []struct {
		URL    string `json:"url"`
		Base64 string `json:"base64"`
		Name   string `json:"name"`
	} `json:"images"`
	Texts     []string `json:"texts"`
	Labels    []string `json:"labels"`
	Templates []string `json:"templates"`
	TopK      *int     `json:"top_k"`
	Threshold *float64 `json:"threshold"`
}

const maxFieldBytes = 64 << 10 // a multipart text field (labels, template…)

// parseRequest reads a JSON or multipart body (already capped by
// http.MaxBytesReader). The limits on counts are checked here, as soon as
// they are exceeded, rather than after reading everything.
func (s *Server) parseRequest(r *http.Request) (*apiRequest, *apiError) {
	ct := r.Header.Get("Content-Type")
	mt, params, err := mime.ParseMediaType(ct)
	if ct == "" || err != nil {
		return nil, errorf(http.StatusUnsupportedMediaType, CodeUnsupportedMedia, "Content-Type must be application/json or multipart/form-data")
	}
	var req *apiRequest
	var apiErr *apiError
	switch mt {
	case "application/json":
		req, apiErr = s.parseJSON(r.Body)
	case "multipart/form-data":
		req, apiErr = s.parseMultipart(r.Body, params["boundary"])
	default:
		return nil, errorf(http.StatusUnsupportedMediaType, CodeUnsupportedMedia, fmt.Sprintf("Content-Type %q is not supported: use application/json or multipart/form-data", mt))
	}
	if apiErr != nil {
		return nil, apiErr
	}
	return req, s.checkCounts(req)
}

// bodyError maps a body read error: over the cap is 413, else 400.
func bodyError(err error, what string, limit int64) *apiError {
	var mbe *http.MaxBytesError
	if errors.As(err, &mbe) {
		return errorf(http.StatusRequestEntityTooLarge, CodeTooLarge, fmt.Sprintf("request body is over the %d-byte limit (--max-body)", limit))
	}
	return errorf(http.StatusBadRequest, CodeBadRequest, what+": "+err.Error())
}

func (s *Server) parseJSON(body io.Reader) (*apiRequest, *apiError) {
	dec := json.NewDecoder(body)
	dec.DisallowUnknownFields()
	var j jsonRequest
	if err := dec.Decode(&j); err != nil {
		return nil, bodyError(err, "malformed JSON body", s.cfg.MaxBody)
	}
	if _, err := dec.Token(); err != io.EOF {
		if err != nil {
			return nil, bodyError(err, "malformed JSON body", s.cfg.MaxBody)
		}
		return nil, errorf(http.StatusBadRequest, CodeBadRequest, "malformed JSON body: more than one value")
	}
	req := &apiRequest{texts: j.Texts, labels: j.Labels, templates: j.Templates}
	if j.TopK != nil {
		req.topK = *j.TopK
	}
	if j.Threshold != nil {
		req.threshold = *j.Threshold
	}
	for i, im := range j.Images {
		in := imageInput{name: im.Name}
		switch {
		case im.URL != "" && im.Base64 != "":
			return nil, errorf(http.StatusBadRequest, CodeBadRequest, fmt.Sprintf("images[%d]: give url or base64, not both", i))
		case im.URL != "":
			in.url = im.URL
			if in.name == "" {
				in.name = im.URL
			}
		case im.Base64 != "":
			in.data, in.err = decodeBase64(im.Base64)
		default:
			return nil, errorf(http.StatusBadRequest, CodeBadRequest, fmt.Sprintf("images[%d]: give url or base64", i))
		}
		if in.name == "" {
			in.name = fmt.Sprintf("images[%d]", i)
		}
		req.images = append(req.images, in)
	}
	return req, nil
}

// decodeBase64 takes standard or URL-safe base64, padded or not, with an
// optional data: URL prefix.
func decodeBase64(s string) ([]byte, error) {
	if strings.HasPrefix(s, "data:") {
		if i := strings.Index(s, ","); i >= 0 {
			s = s[i+1:]
		}
	}
	s = strings.TrimRight(strings.TrimSpace(s), "=")
	enc := base64.RawStdEncoding
	if strings.ContainsAny(s, "-_") {
		enc = base64.RawURLEncoding
	}
	b, err := enc.DecodeString(s)
	if err != nil {
		return nil, fmt.Errorf("invalid base64: %v", err)
	}
	return b, nil
}

func (s *Server) parseMultipart(body io.Reader, boundary string) (*apiRequest, *apiError) {
	if boundary == "" {
		return nil, errorf(http.StatusBadRequest, CodeBadRequest, "multipart/form-data without a boundary")
	}
	mr := multipart.NewReader(body, boundary)
	req := &apiRequest{}
	var topK, threshold string
	for {
		part, err := mr.NextPart()
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, bodyError(err, "malformed multipart body", s.cfg.MaxBody)
		}
		name := part.FormName()
		if name == "image" {
			// The body cap bounds this read.
			var buf bytes.Buffer
			if _, err := io.Copy(&buf, part); err != nil {
				return nil, bodyError(err, "malformed multipart body", s.cfg.MaxBody)
			}
			fn := part.FileName()
			if fn == "" {
				fn = fmt.Sprintf("image[%d]", len(req.images))
			}
			req.images = append(req.images, imageInput{name: fn, data: buf.Bytes()})
			if len(req.images) > s.cfg.MaxImages {
				return nil, tooManyImages(s.cfg.MaxImages)
			}
			continue
		}
		v, err := io.ReadAll(io.LimitReader(part, maxFieldBytes+1))
		if err != nil {
			return nil, bodyError(err, "malformed multipart body", s.cfg.MaxBody)
		}
		if len(v) > maxFieldBytes {
			return nil, errorf(http.StatusRequestEntityTooLarge, CodeTooLarge, fmt.Sprintf("form field %q is over %d bytes", name, maxFieldBytes))
		}
		val := string(v)
		switch name {
		case "labels", "label":
			for _, l := range strings.Split(val, ",") {
				if l = strings.TrimSpace(l); l != "" {
					req.labels = append(req.labels, l)
				}
			}
		case "template", "templates":
			req.templates = append(req.templates, val)
			if len(req.templates) > s.cfg.MaxTemplates {
				return nil, errorf(http.StatusBadRequest, CodeBadRequest, fmt.Sprintf("more than %d templates in one request", s.cfg.MaxTemplates))
			}
		case "text", "texts":
			req.texts = append(req.texts, val)
		case "top_k":
			topK = val
		case "threshold":
			threshold = val
		default:
			return nil, errorf(http.StatusBadRequest, CodeBadRequest, fmt.Sprintf("unknown form field %q (want image, labels, template, top_k, threshold, text)", name))
		}
		if len(req.labels) > s.cfg.MaxLabels || len(req.texts) > s.cfg.MaxLabels {
			return nil, tooManyLabels(s.cfg.MaxLabels)
		}
	}
	var err error
	if topK != "" {
		if req.topK, err = strconv.Atoi(strings.TrimSpace(topK)); err != nil {
			return nil, errorf(http.StatusBadRequest, CodeBadRequest, fmt.Sprintf("top_k %q is not an integer", topK))
		}
	}
	if threshold != "" {
		if req.threshold, err = strconv.ParseFloat(strings.TrimSpace(threshold), 64); err != nil {
			return nil, errorf(http.StatusBadRequest, CodeBadRequest, fmt.Sprintf("threshold %q is not a number", threshold))
		}
	}
	return req, nil
}

func tooManyImages(n int) *apiError {
	return errorf(http.StatusRequestEntityTooLarge, CodeTooManyImages, fmt.Sprintf("more than %d images in one request", n))
}

func tooManyLabels(n int) *apiError {
	return errorf(http.StatusBadRequest, CodeTooManyLabels, fmt.Sprintf("more than %d labels or texts in one request (--max-labels)", n))
}

// checkCounts applies the per-request limits common to both encodings.
func (s *Server) checkCounts(req *apiRequest) *apiError {
	switch {
	case len(req.images) > s.cfg.MaxImages:
		return tooManyImages(s.cfg.MaxImages)
	case len(req.labels) > s.cfg.MaxLabels || len(req.texts) > s.cfg.MaxLabels:
		return tooManyLabels(s.cfg.MaxLabels)
	case len(req.templates) > s.cfg.MaxTemplates:
		return errorf(http.StatusBadRequest, CodeBadRequest, fmt.Sprintf("more than %d templates in one request", s.cfg.MaxTemplates))
	case req.topK < 0:
		return errorf(http.StatusBadRequest, CodeBadRequest, "top_k must be 0 (all labels) or more")
	case req.threshold < 0 || req.threshold > 1:
		return errorf(http.StatusBadRequest, CodeBadRequest, "threshold must be between 0 and 1")
	}
	return nil
}
