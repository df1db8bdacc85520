package serve

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"mime/multipart"
	"net/http"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/clip-go/clip/pkg/cli/modelload"
	"github.com/clip-go/clip/pkg/server"
)

// BenchmarkServeLoad drives `clip serve` on 127.0.0.1 with 32 concurrent
// clients, each posting one image per request with 8 labels, for
// CLIP_SERVE_LOAD_SECONDS (default 20) per model: the tiny-shapes fixture
// and every bench-models/*-patch32* model (make bench-models). It reports
// requests/s, images/s, p50/p99 latency, errors (the run fails on any),
// the average inference batch (micro-batching at work), peak RSS, and the
// direct batch-8 EncodeImages throughput of the same model for comparison.
//
//	go test -run '^$' -bench ServeLoad -benchtime 1x ./pkg/cli/serve/
func BenchmarkServeLoad(b *testing.B) {
	if testing.Short() {
		b.Skip("load benchmark skipped in -short mode")
	}
	models := map[string]string{}
	if _, err := os.Stat(filepath.Join(repoRoot, "testdata", "models", "tiny-shapes", "onnx", "vision_model.onnx")); err == nil {
		models["tiny-shapes"] = tinyModel(b)
	}
	dir := filepath.Join(repoRoot, "bench-models")
	if d := os.Getenv("CLIP_BENCH_MODELS"); d != "" {
		dir = d
	}
	found, _ := filepath.Glob(filepath.Join(dir, "*patch32*", "onnx", "vision_model.onnx"))
	for _, f := range found {
		d, _ := filepath.Abs(filepath.Dir(filepath.Dir(f)))
		models[filepath.Base(d)] = d
	}
	if len(models) == 0 {
		b.Skip("no model: run make fixtures (tiny-shapes) or make bench-models")
	}
	seconds := 20.0
	if s := os.Getenv("CLIP_SERVE_LOAD_SECONDS"); s != "" {
		if v, err := strconv.ParseFloat(s, 64); err == nil && v > 0 && v <= 120 {
			seconds = v
		}
	}
	names := make([]string, 0, len(models))
	for n := range models {
		names = append(names, n)
	}
	// tiny-shapes first: peak RSS is the process's, and may not reset.
	sort.Slice(names, func(i, j int) bool {
		if (names[i] == "tiny-shapes") != (names[j] == "tiny-shapes") {
			return names[i] == "tiny-shapes"
		}
		return names[i] < names[j]
	})
	for _, name := range names {
		b.Run(name, func(b *testing.B) {
			for i := 0; i < b.N; i++ {
				loadRun(b, models[name], time.Duration(seconds*float64(time.Second)))
			}
		})
	}
}

const loadClients = 32

func loadRun(b *testing.B, model string, dur time.Duration) {
	b.StopTimer()
	images, _ := filepath.Glob(filepath.Join(repoRoot, "testdata", "shapes", "*.png"))
	if len(images) == 0 {
		b.Skip("no images under testdata/shapes")
	}
	var bodies [][]byte
	var ctype string
	labels := "red circle,red square,green triangle,blue cross,yellow circle,purple square,orange triangle,blue circle"
	for _, p := range images[:min(16, len(images))] {
		data, err := os.ReadFile(p)
		if err != nil {
			b.Fatal(err)
		}
		var buf bytes.Buffer
		mw := multipart.NewWriter(&buf)
		_ = mw.SetBoundary("loadbenchboundary")
		w, _ := mw.CreateFormFile("image", filepath.Base(p))
		_, _ = w.Write(data)
		_ = mw.WriteField("labels", labels)
		_ = mw.Close()
		bodies, ctype = append(bodies, buf.Bytes()), mw.FormDataContentType()
	}
	resetPeakRSS()
	r := startServe(b, model, func(o *ServeOptions) {
		o.Queue, o.Timeout, o.LogFormat = 2*loadClients, 2*time.Minute, "json"
	})
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: loadClients, MaxConnsPerHost: loadClients}}
	post := func(body []byte) (time.Duration, error) {
		start := time.Now()
		resp, err := client.Post(r.url+"/v1/classify", ctype, bytes.NewReader(body))
		if err != nil {
			return 0, err
		}
		defer resp.Body.Close()
		var c server.ClassifyResponse
		if resp.StatusCode != 200 {
			msg, _ := io.ReadAll(resp.Body)
			return 0, fmt.Errorf("status %d: %s", resp.StatusCode, msg)
		}
		if err := json.NewDecoder(resp.Body).Decode(&c); err != nil {
			return 0, err
		}
		if len(c.Results) != 1 || c.Results[0].Error != "" {
			return 0, fmt.Errorf("bad result: %+v", c.Results)
		}
		return time.Since(start), nil
	}
	// Warm up: compile the graphs for the batch sizes and encode the labels.
	for i := 0; i < 2; i++ {
		if _, err := post(bodies[0]); err != nil {
			b.Fatalf("warm-up: %v", err)
		}
	}
	batches0, images0 := r.srv.BatchStats()

	const maxRequests = 200000 // bounded in count as well as time
	var mu sync.Mutex
	var lat []time.Duration
	var errs []error
	deadline := time.Now().Add(dur)
	start := time.Now()
	b.StartTimer()
	var wg sync.WaitGroup
	for c := 0; c < loadClients; c++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for k := c; time.Now().Before(deadline); k += loadClients {
				d, err := post(bodies[k%len(bodies)])
				mu.Lock()
				if err != nil {
					errs = append(errs, err)
				} else {
					lat = append(lat, d)
				}
				n := len(lat) + len(errs)
				mu.Unlock()
				if n >= maxRequests {
					return
				}
			}
		}()
	}
	wg.Wait()
	elapsed := time.Since(start)
	b.StopTimer()
	batches1, images1 := r.srv.BatchStats()
	sort.Slice(lat, func(i, j int) bool { return lat[i] < lat[j] })
	pct := func(p float64) float64 {
		if len(lat) == 0 {
			return 0
		}
		return float64(lat[min(len(lat)-1, int(p*float64(len(lat))))].Microseconds()) / 1000
	}
	n := float64(len(lat))
	avgBatch := 0.0
	if batches1 > batches0 {
		avgBatch = float64(images1-images0) / float64(batches1-batches0)
	}
	rss := peakRSSMB()
	r.stop() // one model in memory at a time
	err := <-r.done
	r.done <- err
	direct := directThroughput(b, model)
	b.ReportMetric(n/elapsed.Seconds(), "req/s")
	b.ReportMetric(n/elapsed.Seconds(), "images/s")
	b.ReportMetric(pct(0.50), "p50_ms")
	b.ReportMetric(pct(0.99), "p99_ms")
	b.ReportMetric(float64(len(errs)), "errors")
	b.ReportMetric(avgBatch, "avg_batch")
	b.ReportMetric(rss, "peak_rss_MB")
	b.ReportMetric(direct, "direct_b8_images/s")
	b.Logf("%s: %d clients %.0fs: %.0f requests (%.1f req/s, %.1f images/s), p50 %.1f ms, p99 %.1f ms, %d errors, avg batch %.2f, peak RSS %.0f MB; direct EncodeImages batch 8: %.1f images/s",
		filepath.Base(model), loadClients, elapsed.Seconds(), n, n/elapsed.Seconds(), n/elapsed.Seconds(), pct(0.5), pct(0.99), len(errs), avgBatch, rss, direct)
	if len(errs) > 0 {
		b.Fatalf("%d errors under load, first: %v", len(errs), errs[0])
	}
}

// directThroughput is images/s of the model's EncodeImages at batch 8,
// without HTTP, decoding or batching: the ceiling serving can approach.
func directThroughput(b *testing.B, model string) float64 {
	f, _, _ := testFactory(map[string]string{"CLIP_HOME": b.TempDir()})
	f.Globals.Model, f.Globals.Offline = model, true
	m, err := modelload.Open(context.Background(), f, modelload.Options{})
	if err != nil {
		b.Fatalf("opening %s: %v", model, err)
	}
	defer m.Close()
	h, w := m.InputSize()
	pixels := make([]float32, 8*3*h*w)
	for i := range pixels {
		pixels[i] = float32(i%251)/125 - 1
	}
	if _, err := m.EncodeImages(context.Background(), pixels, 8); err != nil {
		b.Fatal(err)
	}
	const runs = 3
	start := time.Now()
	for i := 0; i < runs; i++ {
		if _, err := m.EncodeImages(context.Background(), pixels, 8); err != nil {
			b.Fatal(err)
		}
	}
	return 8 * runs / time.Since(start).Seconds()
}

// resetPeakRSS starts a new peak-RSS measurement (Linux ≥ 4.0; ignored elsewhere).
func resetPeakRSS() { _ = os.WriteFile("/proc/self/clear_refs", []byte("5"), 0) }

// peakRSSMB is the process's peak resident set (VmHWM) since
// resetPeakRSS, in MB; the server and its clients run in this process.
func peakRSSMB() float64 {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return 0
	}
	for _, l := range strings.Split(string(b), "\n") {
		if f := strings.Fields(l); len(f) >= 2 && f[0] == "VmHWM:" {
			kb, _ := strconv.ParseFloat(f[1], 64)
			return kb / 1024
		}
	}
	return 0
}
