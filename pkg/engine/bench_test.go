package engine

import (
	"context"
	"encoding/json"
	"math/rand"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/clip-go/clip/pkg/graph"
)

// benchInputs makes seeded inputs for s: batch for symbolic batch dims,
// seq tokens for sequence dims, 224 (or the declared size) for images.
func benchInputs(s *Session, batch, seq, size int) map[string]*Tensor {
	rng := rand.New(rand.NewSource(1))
	feeds := map[string]*Tensor{}
	for _, in := range s.Inputs() {
		var sh []int
		for i, d := range in.Shape {
			switch {
			case d.Value >= 0 && d.Param == "":
				sh = append(sh, int(d.Value))
			case i == 0:
				sh = append(sh, batch)
			case strings.Contains(d.Param, "sequence"):
				sh = append(sh, seq)
			case strings.Contains(d.Param, "channels"):
				sh = append(sh, 3)
			default:
				sh = append(sh, size)
			}
		}
		t := graph.NewTensor(in.ElemType, sh)
		for i := range t.Float32 {
			t.Float32[i] = float32(rng.NormFloat64())
		}
		// Ids inside every vocabulary; an attention mask of ones but for
		// the last 3 tokens of odd rows (padding, which a BERT-family
		// tower's attention must hide).
		id := func(i int) int64 {
			if !strings.Contains(in.Name, "mask") {
				return int64(rng.Intn(100))
			}
			if cols := sh[len(sh)-1]; len(sh) == 2 && cols > 4 && (i/cols)%2 == 1 && i%cols >= cols-3 {
				return 0
			}
			return 1
		}
		for i := range t.Int64 {
			t.Int64[i] = id(i)
		}
		for i := range t.Int32 {
			t.Int32[i] = int32(id(i))
		}
		feeds[in.Name] = t
	}
	return feeds
}

func benchModel(b *testing.B, path string, batch, seq int) {
	s, err := Open(context.Background(), path, Options{})
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	feeds := benchInputs(s, batch, seq, imageSize(path))
	if _, err := s.Run(context.Background(), feeds); err != nil { // compile + warm up
		b.Fatal(err)
	}
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if _, err := s.Run(context.Background(), feeds); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Milliseconds())/float64(b.N*batch), "ms/item")
}

// imageSize reads vision_config.image_size from the config.json beside
// the model's onnx/ directory (224 when there is none).
func imageSize(model string) int {
	b, err := os.ReadFile(filepath.Join(filepath.Dir(filepath.Dir(model)), "config.json"))
	if err != nil {
		return 224
	}
	var cfg struct {
		Vision struct {
			ImageSize int `json:"image_size"`
		} `json:"vision_config"`
	}
	if json.Unmarshal(b, &cfg) != nil || cfg.Vision.ImageSize == 0 {
		return 224
	}
	return cfg.Vision.ImageSize
}

// BenchmarkVisionTiny runs the tiny fixture vision tower at batch 8.
func BenchmarkVisionTiny(b *testing.B) {
	path := filepath.Join(projectRoot, "testdata", "models", "tiny-shapes", "onnx", "vision_model.onnx")
	if p := os.Getenv("CLIP_TINY_VISION"); p != "" {
		path = p
	}
	if _, err := os.Stat(path); err != nil {
		b.Skipf("%s missing (make fixtures)", path)
	}
	benchModel(b, path, 8, 77)
}

// BenchmarkBenchModels runs every full-size model under bench-models/
// (make bench-models; CLIP_BENCH_MODELS overrides the directory) at batch
// 1 and 8; text towers at 77 tokens.
func BenchmarkBenchModels(b *testing.B) {
	dir := filepath.Join(projectRoot, "bench-models")
	if d := os.Getenv("CLIP_BENCH_MODELS"); d != "" {
		dir = d
	}
	files, _ := filepath.Glob(filepath.Join(dir, "*", "onnx", "*_model*.onnx"))
	if len(files) == 0 {
		b.Skipf("no models under %s (make bench-models)", dir)
	}
	for _, f := range files {
		name := filepath.Base(filepath.Dir(filepath.Dir(f))) + "/" + strings.TrimSuffix(filepath.Base(f), ".onnx")
		for _, batch := range []int{1, 8} {
			b.Run(name+"/batch"+string(rune('0'+batch)), func(b *testing.B) { benchModel(b, f, batch, 77) })
		}
	}
}

// BenchmarkColdStart times what one `clip classify` pays before its first
// result: Open (map the file, build and check the graph), the first Run at
// batch 1 (bind shapes, fold constants, fuse, pack weights, build the
// Gorgonia graph, compute) and Close, for each model under bench-models/.
func BenchmarkColdStart(b *testing.B) {
	dir := filepath.Join(projectRoot, "bench-models")
	if d := os.Getenv("CLIP_BENCH_MODELS"); d != "" {
		dir = d
	}
	files, _ := filepath.Glob(filepath.Join(dir, "*", "onnx", "*_model*.onnx"))
	if len(files) == 0 {
		b.Skipf("no models under %s (make bench-models)", dir)
	}
	for _, f := range files {
		name := filepath.Base(filepath.Dir(filepath.Dir(f))) + "/" + strings.TrimSuffix(filepath.Base(f), ".onnx")
		b.Run(name, func(b *testing.B) {
			for i := 0; i < b.N; i++ {
				s, err := Open(context.Background(), f, Options{})
				if err != nil {
					b.Fatal(err)
				}
				if _, err := s.Run(context.Background(), benchInputs(s, 1, 77, imageSize(f))); err != nil {
					b.Fatal(err)
				}
				s.Close()
			}
		})
	}
}
