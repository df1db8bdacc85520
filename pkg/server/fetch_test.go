package server

import (
	"net/http"
	"net/http/httptest"
	"net/netip"
	"strings"
	"testing"
	"time"
)

func TestBlockedAddresses(t *testing.T) {
	for addr, blocked := range map[string]bool{
		"127.0.0.1": true, "127.8.9.10": true, "::1": true, "::ffff:127.0.0.1": true,
		"10.1.2.3": true, "172.16.0.1": true, "192.168.1.1": true, "fd00::1": true,
		"169.254.169.254": true, "fe80::1": true, "224.0.0.1": true, "ff02::1": true,
		"0.0.0.0": true, "::": true, "100.64.0.1": true, "198.18.0.1": true, "240.0.0.1": true,
		"255.255.255.255": true, "192.0.2.1": true, "198.51.100.7": true, "203.0.113.9": true,
		"192.88.99.1": true,
		// IPv4-compatible (deprecated ::/96) and SIIT-translated addresses,
		// whatever IPv4 address they carry.
		"::127.0.0.1": true, "::7f00:1": true, "::10.0.0.1": true, "::8.8.8.8": true, "::ffff:0:8.8.8.8": true,
		// Transition addresses carrying an internal IPv4 address.
		"::ffff:10.0.0.1": true, "::ffff:169.254.169.254": true, "64:ff9b::127.0.0.1": true, "64:ff9b::a00:1": true,
		"64:ff9b::a9fe:a9fe": true, "2002:7f00:1::1": true, "2002:a00:1::": true, "2002:c0a8:101::": true,
		// Local-use NAT64, Teredo, ORCHID, benchmarking, discard-only,
		// documentation, site-local, SRv6.
		"64:ff9b:1::808:808": true, "2001:0:4136:e378:8000:63bf:3fff:fdd2": true, "2001:20::1": true,
		"2001:2::1": true, "100::1": true, "2001:db8::1": true, "3fff::1": true, "fec0::1": true, "5f00::1": true,
		// Public addresses pass, also inside a transition address.
		"8.8.8.8": false, "93.184.216.34": false, "2001:4860:4860::8888": false, "1.1.1.1": false,
		"::ffff:8.8.8.8": false, "64:ff9b::808:808": false, "2002:808:808::1": false, "2606:4700::1111": false,
	} {
		r := blockedReason(netip.MustParseAddr(addr))
		if (r != "") != blocked {
			t.Errorf("%s: reason %q, want blocked=%v", addr, r, blocked)
		}
	}
	if r := blockedReason(netip.MustParseAddr("64:ff9b::127.0.0.1")); !strings.Contains(r, "loopback") || !strings.Contains(r, "127.0.0.1") {
		t.Errorf("NAT64 of a loopback address: reason %q, want it to name loopback and 127.0.0.1", r)
	}
	// The dial guard refuses before connecting (no packet leaves).
	for _, a := range []string{"[::127.0.0.1]:80", "[::ffff:0:7f00:1]:80", "[2002:7f00:1::1]:443"} {
		if err := guardControl("tcp6", a, nil); err == nil {
			t.Errorf("guardControl(%s) allowed the dial", a)
		}
	}
}

// imageHost serves test images on 127.0.0.1.
func imageHost(t *testing.T) *httptest.Server {
	t.Helper()
	png := solidPNG(red, 3, 3)
	mux := http.NewServeMux()
	mux.HandleFunc("/red.png", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "image/png")
		_, _ = w.Write(png)
	})
	mux.HandleFunc("/page.html", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html")
		_, _ = w.Write([]byte("<html></html>"))
	})
	mux.HandleFunc("/big.png", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "image/png")
		_, _ = w.Write(make([]byte, 64<<10))
	})
	mux.HandleFunc("/slow.png", func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-time.After(3 * time.Second):
		case <-r.Context().Done():
		}
	})
	mux.HandleFunc("/redirect", func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, "/red.png", http.StatusFound)
	})
	ts := httptest.NewServer(mux)
	t.Cleanup(ts.Close)
	return ts
}

func classifyURLs(t *testing.T, ts *testServer, urls ...string) ClassifyResponse {
	t.Helper()
	var images []map[string]string
	for _, u := range urls {
		images = append(images, map[string]string{"url": u})
	}
	return ts.postJSON(t, "/v1/classify", map[string]any{"images": images, "labels": []string{"red", "blue"}}).classify(t)
}

func TestURLImagesOnLoopbackRefusedByDefault(t *testing.T) {
	host := imageHost(t)
	ts := newTestServer(t, Config{}, &fakeModel{})
	localhost := strings.Replace(host.URL, "127.0.0.1", "localhost", 1)
	c := classifyURLs(t, ts, host.URL+"/red.png", localhost+"/red.png", host.URL+"/redirect")
	for _, r := range c.Results {
		if r.Error == "" || !strings.Contains(r.Error, "loopback") || !strings.Contains(r.Error, "--allow-private-urls") {
			t.Errorf("%s: %+v, want refused as loopback", r.File, r)
		}
	}
	if c.Results[0].File != host.URL+"/red.png" {
		t.Errorf("file %q, want the URL", c.Results[0].File)
	}
	c = classifyURLs(t, ts, "file:///etc/passwd", "ftp://example.com/a.png", "http:///nohost.png", "http://user:pw@example.com/a.png")
	for _, r := range c.Results {
		if r.Error == "" {
			t.Errorf("%s: %+v, want refused", r.File, r)
		}
	}
	ts.stillServes(t)
}

func TestURLImagesAllowedWithFlag(t *testing.T) {
	host := imageHost(t)
	ts := newTestServer(t, Config{AllowPrivate: true, MaxBody: 32 << 10, URLTimeout: 300 * time.Millisecond}, &fakeModel{})
	c := classifyURLs(t, ts, host.URL+"/red.png", host.URL+"/redirect", host.URL+"/page.html",
		host.URL+"/missing.png", host.URL+"/big.png", host.URL+"/slow.png")
	for i, want := range []string{"", "", "not an image", "404", "limit", "deadline"} {
		r := c.Results[i]
		if want == "" {
			if r.Label != "red" || r.Error != "" {
				t.Errorf("%s: %+v, want red", r.File, r)
			}
			continue
		}
		if want == "deadline" && strings.Contains(r.Error, "timeout") {
			continue // the transport's header timeout may fire first
		}
		if !strings.Contains(r.Error, want) {
			t.Errorf("%s: error %q, want it to mention %q", r.File, r.Error, want)
		}
	}
	ts.stillServes(t)
}
