// Command indexbench is the Go side of the index section of `make bench`
// (scripts/bench/index.sh): it fills an index made by `clip index` with
// synthetic CLIP-like vectors (internal/clipsynth) so that a 1M-image
// index takes minutes instead of a million embeddings, and times searches
// inside one process through pkg/index's public API (what `clip serve`
// holds). It is not part of the clip CLI.
//
//	go run ./scripts/bench/indexbench fill --index FILE --count 1000000
//	go run ./scripts/bench/indexbench query --index FILE --queries 100
package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/clip-go/clip/internal/clipsynth"
	"github.com/clip-go/clip/pkg/index"
)

func main() {
	if len(os.Args) < 2 {
		fmt.Fprintln(os.Stderr, "usage: indexbench fill|query --index FILE …")
		os.Exit(2)
	}
	fs := flag.NewFlagSet(os.Args[1], flag.ExitOnError)
	path := fs.String("index", "", "index file made by clip index")
	count := fs.Int("count", 1_000_000, "fill: synthetic images to add")
	batch := fs.Int("batch", 10_000, "fill: images per transaction")
	queries := fs.Int("queries", 100, "query: searches to time")
	k := fs.Int("k", 10, "query: hits per search")
	seed := fs.Uint64("seed", 1, "random seed")
	_ = fs.Parse(os.Args[2:])
	ctx := context.Background()
	var err error
	switch os.Args[1] {
	case "fill":
		err = fill(ctx, *path, *count, *batch, *seed)
	case "query":
		err = query(ctx, *path, *queries, *k, *seed)
	default:
		err = fmt.Errorf("unknown command %q", os.Args[1])
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "indexbench:", err)
		os.Exit(1)
	}
}

// fill adds count synthetic vectors (the index's dimension) under
// /synthetic/, then writes the vector file as `clip index` does.
func fill(ctx context.Context, path string, count, batch int, seed uint64) error {
	ix, err := index.Open(ctx, path, index.Options{})
	if err != nil {
		return err
	}
	defer ix.Close()
	m, ok, err := ix.Meta(ctx)
	if err != nil || !ok || m.Dim == 0 {
		return fmt.Errorf("%s: no model recorded (run clip index on an image first): %v", path, err)
	}
	g := clipsynth.New(rand.New(rand.NewPCG(seed, 1)), m.Dim)
	start := time.Now()
	for lo := 0; lo < count; lo += batch {
		changes := make([]index.Change, min(batch, count-lo))
		for i := range changes {
			n := lo + i
			emb := make([]float32, m.Dim)
			g.Next(emb)
			changes[i] = index.Change{File: index.File{
				Path: fmt.Sprintf("/synthetic/%03d/IMG_%07d.jpg", n/10000, n), Size: 3_000_000,
				MtimeNs: 1_700_000_000_000_000_000, SHA256: fmt.Sprintf("%064x", n)}, Embedding: emb}
		}
		if err := ix.Apply(ctx, changes); err != nil {
			return err
		}
	}
	t := time.Now()
	if err := ix.WriteVectorFile(ctx); err != nil {
		return err
	}
	fmt.Fprintf(os.Stderr, "indexbench: %d vectors in %.0fs, vector file in %.1fs\n", count, t.Sub(start).Seconds(), time.Since(t).Seconds())
	return nil
}

// query loads the index once and times searches for synthetic queries.
func query(ctx context.Context, path string, queries, k int, seed uint64) error {
	t0 := time.Now()
	ix, err := index.Open(ctx, path, index.Options{ReadOnly: true})
	if err != nil {
		return err
	}
	defer ix.Close()
	v, err := ix.Load(ctx, nil)
	if err != nil {
		return err
	}
	defer v.Close()
	load := time.Since(t0)
	// The fill's shape, other draws: queries near its clusters.
	g := clipsynth.New(rand.New(rand.NewPCG(seed, 1)), v.Dim).WithSource(rand.New(rand.NewPCG(seed, 2)))
	q := make([]float32, v.Dim)
	var ms []float64
	cpu0 := cpuTime()
	for range queries {
		g.Next(q)
		t := time.Now()
		if len(v.Search(q, index.SearchOptions{K: k})) != min(k, v.Len()) {
			return fmt.Errorf("short result")
		}
		ms = append(ms, float64(time.Since(t).Microseconds())/1000)
	}
	cpuPerQuery := (cpuTime() - cpu0).Seconds() * 1000 / float64(queries)
	slices.Sort(ms)
	out := map[string]any{
		"images": v.Len(), "dim": v.Dim, "load_ms": load.Milliseconds(), "queries": queries, "k": k,
		"p50_ms": ms[len(ms)/2], "p99_ms": ms[min(len(ms)-1, len(ms)*99/100)], "threads": runtime.GOMAXPROCS(0),
		"rss_mib": math.Round(rssMiB()), "cpu_ms_per_query": math.Round(cpuPerQuery*10) / 10,
		"loadavg": loadAvg(),
	}
	return json.NewEncoder(os.Stdout).Encode(out)
}

// rssMiB is this process's peak resident set (VmHWM), Linux only.
func rssMiB() float64 {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(b), "\n") {
		if f := strings.Fields(line); len(f) >= 2 && f[0] == "VmHWM:" {
			kb, _ := strconv.ParseFloat(f[1], 64)
			return kb / 1024
		}
	}
	return 0
}

// cpuTime is the user and system time this process has used: beside wall
// time it shows the work per query on a machine other processes share.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if syscall.Getrusage(syscall.RUSAGE_SELF, &ru) != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// loadAvg is the 1-minute load average (Linux), to read the timings by.
func loadAvg() string {
	b, _ := os.ReadFile("/proc/loadavg")
	if f := strings.Fields(string(b)); len(f) > 0 {
		return f[0]
	}
	return ""
}
