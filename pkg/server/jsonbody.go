package server

import (
	"bufio"
	"bytes"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strconv"
	"unicode/utf16"
	"unicode/utf8"
)

// The JSON body is parsed as a stream rather than with json.Decoder: the
// decoder holds the whole value in its buffer, then the base64 string,
// then its decoded bytes (about 3.7 times the body per request). Here an
// image's base64 is decoded as it arrives, so a request holds little more
// than its decoded images. Fields other than images[].base64 are small and
// go through encoding/json.

// errJSONSyntax marks a malformed body (400), as opposed to a failed read.
var errJSONSyntax = errors.New("malformed JSON body")

func syntaxErrorf(format string, a ...any) error {
	return fmt.Errorf("%w: %s", errJSONSyntax, fmt.Sprintf(format, a...))
}

// jsonStream reads one JSON request body.
type jsonStream struct {
	r *bufio.Reader
	// left is the number of body bytes not yet read into r (from
	// Content-Length), -1 when unknown: it bounds an image's base64 and so
	// sizes its buffer at once.
	left func() int64
}

func (d *jsonStream) byte() (byte, error) {
	c, err := d.r.ReadByte()
	if err == io.EOF {
		return 0, io.ErrUnexpectedEOF
	}
	return c, err
}

// next returns the next byte that is not white space.
func (d *jsonStream) next() (byte, error) {
	for {
		c, err := d.byte()
		if err != nil || !isSpace(c) {
			return c, err
		}
	}
}

func isSpace(c byte) bool { return c == ' ' || c == '\t' || c == '\r' || c == '\n' }

func (d *jsonStream) expect(want byte, what string) error {
	c, err := d.next()
	if err != nil {
		return err
	}
	if c != want {
		return syntaxErrorf("%s: want %q, found %q", what, want, c)
	}
	return nil
}

// raw returns one whole JSON value (checked by the json.Unmarshal that
// reads it), starting at its first non-space byte.
func (d *jsonStream) raw() ([]byte, error) {
	c, err := d.next()
	if err != nil {
		return nil, err
	}
	buf := []byte{c}
	switch c {
	case '"':
		return d.rawString(buf)
	case '{', '[':
		depth := 1
		for depth > 0 {
			c, err := d.byte()
			if err != nil {
				return nil, err
			}
			buf = append(buf, c)
			switch c {
			case '"':
				if buf, err = d.rawString(buf); err != nil {
					return nil, err
				}
			case '{', '[':
				depth++
			case '}', ']':
				depth--
			}
		}
		return buf, nil
	}
	// A number or literal: up to the next delimiter.
	for {
		c, err := d.r.ReadByte()
		if err == io.EOF {
			return buf, nil
		}
		if err != nil {
			return nil, err
		}
		if isSpace(c) || c == ',' || c == '}' || c == ']' {
			return buf, d.r.UnreadByte()
		}
		buf = append(buf, c)
	}
}

// rawString appends the rest of a string whose opening quote is in buf.
func (d *jsonStream) rawString(buf []byte) ([]byte, error) {
	for {
		c, err := d.byte()
		if err != nil {
			return nil, err
		}
		buf = append(buf, c)
		switch c {
		case '\\':
			c, err := d.byte()
			if err != nil {
				return nil, err
			}
			buf = append(buf, c)
		case '"':
			return buf, nil
		}
	}
}

// field reads one value into v, naming the field in errors.
func (d *jsonStream) field(name string, v any) error {
	b, err := d.raw()
	if err != nil {
		return err
	}
	if err := json.Unmarshal(b, v); err != nil {
		return syntaxErrorf("%s: %v", name, err)
	}
	return nil
}

// object calls member for each key of an object; the opening brace is next.
func (d *jsonStream) object(what string, member func(key string) error) error {
	if err := d.expect('{', what); err != nil {
		return err
	}
	for first := true; ; first = false {
		c, err := d.next()
		if err != nil {
			return err
		}
		if first && c == '}' {
			return nil
		}
		if c != '"' {
			return syntaxErrorf("%s: want a key, found %q", what, c)
		}
		kb, err := d.rawString([]byte{'"'})
		if err != nil {
			return err
		}
		var key string
		if err := json.Unmarshal(kb, &key); err != nil {
			return syntaxErrorf("%s: key: %v", what, err)
		}
		if err := d.expect(':', what); err != nil {
			return err
		}
		if err := member(key); err != nil {
			return err
		}
		if more, err := d.more('}', what); !more || err != nil {
			return err
		}
	}
}

// more reads what follows a member or element: true after a comma, false
// at the closing bracket.
func (d *jsonStream) more(closing byte, what string) (bool, error) {
	c, err := d.next()
	if err != nil {
		return false, err
	}
	switch c {
	case ',':
		return true, nil
	case closing:
		return false, nil
	}
	return false, syntaxErrorf("%s: want ',' or %q, found %q", what, closing, c)
}

// isNull consumes a null literal if one is next.
func (d *jsonStream) isNull() (bool, error) {
	c, err := d.next()
	if err != nil {
		return false, err
	}
	if err := d.r.UnreadByte(); err != nil {
		return false, err
	}
	if c != 'n' {
		return false, nil
	}
	var v any
	return true, d.field("null", &v)
}

// parseJSON reads a JSON body. Limits on counts are checked as soon as
// they are exceeded, so an oversized request is not read to its end.
func (s *Server) parseJSON(d *jsonStream) (*apiRequest, error) {
	req := &apiRequest{}
	var topK *int
	var threshold *float64
	err := d.object("request", func(key string) error {
		switch key {
		case "images":
			return s.parseImages(d, req)
		case "texts":
			return d.field(key, &req.texts)
		case "text":
			var t string
			if err := d.field(key, &t); err != nil {
				return err
			}
			req.texts = append(req.texts, t)
			return nil
		case "image":
			if len(req.images) >= s.cfg.MaxImages {
				return tooManyImages(s.cfg.MaxImages)
			}
			in, err := s.parseImage(d, len(req.images))
			if err == nil {
				req.images = append(req.images, in)
			}
			return err
		case "prefix":
			return d.field(key, &req.prefix)
		case "labels":
			return d.field(key, &req.labels)
		case "templates":
			return d.field(key, &req.templates)
		case "top_k", "k":
			return d.field(key, &topK)
		case "threshold":
			return d.field(key, &threshold)
		}
		return syntaxErrorf("json: unknown field %q", key)
	})
	if err != nil {
		return nil, err
	}
	if c, err := d.next(); err != io.ErrUnexpectedEOF {
		if err != nil {
			return nil, err
		}
		return nil, syntaxErrorf("more than one value (%q after the object)", c)
	}
	if topK != nil {
		req.topK, req.hasTopK = *topK, true
	}
	if threshold != nil {
		req.threshold, req.hasThreshold = *threshold, true
	}
	return req, nil
}

func (s *Server) parseImages(d *jsonStream, req *apiRequest) error {
	if null, err := d.isNull(); null || err != nil {
		return err
	}
	if err := d.expect('[', "images"); err != nil {
		return err
	}
	for first := true; ; first = false {
		c, err := d.next()
		if err != nil {
			return err
		}
		if first && c == ']' {
			return nil
		}
		if err := d.r.UnreadByte(); err != nil {
			return err
		}
		i := len(req.images)
		if i >= s.cfg.MaxImages {
			return tooManyImages(s.cfg.MaxImages)
		}
		in, err := s.parseImage(d, i)
		if err != nil {
			return err
		}
		req.images = append(req.images, in)
		if more, err := d.more(']', "images"); !more || err != nil {
			return err
		}
	}
}

// parseImage reads one {"url"|"base64", "name"} object, or a bare base64
// string (what Weaviate's multi2vec-clip module sends to /vectorize).
func (s *Server) parseImage(d *jsonStream, i int) (imageInput, error) {
	var in imageInput
	var hasData bool
	where := fmt.Sprintf("images[%d]", i)
	if c, err := d.next(); err != nil {
		return in, err
	} else if err := d.r.UnreadByte(); err != nil {
		return in, err
	} else if c == '"' {
		_, _ = d.r.ReadByte()
		in.name = where
		in.data, in.err = d.base64(where)
		if errors.Is(in.err, errJSONSyntax) || errors.Is(in.err, errBody) {
			return in, in.err
		}
		return in, nil
	}
	err := d.object(where, func(key string) error {
		switch key {
		case "url":
			return d.field(where+".url", &in.url)
		case "name":
			return d.field(where+".name", &in.name)
		case "base64":
			if null, err := d.isNull(); null || err != nil {
				return err
			}
			if err := d.expect('"', where+".base64"); err != nil {
				return err
			}
			hasData = true
			in.data, in.err = d.base64(where)
			if errors.Is(in.err, errJSONSyntax) || errors.Is(in.err, errBody) {
				return in.err
			}
			return nil
		}
		return syntaxErrorf("json: unknown field %q in %s", key, where)
	})
	if err != nil {
		return in, err
	}
	switch {
	case in.url != "" && hasData:
		return in, errorf(400, CodeBadRequest, where+": give url or base64, not both")
	case in.url != "":
		if in.name == "" {
			in.name = in.url
		}
	case !hasData:
		return in, errorf(400, CodeBadRequest, where+": give url or base64")
	}
	if in.name == "" {
		in.name = where
	}
	return in, nil
}

// errBody wraps a failed read of the request body inside a base64 value,
// which must fail the request, not just the image.
var errBody = errors.New("reading the request body")

// base64 decodes a string value as it is read (its opening quote already
// consumed): standard or URL-safe base64, padded or not, with an optional
// data: URL prefix. An invalid encoding is returned as the image's error,
// with the rest of the string skipped so the request goes on.
func (d *jsonStream) base64(where string) ([]byte, error) {
	str := &jsonString{d: d}
	alpha := &base64Alphabet{src: str}
	size := int64(64 << 10)
	if left := d.left(); left >= 0 {
		size = (int64(d.r.Buffered())+left)*3/4 + 3
	}
	data, err := readAllSized(base64.NewDecoder(base64.RawStdEncoding, alpha), size)
	if err != nil {
		if str.err != nil {
			return nil, str.err
		}
		// Skip to the closing quote, so the request can go on.
		if _, serr := io.Copy(io.Discard, str); serr != nil {
			return nil, str.err
		}
		return nil, fmt.Errorf("invalid base64: %v", err)
	}
	return data, nil
}

// readAllSized reads r to its end into a buffer of size bytes, grown only
// if r holds more (bytes.Buffer would double it when the last read nears
// the end); the result is copied to its own size when it came out much
// smaller, so the excess is not kept alive.
func readAllSized(r io.Reader, size int64) ([]byte, error) {
	b := make([]byte, 0, max(512, size))
	for {
		if len(b) == cap(b) {
			b = append(b, 0)[:len(b)]
		}
		n, err := r.Read(b[len(b):cap(b)])
		b = b[:len(b)+n]
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, err
		}
	}
	if cap(b)-len(b) > 64<<10 && cap(b) > 2*len(b) {
		b = bytes.Clone(b)
	}
	return b, nil
}

// jsonString reads the unescaped bytes of a JSON string up to its closing
// quote (io.EOF there). err keeps what fails the request: a syntax error
// or a failed body read.
type jsonString struct {
	d    *jsonStream
	end  bool
	err  error
	utf8 [utf8.UTFMax]byte
	rest []byte // an escape's bytes not yet returned
}

func (s *jsonString) Read(p []byte) (int, error) {
	n := 0
	for n < len(p) {
		if len(s.rest) > 0 {
			k := copy(p[n:], s.rest)
			s.rest, n = s.rest[k:], n+k
			continue
		}
		if s.end {
			return n, io.EOF
		}
		if s.err != nil {
			return n, s.err
		}
		if n > 0 && s.d.r.Buffered() == 0 {
			return n, nil // do not wait for more input with some in hand
		}
		c, err := s.d.byte()
		switch {
		case err != nil:
			s.err = fmt.Errorf("%w: %w", errBody, err)
			if errors.Is(err, io.ErrUnexpectedEOF) {
				s.err = syntaxErrorf("unexpected end inside a string")
			}
		case c == '"':
			s.end = true
		case c == '\\':
			s.err = s.escape()
		case c < 0x20:
			s.err = syntaxErrorf("control character %q in a string", c)
		default:
			p[n] = c
			n++
		}
	}
	return n, nil
}

// escape decodes one backslash escape into rest.
func (s *jsonString) escape() error {
	c, err := s.d.byte()
	if err != nil {
		return fmt.Errorf("%w: %w", errBody, err)
	}
	switch c {
	case '"', '\\', '/':
		s.utf8[0] = c
	case 'b':
		s.utf8[0] = '\b'
	case 'f':
		s.utf8[0] = '\f'
	case 'n':
		s.utf8[0] = '\n'
	case 'r':
		s.utf8[0] = '\r'
	case 't':
		s.utf8[0] = '\t'
	case 'u':
		r, err := s.hex4()
		if err != nil {
			return err
		}
		if utf16.IsSurrogate(r) {
			// The low half must follow as another \u escape.
			var lo rune = utf8.RuneError
			if a, _ := s.d.byte(); a == '\\' {
				if b, _ := s.d.byte(); b == 'u' {
					if lo, err = s.hex4(); err != nil {
						return err
					}
				}
			}
			r = utf16.DecodeRune(r, lo)
		}
		s.rest = s.utf8[:utf8.EncodeRune(s.utf8[:], r)]
		return nil
	default:
		return syntaxErrorf("invalid escape \\%c in a string", c)
	}
	s.rest = s.utf8[:1]
	return nil
}

func (s *jsonString) hex4() (rune, error) {
	var h [4]byte
	for i := range h {
		c, err := s.d.byte()
		if err != nil {
			return 0, fmt.Errorf("%w: %w", errBody, err)
		}
		h[i] = c
	}
	v, err := strconv.ParseUint(string(h[:]), 16, 16)
	if err != nil {
		return 0, syntaxErrorf("invalid escape \\u%s in a string", h[:])
	}
	return rune(v), nil
}

// base64Alphabet turns what clients send into unpadded standard base64:
// an optional "data:…," prefix is dropped, white space is skipped, the
// URL-safe alphabet is mapped to the standard one, and '=' padding is
// dropped (anything after it is an error, as it would be unpadded).
type base64Alphabet struct {
	src     io.Reader
	started bool
	padded  bool
	head    []byte // the first bytes, while looking for a data: prefix
}

var errDataAfterPadding = errors.New("data after '=' padding")

func (a *base64Alphabet) Read(p []byte) (int, error) {
	if !a.started {
		if err := a.skipDataPrefix(); err != nil {
			return 0, err
		}
		a.started = true
	}
	for {
		var n int
		var err error
		if len(a.head) > 0 {
			n = copy(p, a.head)
			a.head = a.head[n:]
		} else {
			n, err = a.src.Read(p)
		}
		k := 0
		for _, c := range p[:n] {
			switch {
			case isSpace(c):
				continue
			case c == '=':
				a.padded = true
				continue
			case a.padded:
				return 0, errDataAfterPadding
			case c == '-':
				c = '+'
			case c == '_':
				c = '/'
			}
			p[k] = c
			k++
		}
		if k > 0 || err != nil || n == 0 {
			return k, err
		}
	}
}

// skipDataPrefix drops "data:<type>;base64," when the value starts so.
func (a *base64Alphabet) skipDataPrefix() error {
	var head [5]byte
	n, err := io.ReadFull(a.src, head[:])
	a.head = append([]byte(nil), head[:n]...)
	if err != nil || string(head[:]) != "data:" {
		if err == io.ErrUnexpectedEOF || err == io.EOF {
			return nil
		}
		return err
	}
	// Up to the comma; a media type is short.
	var b [1]byte
	for i := 0; i < 256; i++ {
		if _, err := io.ReadFull(a.src, b[:]); err != nil {
			return errors.New("data: URL without a comma")
		}
		if b[0] == ',' {
			a.head = nil
			return nil
		}
	}
	return errors.New("data: URL prefix longer than 256 bytes")
}
