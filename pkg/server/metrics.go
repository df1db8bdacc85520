package server

import (
	"net/http"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// metrics are the server's Prometheus metrics, in a registry of its own
// (nothing is registered globally, so several servers can live in one
// process, as they do in tests).
type metrics struct {
	reg        *prometheus.Registry
	requests   *prometheus.CounterVec   // route, code
	latency    *prometheus.HistogramVec // route
	images     *prometheus.CounterVec   // outcome: ok|error
	texts      prometheus.Counter
	errors     *prometheus.CounterVec // code (API error code)
	queueDepth prometheus.Gauge
	uploads    prometheus.Gauge
	batchSize  prometheus.Histogram
	inference  prometheus.Histogram
	promptHits prometheus.Counter
	promptMiss prometheus.Counter
}

func newMetrics() *metrics {
	m := &metrics{reg: prometheus.NewRegistry()}
	m.requests = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "clip_http_requests_total", Help: "HTTP requests by route and status code.",
	}, []string{"route", "code"})
	m.latency = prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Name: "clip_http_request_duration_seconds", Help: "HTTP request latency by route.",
		Buckets: []float64{.005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10, 30},
	}, []string{"route"})
	m.images = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "clip_images_total", Help: "Images processed, by outcome (ok, error: an error record).",
	}, []string{"outcome"})
	m.texts = prometheus.NewCounter(prometheus.CounterOpts{
		Name: "clip_texts_total", Help: "Texts embedded through /v1/embed.",
	})
	m.errors = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "clip_errors_total", Help: "Error responses by API error code.",
	}, []string{"code"})
	m.queueDepth = prometheus.NewGauge(prometheus.GaugeOpts{
		Name: "clip_queue_depth", Help: "Images admitted and not yet finished (bounded by --queue).",
	})
	m.uploads = prometheus.NewGauge(prometheus.GaugeOpts{
		Name: "clip_uploads_in_progress", Help: "Request bodies being received (bounded by --max-uploads).",
	})
	m.batchSize = prometheus.NewHistogram(prometheus.HistogramOpts{
		Name: "clip_batch_size", Help: "Images per inference batch.",
		Buckets: []float64{1, 2, 3, 4, 6, 8, 12, 16, 24, 32, 64},
	})
	m.inference = prometheus.NewHistogram(prometheus.HistogramOpts{
		Name: "clip_inference_duration_seconds", Help: "Time of one image inference batch.",
		Buckets: prometheus.ExponentialBuckets(0.001, 2, 16),
	})
	m.promptHits = prometheus.NewCounter(prometheus.CounterOpts{
		Name: "clip_prompt_cache_hits_total", Help: "Prompts answered from the embedding cache.",
	})
	m.promptMiss = prometheus.NewCounter(prometheus.CounterOpts{
		Name: "clip_prompt_cache_misses_total", Help: "Prompts run through the text encoder.",
	})
	m.reg.MustRegister(m.requests, m.latency, m.images, m.texts, m.errors, m.queueDepth, m.uploads,
		m.batchSize, m.inference, m.promptHits, m.promptMiss,
		collectors.NewGoCollector(),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return m
}

func (m *metrics) handler() http.Handler {
	return promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{Registry: m.reg})
}
