package clip

import (
	"context"
	"errors"
	"fmt"
	"math"
	"sort"
)

// Label is one class of a zero-shot classifier. With Prompts empty, the
// classifier's templates are filled with Name; otherwise Prompts are used
// as they are (a labels file mapping a label to its own descriptions).
type Label struct {
	Name    string
	Prompts []string
}

// TextEncoder embeds prompts; embeddings come back L2-normalised.
type TextEncoder interface {
	EncodeTexts(ctx context.Context, texts []string) ([][]float32, error)
}

// Score is one label's result for one image.
type Score struct {
	Label       string  `json:"label"`
	Probability float64 `json:"probability"`
	// Similarity is the raw cosine similarity of the image and label embeddings.
	Similarity float64 `json:"similarity"`
}

// ZeroShot ranks labels for image embeddings: each label's embedding is the
// renormalised mean of its normalised prompt embeddings (CLIP's prompt
// ensembling), and probabilities are softmax(logitScale × cosine) over the
// labels, or for sigmoid scoring each label's own
// sigmoid(logitScale × cosine + logitBias).
type ZeroShot struct {
	labels  []string
	classes [][]float32
	scoring Scoring
}

// Prompts expands labels with templates into the prompt list of each label.
func Prompts(labels []Label, templates []string) ([][]string, error) {
	if len(labels) == 0 {
		return nil, errors.New("no labels")
	}
	if len(templates) == 0 {
		templates = []string{DefaultTemplate}
	}
	seen := make(map[string]bool, len(labels))
	out := make([][]string, len(labels))
	for i, l := range labels {
		if l.Name == "" {
			return nil, fmt.Errorf("label %d is empty", i+1)
		}
		if seen[l.Name] {
			return nil, fmt.Errorf("label %q is given twice", l.Name)
		}
		seen[l.Name] = true
		if len(l.Prompts) > 0 {
			out[i] = append([]string(nil), l.Prompts...)
			continue
		}
		for _, t := range templates {
			out[i] = append(out[i], FillTemplate(t, l.Name))
		}
	}
	return out, nil
}

// NewZeroShot embeds every prompt of every label once and builds the classifier.
func NewZeroShot(ctx context.Context, enc TextEncoder, labels []Label, templates []string, scoring Scoring) (*ZeroShot, error) {
	if scoring.Missing != "" {
		return nil, &ModelError{Err: errors.New(scoring.Missing)}
	}
	prompts, err := Prompts(labels, templates)
	if err != nil {
		return nil, err
	}
	// Encode each distinct prompt once, in one call, so the encoder can batch.
	index := map[string]int{}
	var unique []string
	for _, ps := range prompts {
		for _, p := range ps {
			if _, ok := index[p]; !ok {
				index[p] = len(unique)
				unique = append(unique, p)
			}
		}
	}
	embs, err := enc.EncodeTexts(ctx, unique)
	if err != nil {
		return nil, err
	}
	if len(embs) != len(unique) {
		return nil, fmt.Errorf("text encoder returned %d embeddings for %d prompts", len(embs), len(unique))
	}
	z := &ZeroShot{scoring: scoring}
	for i, ps := range prompts {
		dim := len(embs[index[ps[0]]])
		mean := make([]float64, dim)
		for _, p := range ps {
			e := embs[index[p]]
			if len(e) != dim {
				return nil, fmt.Errorf("prompt %q: embedding has %d dimensions, want %d", p, len(e), dim)
			}
			for j, v := range e {
				mean[j] += float64(v)
			}
		}
		z.labels = append(z.labels, labels[i].Name)
		z.classes = append(z.classes, normalize64(mean))
	}
	return z, nil
}

// Labels returns the label names in the order they were given.
func (z *ZeroShot) Labels() []string { return append([]string(nil), z.labels...) }

// Dim is the embedding size the classifier expects.
func (z *ZeroShot) Dim() int { return len(z.classes[0]) }

// Classify scores one normalised image embedding against every label,
// best first (ties keep the labels' order).
func (z *ZeroShot) Classify(image []float32) ([]Score, error) {
	if len(image) != z.Dim() {
		return nil, fmt.Errorf("image embedding has %d dimensions, the labels have %d", len(image), z.Dim())
	}
	scores := make([]Score, len(z.classes))
	for i, c := range z.classes {
		var dot float64
		for j, v := range c {
			dot += float64(v) * float64(image[j])
		}
		scores[i] = Score{Label: z.labels[i], Similarity: dot}
	}
	if z.scoring.Sigmoid {
		for i := range scores {
			scores[i].Probability = sigmoid(z.scoring.LogitScale*scores[i].Similarity + z.scoring.LogitBias)
		}
	} else {
		softmaxInto(scores, z.scoring.LogitScale)
	}
	sort.SliceStable(scores, func(a, b int) bool { return scores[a].Probability > scores[b].Probability })
	return scores, nil
}

// softmaxInto sets each score's probability to softmax(scale × similarity)
// over all scores.
func softmaxInto(scores []Score, scale float64) {
	maxLogit := math.Inf(-1)
	for _, s := range scores {
		maxLogit = math.Max(maxLogit, scale*s.Similarity)
	}
	var sum float64
	for i := range scores {
		scores[i].Probability = math.Exp(scale*scores[i].Similarity - maxLogit)
		sum += scores[i].Probability
	}
	for i := range scores {
		scores[i].Probability /= sum
	}
}

// sigmoid is 1/(1+e^-x), without overflow for large |x|.
func sigmoid(x float64) float64 {
	if x >= 0 {
		return 1 / (1 + math.Exp(-x))
	}
	e := math.Exp(x)
	return e / (1 + e)
}

// Normalize scales v to unit L2 norm in place and returns it; a zero
// vector stays zero.
func Normalize(v []float32) []float32 {
	var ss float64
	for _, x := range v {
		ss += float64(x) * float64(x)
	}
	if ss == 0 {
		return v
	}
	inv := 1 / math.Sqrt(ss)
	for i, x := range v {
		v[i] = float32(float64(x) * inv)
	}
	return v
}

func normalize64(v []float64) []float32 {
	var ss float64
	for _, x := range v {
		ss += x * x
	}
	out := make([]float32, len(v))
	if ss == 0 {
		return out
	}
	inv := 1 / math.Sqrt(ss)
	for i, x := range v {
		out[i] = float32(x * inv)
	}
	return out
}
