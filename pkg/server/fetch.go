package server

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"syscall"
	"time"

	"github.com/clip-go/clip/pkg/inputs"
)

// blockedPrefixes are address ranges a URL image may not be fetched from
// unless private URLs are allowed: besides what netip classifies as
// loopback, private, link-local, multicast and unspecified, the shared
// (CGNAT), benchmarking, reserved, "this network" and NAT64 ranges, which
// also reach inside a deployment.
var blockedPrefixes = []netip.Prefix{
	netip.MustParsePrefix("0.0.0.0/8"),
	netip.MustParsePrefix("100.64.0.0/10"),
	netip.MustParsePrefix("192.0.0.0/24"),
	netip.MustParsePrefix("198.18.0.0/15"),
	netip.MustParsePrefix("240.0.0.0/4"),
	netip.MustParsePrefix("64:ff9b::/96"),
	netip.MustParsePrefix("64:ff9b:1::/48"),
}

// blockedReason says why addr may not be dialled, or "" if it may.
func blockedReason(addr netip.Addr) string {
	addr = addr.Unmap()
	switch {
	case !addr.IsValid():
		return "an invalid address"
	case addr.IsLoopback():
		return "a loopback address"
	case addr.IsPrivate():
		return "a private address"
	case addr.IsLinkLocalUnicast(), addr.IsLinkLocalMulticast():
		return "a link-local address"
	case addr.IsMulticast(), addr.IsInterfaceLocalMulticast():
		return "a multicast address"
	case addr.IsUnspecified():
		return "an unspecified address"
	}
	for _, p := range blockedPrefixes {
		if p.Contains(addr) {
			return "a reserved or internal address (" + p.String() + ")"
		}
	}
	return ""
}

// errBlockedAddress marks a refused dial.
var errBlockedAddress = errors.New("address not allowed")

type blockedError struct{ addr, reason string }

func (e *blockedError) Error() string {
	return fmt.Sprintf("refusing to fetch from %s: it is %s (start the server with --allow-private-urls to allow)", e.addr, e.reason)
}

func (e *blockedError) Unwrap() error { return errBlockedAddress }

// guardControl checks the address actually being dialled, after DNS
// resolution, for every connection (redirects included), so neither DNS
// rebinding nor a redirect to an internal host gets past the check.
func guardControl(network, address string, _ syscall.RawConn) error {
	ap, err := netip.ParseAddrPort(address)
	if err != nil {
		return &blockedError{addr: address, reason: "not an IP address"}
	}
	if r := blockedReason(ap.Addr()); r != "" {
		return &blockedError{addr: ap.Addr().String(), reason: r}
	}
	return nil
}

// urlFetcher downloads URL images: http and https only, with a time and
// size limit, and (unless allowPrivate) only from public addresses.
type urlFetcher struct {
	fetch inputs.Fetcher
}

func newURLFetcher(allowPrivate bool, timeout time.Duration, maxBytes int64) *urlFetcher {
	dialer := &net.Dialer{Timeout: timeout, KeepAlive: 30 * time.Second}
	if !allowPrivate {
		dialer.Control = guardControl
	}
	tr := &http.Transport{
		// No proxy: the guard must see the image host's address, not a proxy's.
		Proxy:                 nil,
		DialContext:           dialer.DialContext,
		ForceAttemptHTTP2:     true,
		MaxIdleConns:          32,
		IdleConnTimeout:       60 * time.Second,
		TLSHandshakeTimeout:   timeout,
		ResponseHeaderTimeout: timeout,
	}
	client := &http.Client{
		Transport: tr,
		CheckRedirect: func(req *http.Request, via []*http.Request) error {
			if len(via) >= 5 {
				return errors.New("more than 5 redirects")
			}
			if req.URL.Scheme != "http" && req.URL.Scheme != "https" {
				return fmt.Errorf("redirect to a %q URL: only http and https are fetched", req.URL.Scheme)
			}
			return nil
		},
	}
	return &urlFetcher{fetch: inputs.Fetcher{Client: client, MaxBytes: maxBytes, Timeout: timeout}}
}

// get returns the body of an image URL.
func (f *urlFetcher) get(ctx context.Context, raw string) ([]byte, error) {
	if err := checkImageURL(raw); err != nil {
		return nil, err
	}
	return f.fetch.Open(ctx, inputs.Input{Name: raw, IsURL: true})
}

// checkImageURL accepts absolute http(s) URLs with a host and no credentials.
func checkImageURL(raw string) error {
	u, err := url.Parse(raw)
	if err != nil {
		return fmt.Errorf("bad URL: %v", err)
	}
	if u.Scheme != "http" && u.Scheme != "https" {
		return fmt.Errorf("URL scheme %q is not allowed: only http and https", u.Scheme)
	}
	if u.Host == "" || u.Hostname() == "" {
		return errors.New("URL has no host")
	}
	if u.User != nil {
		return errors.New("URL may not carry credentials")
	}
	return nil
}
