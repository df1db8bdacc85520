package onnx

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"google.golang.org/protobuf/encoding/protowire"
)

// BenchmarkLoad maps and decodes a large model and touches every weight
// page, reporting ms per load and the resident memory it costs relative to
// the file size (the issue asks < 1 s and < 1.2× for the 350 MB ViT-B/32
// vision export). It uses bench-models/vision_model.onnx when present,
// otherwise a model of CLIP_BENCH_LOAD_MB (default 350) MB of random
// float32 weights it writes to a temporary directory.
func BenchmarkLoad(b *testing.B) {
	path := filepath.Join("..", "..", "bench-models", "vision_model.onnx")
	if _, err := os.Stat(path); err != nil {
		mb := 350
		if v, err := strconv.Atoi(os.Getenv("CLIP_BENCH_LOAD_MB")); err == nil && v > 0 {
			mb = v
		}
		path = filepath.Join(b.TempDir(), "big.onnx")
		if err := writeBigModel(path, int64(mb)<<20); err != nil {
			b.Fatal(err)
		}
	}
	st, err := os.Stat(path)
	if err != nil {
		b.Fatal(err)
	}
	var worstRatio float64
	var total time.Duration
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		resetPeakRSS()
		before := rssBytes("VmRSS")
		start := time.Now()
		m, err := Load(path)
		if err != nil {
			b.Fatal(err)
		}
		total += time.Since(start)
		var sink float32
		for _, t := range m.Graph.Initializers {
			for j := 0; j < len(t.Float32); j += 1024 { // one read per 4 KiB page
				sink += t.Float32[j]
			}
		}
		if sink == 0.5 { // keeps the reads alive; never true for random weights
			b.Log("sink")
		}
		peak := rssBytes("VmHWM")
		if ratio := float64(peak-before) / float64(st.Size()); ratio > worstRatio {
			worstRatio = ratio
		}
		if err := m.Close(); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(total.Microseconds())/1000/float64(b.N), "ms/load")
	b.ReportMetric(worstRatio, "peakRSS/file")
	b.ReportMetric(float64(st.Size())/(1<<20), "file-MiB")
}

// resetPeakRSS resets VmHWM (Linux ≥ 4.0); elsewhere the ratio is an upper bound.
func resetPeakRSS() { _ = os.WriteFile("/proc/self/clear_refs", []byte("5"), 0) }

func rssBytes(field string) int64 {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(b), "\n") {
		if strings.HasPrefix(line, field+":") {
			f := strings.Fields(line)
			if len(f) >= 2 {
				kb, _ := strconv.ParseInt(f[1], 10, 64)
				return kb << 10
			}
		}
	}
	return 0
}

// writeBigModel streams a ViT-like model of about size bytes: a chain of
// MatMul/Add nodes over float32 initializers of 768×768 and 768 elements,
// with names of varying length so raw_data lands at every alignment.
func writeBigModel(path string, size int64) error {
	type spec struct {
		name string
		dims []int64
	}
	var specs []spec
	var sum int64
	for i := 0; sum < size; i++ {
		w := spec{fmt.Sprintf("encoder.layers.%d.mlp.fc%s.weight", i, strings.Repeat("x", i%4)), []int64{768, 768}}
		bias := spec{fmt.Sprintf("encoder.layers.%d.mlp.fc.bias", i), []int64{768}}
		specs = append(specs, w, bias)
		sum += 4 * (768*768 + 768)
	}
	tensorPrefix := func(s spec) ([]byte, int) {
		var p []byte
		for _, d := range s.dims {
			p = protowire.AppendTag(p, 1, protowire.VarintType)
			p = protowire.AppendVarint(p, uint64(d))
		}
		p = protowire.AppendTag(p, 2, protowire.VarintType)
		p = protowire.AppendVarint(p, uint64(Float))
		p = protowire.AppendTag(p, 8, protowire.BytesType)
		p = protowire.AppendString(p, s.name)
		n := 1
		for _, d := range s.dims {
			n *= int(d)
		}
		p = protowire.AppendTag(p, 9, protowire.BytesType)
		p = protowire.AppendVarint(p, uint64(4*n))
		return p, 4 * n
	}
	var nodes []byte
	prev := "pixel_values"
	for i := 0; i < len(specs); i += 2 {
		mm, add := fmt.Sprintf("mm%d", i), fmt.Sprintf("h%d", i)
		for _, n := range [][]string{{"MatMul", prev, specs[i].name, mm}, {"Add", mm, specs[i+1].name, add}} {
			var nb []byte
			for _, in := range n[1:3] {
				nb = protowire.AppendTag(nb, 1, protowire.BytesType)
				nb = protowire.AppendString(nb, in)
			}
			nb = protowire.AppendTag(nb, 2, protowire.BytesType)
			nb = protowire.AppendString(nb, n[3])
			nb = protowire.AppendTag(nb, 4, protowire.BytesType)
			nb = protowire.AppendString(nb, n[0])
			nodes = protowire.AppendTag(nodes, 1, protowire.BytesType)
			nodes = protowire.AppendBytes(nodes, nb)
		}
		prev = add
	}
	valueInfo := func(field protowire.Number, name string) []byte {
		var shape []byte
		for _, d := range []int64{1, 768} {
			var dim []byte
			dim = protowire.AppendTag(dim, 1, protowire.VarintType)
			dim = protowire.AppendVarint(dim, uint64(d))
			shape = protowire.AppendTag(shape, 1, protowire.BytesType)
			shape = protowire.AppendBytes(shape, dim)
		}
		var tt []byte
		tt = protowire.AppendTag(tt, 1, protowire.VarintType)
		tt = protowire.AppendVarint(tt, uint64(Float))
		tt = protowire.AppendTag(tt, 2, protowire.BytesType)
		tt = protowire.AppendBytes(tt, shape)
		var typ []byte
		typ = protowire.AppendTag(typ, 1, protowire.BytesType)
		typ = protowire.AppendBytes(typ, tt)
		var vi []byte
		vi = protowire.AppendTag(vi, 1, protowire.BytesType)
		vi = protowire.AppendString(vi, name)
		vi = protowire.AppendTag(vi, 2, protowire.BytesType)
		vi = protowire.AppendBytes(vi, typ)
		out := protowire.AppendTag(nil, field, protowire.BytesType)
		return protowire.AppendBytes(out, vi)
	}
	graphTail := append(valueInfo(11, "pixel_values"), valueInfo(12, prev)...)
	graphLen := len(nodes) + len(graphTail)
	for _, s := range specs {
		p, n := tensorPrefix(s)
		graphLen += protowire.SizeTag(5) + protowire.SizeBytes(len(p)+n)
	}
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	w := bufio.NewWriterSize(f, 1<<20)
	var head []byte
	head = protowire.AppendTag(head, 1, protowire.VarintType)
	head = protowire.AppendVarint(head, 8)
	var opset []byte
	opset = protowire.AppendTag(opset, 2, protowire.VarintType)
	opset = protowire.AppendVarint(opset, 17)
	head = protowire.AppendTag(head, 8, protowire.BytesType)
	head = protowire.AppendBytes(head, opset)
	head = protowire.AppendTag(head, 7, protowire.BytesType)
	head = protowire.AppendVarint(head, uint64(graphLen))
	w.Write(head)
	w.Write(nodes)
	rng := rand.New(rand.NewPCG(1, 2))
	var chunk bytes.Buffer
	for _, s := range specs {
		p, n := tensorPrefix(s)
		var tag []byte
		tag = protowire.AppendTag(tag, 5, protowire.BytesType)
		tag = protowire.AppendVarint(tag, uint64(len(p)+n))
		w.Write(tag)
		w.Write(p)
		chunk.Reset()
		for i := 0; i < n; i += 4 {
			// Finite values of modest size, like trained weights.
			var v [4]byte
			binary.LittleEndian.PutUint32(v[:], rng.Uint32()&0x807fffff|0x3c000000)
			chunk.Write(v[:])
		}
		w.Write(chunk.Bytes())
	}
	w.Write(graphTail)
	if err := w.Flush(); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

// The benchmark's generator must produce a model the decoder accepts; kept
// small here so it runs with the ordinary tests.
func TestBigModelGeneratorSmall(t *testing.T) {
	path := filepath.Join(t.TempDir(), "small.onnx")
	if err := writeBigModel(path, 6<<20); err != nil {
		t.Fatal(err)
	}
	m, err := Load(path)
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	if len(m.Graph.Initializers) < 4 || len(m.Graph.Nodes) != len(m.Graph.Initializers) {
		t.Fatalf("%d initializers, %d nodes", len(m.Graph.Initializers), len(m.Graph.Nodes))
	}
}
