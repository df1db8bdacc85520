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
// loopback, private, link-local, multicast and unspecified, the IANA
// special-purpose ranges that are not globally reachable (shared CGNAT,
// benchmarking, documentation, reserved, "this network", deprecated
// site-local, discard-only, ORCHID, SRv6 SIDs), which may reach inside a
// deployment or are never a real image host.
var blockedPrefixes = []netip.Prefix{
	netip.MustParsePrefix("0.0.0.0/8"),
	netip.MustParsePrefix("100.64.0.0/10"),
	netip.MustParsePrefix("192.0.0.0/24"),
	netip.MustParsePrefix("192.0.2.0/24"),
	netip.MustParsePrefix("192.88.99.0/24"), // 6to4 relay anycast (deprecated)
	netip.MustParsePrefix("198.18.0.0/15"),
	netip.MustParsePrefix("198.51.100.0/24"),
	netip.MustParsePrefix("203.0.113.0/24"),
	netip.MustParsePrefix("240.0.0.0/4"),
	netip.MustParsePrefix("::/96"),           // IPv4-compatible (deprecated): stacks route them as IPv4
	netip.MustParsePrefix("::ffff:0:0:0/96"), // SIIT IPv4-translated
	netip.MustParsePrefix("64:ff9b:1::/48"),  // local-use NAT64: translated by a site's own gateway
	netip.MustParsePrefix("100::/64"),        // discard-only
	netip.MustParsePrefix("2001::/23"),       // IETF protocol assignments (Teredo, ORCHID, benchmarking…)
	netip.MustParsePrefix("2001:db8::/32"),   // documentation
	netip.MustParsePrefix("3fff::/20"),       // documentation
	netip.MustParsePrefix("5f00::/16"),       // SRv6 SIDs
	netip.MustParsePrefix("fec0::/10"),       // site-local (deprecated)
}

// Transition ranges that carry an IPv4 address inside an IPv6 one: the
// packet ends up at that IPv4 address, so it is judged as one.
var (
	nat64WellKnown = netip.MustParsePrefix("64:ff9b::/96") // RFC 6052: IPv4 in the low 32 bits
	sixToFour      = netip.MustParsePrefix("2002::/16")    // RFC 3056: IPv4 in bits 16–47
)

// embeddedIPv4 returns the IPv4 address an IPv6 transition address
// (IPv4-mapped, NAT64 well-known prefix, 6to4) delivers to.
func embeddedIPv4(addr netip.Addr) (netip.Addr, bool) {
	if addr.Is4In6() {
		return addr.Unmap(), true
	}
	b := addr.As16()
	switch {
	case nat64WellKnown.Contains(addr):
		return netip.AddrFrom4([4]byte(b[12:16])), true
	case sixToFour.Contains(addr):
		return netip.AddrFrom4([4]byte(b[2:6])), true
	}
	return netip.Addr{}, false
}

// blockedReason says why addr may not be dialled, or "" if it may.
func blockedReason(addr netip.Addr) string {
	if !addr.IsValid() {
		return "an invalid address"
	}
	if v4, ok := embeddedIPv4(addr); ok {
		if r := blockedReason(v4); r != "" {
			if addr.Is4In6() {
				return r
			}
			return r + " inside an IPv6 transition address (" + v4.String() + ")"
		}
		return ""
	}
	switch {
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
