package clip

import (
	"context"
	"errors"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"

	"github.com/clip-go/clip/pkg/engine"
	"github.com/clip-go/clip/pkg/imageproc"
	"github.com/clip-go/clip/pkg/onnx"
	"github.com/clip-go/clip/pkg/tokenizer"
)

// Files names a model's parts. Vision and Text are the split exports;
// Combined is the single model.onnx used when a split file is missing and
// read for the trained logit scale.
type Files struct {
	Dir           string // model directory: tokenizer, preprocessing and config files
	Vision        string
	Text          string
	Combined      string
	TokenizerDir  string // defaults to Dir (immich keeps it under textual/)
	PreprocessDir string // defaults to Dir (immich keeps preprocess_cfg.json under visual/)
}

// FilesInDir finds the parts of a model directory in the Hugging Face
// layout (onnx/vision_model.onnx…) or immich's (visual/model.onnx…), for
// the variant suffix ("", "_fp16", "_quantized").
func FilesInDir(dir, suffix string) (Files, error) {
	f := Files{Dir: dir, TokenizerDir: dir, PreprocessDir: dir}
	exists := func(p string) string {
		if st, err := os.Stat(p); err == nil && !st.IsDir() {
			return p
		}
		return ""
	}
	f.Vision = exists(filepath.Join(dir, "onnx", "vision_model"+suffix+".onnx"))
	f.Text = exists(filepath.Join(dir, "onnx", "text_model"+suffix+".onnx"))
	f.Combined = exists(filepath.Join(dir, "onnx", "model"+suffix+".onnx"))
	if f.Vision == "" && f.Text == "" && f.Combined == "" && suffix == "" {
		f.Vision = exists(filepath.Join(dir, "visual", "model.onnx"))
		f.Text = exists(filepath.Join(dir, "textual", "model.onnx"))
		if exists(filepath.Join(dir, "textual", "tokenizer.json")) != "" {
			f.TokenizerDir = filepath.Join(dir, "textual")
		}
		if exists(filepath.Join(dir, "visual", "preprocess_cfg.json")) != "" {
			f.PreprocessDir = filepath.Join(dir, "visual")
		}
	}
	if (f.Vision == "" || f.Text == "") && f.Combined == "" {
		return f, fmt.Errorf("%s: no CLIP ONNX files (want onnx/vision_model%s.onnx and onnx/text_model%s.onnx, or onnx/model%s.onnx, or visual/model.onnx and textual/model.onnx)", dir, suffix, suffix, suffix)
	}
	return f, nil
}

// Options tune a Model.
type Options struct {
	Threads int
	// LogitScale overrides the model's; 0 means read it from the combined
	// export's logit_scale initializer (SigLIP: or config.json), else 100
	// (CLIP's trained value).
	LogitScale float64
	// TextBatch is how many prompts run in one text inference (default 32).
	TextBatch int
	// Language is the texts' language for the families whose text tower
	// takes one (NLLB: a FLORES-200 code in front of each text): "auto"
	// (or "") picks each text's code from its script, else a FLORES-200
	// code or a language code such as de (see ParseLanguage). Other
	// families ignore it.
	Language string
}

// Model is a CLIP model: image and text encoders giving L2-normalised
// embeddings in one space, its tokenizer and its preprocessing. Safe for
// concurrent use.
type Model struct {
	Files      Files
	Tokenizer  *tokenizer.Tokenizer
	Preprocess imageproc.Config

	family  Family
	scoring Scoring
	// padTo is the length every text is padded to (SigLIP pools the last
	// position); 0 pads each batch to its longest member.
	padTo        int
	language     *languagePrefix // NLLB only
	vision, text *encoder
	textBatch    int
	// closeCombined releases the combined export both towers' sessions
	// read, when they come from one.
	closeCombined func() error
}

// encoder is one ONNX session and the names of the tensors CLIP needs.
type encoder struct {
	sess     *engine.Session
	pixels   string        // vision/combined: pixel input
	ids      string        // text/combined: token-id input
	idsType  onnx.DataType // int64 or int32, as the graph declares
	mask     string        // optional attention_mask input
	imageOut string
	textOut  string
	// A graph exported without dynamic axes (immich's) takes one batch
	// size and one sequence length only: imageBatch and textBatch are the
	// batch sizes its pixel and id inputs declare, textLen the sequence
	// length, 0 where the axis is dynamic.
	imageBatch, textBatch, textLen int
}

// Load opens a model's encoders, tokenizer and preprocessing.
func Load(ctx context.Context, files Files, opt Options) (*Model, error) {
	m := &Model{Files: files, textBatch: opt.TextBatch}
	if m.textBatch <= 0 {
		m.textBatch = 32
	}
	if files.TokenizerDir == "" {
		files.TokenizerDir = files.Dir
	}
	if files.PreprocessDir == "" {
		files.PreprocessDir = files.Dir
	}
	var err error
	if m.Tokenizer, err = tokenizer.Load(files.TokenizerDir); err != nil {
		return nil, err
	}
	if m.Preprocess, err = imageproc.LoadConfig(files.PreprocessDir); err != nil {
		return nil, err
	}
	eopt := engine.Options{Threads: opt.Threads}
	var wg sync.WaitGroup
	var verr, terr, cerr error
	var vision, text *encoder
	open := func(path string, dst **encoder, errp *error) {
		defer wg.Done()
		*dst, *errp = openEncoder(ctx, path, eopt)
	}
	if files.Vision != "" {
		wg.Add(1)
		go open(files.Vision, &m.vision, &verr)
	}
	if files.Text != "" {
		wg.Add(1)
		go open(files.Text, &m.text, &terr)
	}
	if files.Combined != "" && (files.Vision == "" || files.Text == "") {
		wg.Add(1)
		go func() {
			defer wg.Done()
			vision, text, m.closeCombined, cerr = openTowers(ctx, files.Combined, files.Vision == "", files.Text == "", eopt)
		}()
	}
	wg.Wait()
	if vision != nil {
		m.vision = vision
	}
	if text != nil {
		m.text = text
	}
	if err := errors.Join(verr, terr, cerr); err != nil {
		m.Close()
		return nil, err
	}
	if m.vision == nil || m.text == nil {
		m.Close()
		return nil, fmt.Errorf("%s: no CLIP ONNX files for both image and text", files.Dir)
	}
	if m.vision.pixels == "" || m.vision.imageOut == "" {
		m.Close()
		return nil, fmt.Errorf("%s: no image input/output (want pixel_values → image_embeds)", m.fileOf(m.vision))
	}
	if m.text.ids == "" || m.text.textOut == "" {
		m.Close()
		return nil, fmt.Errorf("%s: no text input/output (want input_ids → text_embeds)", m.fileOf(m.text))
	}
	if m.family, err = detectFamily(files.Dir, m.Tokenizer, m.text); err != nil {
		m.Close()
		return nil, err
	}
	if err := m.setScoring(files, opt.LogitScale); err != nil {
		m.Close()
		return nil, err
	}
	if m.family == FamilyNLLB {
		if m.language, err = newLanguagePrefix(m.Tokenizer, opt.Language); err != nil {
			m.Close()
			return nil, err
		}
	}
	return m, nil
}

// setScoring reads how similarities become probabilities and how texts
// are padded, for the model's family.
func (m *Model) setScoring(files Files, logitScale float64) error {
	if m.family == FamilyNLLB {
		s, err := nllbScoring(files.Dir)
		if err != nil {
			return err
		}
		m.scoring = s
	} else if m.family == FamilySigLIP {
		s, err := sigmoidScoring(files)
		if err != nil {
			return err
		}
		m.scoring = s
		m.padTo = m.Tokenizer.PadLength()
		if m.padTo == 0 {
			m.padTo = m.Tokenizer.ContextLength() // transformers.js: padding "max_length"
		}
	} else {
		m.scoring = SoftmaxScoring(100)
		if files.Combined != "" {
			v, err := readScalars(files.Combined, "logit_scale")
			if err != nil {
				return err
			}
			if s, ok := v["logit_scale"]; ok {
				m.scoring.LogitScale = math.Exp(s)
			}
		}
	}
	if logitScale != 0 {
		m.scoring.LogitScale = logitScale
	}
	if m.text.textLen > 0 {
		// A graph without a dynamic sequence axis takes exactly its length:
		// immich pads and truncates every text to it.
		m.padTo = m.text.textLen
	}
	return nil
}

// readScalars reads trained scalar initializers (logit_scale, a log value;
// logit_bias) by name, or by a name ending in "."+name, from an export
// without running it.
func readScalars(path string, names ...string) (map[string]float64, error) {
	mdl, err := onnx.Load(path)
	if err != nil {
		return nil, err
	}
	defer mdl.Close()
	out := map[string]float64{}
	for _, t := range mdl.Graph.Initializers {
		for _, name := range names {
			if t.Name != name && !strings.HasSuffix(t.Name, "."+name) {
				continue
			}
			v, err := t.Float32s()
			if err != nil || len(v) != 1 {
				return nil, fmt.Errorf("%s: initializer %s is not a scalar float", path, t.Name)
			}
			out[name] = float64(v[0])
		}
	}
	return out, nil
}

func openEncoder(ctx context.Context, path string, opt engine.Options) (*encoder, error) {
	sess, err := engine.Open(ctx, path, opt)
	if err != nil {
		return nil, err
	}
	return newEncoder(path, sess)
}

// newEncoder finds the tensors CLIP needs among sess's inputs and outputs;
// it closes sess when they are unusable.
func newEncoder(path string, sess *engine.Session) (*encoder, error) {
	e := &encoder{sess: sess}
	for _, in := range sess.Inputs() {
		switch {
		case in.Name == "pixel_values" || (e.pixels == "" && in.ElemType == onnx.Float && len(in.Shape) == 4):
			e.pixels = in.Name
			e.imageBatch = staticDim(in, 0)
		case in.Name == "attention_mask":
			e.mask = in.Name
		case in.Name == "input_ids" || (e.ids == "" && (in.ElemType == onnx.Int64 || in.ElemType == onnx.Int32)):
			e.ids = in.Name
			e.idsType = in.ElemType
			e.textBatch, e.textLen = staticDim(in, 0), staticDim(in, 1)
		}
	}
	if e.ids != "" && e.idsType != onnx.Int64 && e.idsType != onnx.Int32 {
		sess.Close()
		return nil, fmt.Errorf("%s: input %s has type %d, want int64 or int32 token ids", path, e.ids, e.idsType)
	}
	outs := sess.Outputs()
	for _, o := range outs {
		switch o.Name {
		case "image_embeds":
			e.imageOut = o.Name
		case "text_embeds":
			e.textOut = o.Name
		}
	}
	// immich/open_clip exports name their single output "embedding";
	// transformers.js's SigLIP towers give last_hidden_state and
	// pooler_output (the pooled, projected embedding).
	if len(outs) > 0 {
		fallback := outs[0].Name
		for _, o := range outs {
			if o.Name == "embedding" || o.Name == "embeddings" || o.Name == "pooler_output" {
				fallback = o.Name
			}
		}
		if e.pixels != "" && e.imageOut == "" {
			e.imageOut = fallback
		}
		if e.ids != "" && e.textOut == "" {
			e.textOut = fallback
		}
	}
	return e, nil
}

// staticDim is the size the input declares for axis i, 0 when the axis is
// dynamic or unknown.
func staticDim(in *onnx.ValueInfo, i int) int {
	if i < len(in.Shape) && in.Shape[i].Param == "" && in.Shape[i].Value > 0 {
		return int(in.Shape[i].Value)
	}
	return 0
}

// Close releases the encoders.
func (m *Model) Close() error {
	var errs []error
	if m.vision != nil {
		errs = append(errs, m.vision.sess.Close())
	}
	if m.text != nil && m.text != m.vision {
		errs = append(errs, m.text.sess.Close())
	}
	if m.closeCombined != nil {
		errs = append(errs, m.closeCombined())
	}
	return errors.Join(errs...)
}

// LogitScale multiplies cosine similarities before the softmax (CLIP) or
// the sigmoid (SigLIP).
func (m *Model) LogitScale() float64 { return m.scoring.LogitScale }

// Scoring is how the model's similarities become probabilities.
func (m *Model) Scoring() Scoring { return m.scoring }

// Family is the model family, read from the model's own files.
func (m *Model) Family() Family { return m.family }

// Language is how texts are given their language: "" for families that
// take none, else "auto" or the FLORES-200 code put before every text.
func (m *Model) Language() string {
	switch {
	case m.language == nil:
		return ""
	case m.language.fixed == "":
		return LanguageAuto
	}
	return m.language.fixed
}

// TextPadLength is the length every prompt is padded to, 0 when batches
// pad to their longest prompt.
func (m *Model) TextPadLength() int { return m.padTo }

// DefaultTemplates is the prompt template used when none is given.
func (m *Model) DefaultTemplates() []string { return []string{m.family.DefaultTemplate()} }

// InputSize is the image size the vision encoder takes.
func (m *Model) InputSize() (h, w int) { return m.Preprocess.InputSize() }

// EncodeImages embeds n preprocessed images (float32 NCHW, n×3×H×W) and
// returns one L2-normalised embedding per image. A failure of the engine is
// a *ModelError naming the ONNX file.
func (m *Model) EncodeImages(ctx context.Context, pixels []float32, n int) ([][]float32, error) {
	h, w := m.InputSize()
	if n <= 0 || len(pixels) != n*3*h*w {
		return nil, fmt.Errorf("EncodeImages: %d values for %d images of 3×%d×%d", len(pixels), n, h, w)
	}
	fixed := m.vision.imageBatch
	if fixed == 0 || fixed == n {
		return m.encodeImageBatch(ctx, pixels, n)
	}
	// The graph takes batches of exactly `fixed` images: run chunks, the
	// last one filled up with copies of its first image.
	per := 3 * h * w
	out := make([][]float32, 0, n)
	for start := 0; start < n; start += fixed {
		k := min(fixed, n-start)
		chunk := pixels[start*per : (start+k)*per]
		if k < fixed {
			full := make([]float32, 0, fixed*per)
			full = append(full, chunk...)
			for j := k; j < fixed; j++ {
				full = append(full, chunk[:per]...)
			}
			chunk = full
		}
		rows, err := m.encodeImageBatch(ctx, chunk, fixed)
		if err != nil {
			return nil, err
		}
		out = append(out, rows[:k]...)
	}
	return out, nil
}

// PrepareImages does ahead the one-off work of the vision tower's first
// batch (see engine.Session.Prepare) for batches of n images, so that a
// caller can overlap it with other work (encoding the prompts, decoding
// the first images). EncodeImages works without it.
func (m *Model) PrepareImages(ctx context.Context, n int) error {
	if m.vision == m.text {
		return nil // one graph for both towers: it needs every input
	}
	if m.vision.imageBatch > 0 {
		n = m.vision.imageBatch
	}
	h, w := m.InputSize()
	return m.vision.sess.Prepare(ctx, map[string][]int{m.vision.pixels: {max(n, 1), 3, h, w}}, m.vision.imageOut)
}

func (m *Model) encodeImageBatch(ctx context.Context, pixels []float32, n int) ([][]float32, error) {
	h, w := m.InputSize()
	in := map[string]*engine.Tensor{m.vision.pixels: {DType: onnx.Float, Shape: []int{n, 3, h, w}, Float32: pixels}}
	out, err := m.vision.sess.Run(ctx, in, m.vision.imageOut)
	if err != nil {
		return nil, asModelError(m.fileOf(m.vision), err)
	}
	rows, err := splitRows(out[m.vision.imageOut], n, m.vision.imageOut)
	return rows, asModelError(m.fileOf(m.vision), err)
}

// EncodeTexts embeds texts (already prompts) and returns L2-normalised
// embeddings. CLIP texts run in batches padded to their longest member, not
// to the context length: the causal mask leaves the pooled EOT row
// unchanged. SigLIP's are padded to the tokenizer's fixed length, since its
// tower pools the last position.
func (m *Model) EncodeTexts(ctx context.Context, texts []string) ([][]float32, error) {
	out := make([][]float32, len(texts))
	// Sort by token count so each batch pads little.
	ids := make([][]int, len(texts))
	order := make([]int, len(texts))
	for i, t := range texts {
		if m.language != nil {
			t = m.language.apply(t)
		}
		ids[i] = m.Tokenizer.Encode(t)
		if l := m.text.textLen; l > 0 {
			ids[i] = m.Tokenizer.Truncate(ids[i], l)
		}
		order[i] = i
	}
	sort.SliceStable(order, func(a, b int) bool { return len(ids[order[a]]) < len(ids[order[b]]) })
	size := m.textBatch
	if m.text.textBatch > 0 {
		size = m.text.textBatch // the graph takes no other batch size
	}
	for start := 0; start < len(order); start += size {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		end := min(start+size, len(order))
		batch := make([][]int, 0, size)
		for _, i := range order[start:end] {
			batch = append(batch, ids[i])
		}
		for m.text.textBatch > 0 && len(batch) < m.text.textBatch {
			batch = append(batch, batch[0]) // filler rows, dropped below
		}
		in := map[string]*engine.Tensor{}
		addText(in, m.text, batch, m.Tokenizer.PadID(), m.padTo)
		res, err := m.text.sess.Run(ctx, in, m.text.textOut)
		if err != nil {
			return nil, asModelError(m.fileOf(m.text), err)
		}
		rows, err := splitRows(res[m.text.textOut], len(batch), m.text.textOut)
		if err != nil {
			return nil, asModelError(m.fileOf(m.text), err)
		}
		for j, i := range order[start:end] {
			out[i] = rows[j]
		}
	}
	return out, nil
}

// addText pads a batch of token ids to its longest member (at least padTo)
// with the tokenizer's pad id and adds ids (in the graph's dtype) and the
// mask.
func addText(in map[string]*engine.Tensor, e *encoder, batch [][]int, padID, padTo int) {
	n, l := len(batch), padTo
	for _, b := range batch {
		l = max(l, len(b))
	}
	ids := &engine.Tensor{DType: e.idsType, Shape: []int{n, l}}
	mask := &engine.Tensor{DType: onnx.Int64, Shape: []int{n, l}, Int64: make([]int64, n*l)}
	flat := make([]int64, n*l)
	for i, b := range batch {
		for j := 0; j < l; j++ {
			if j < len(b) {
				flat[i*l+j] = int64(b[j])
				mask.Int64[i*l+j] = 1
			} else {
				flat[i*l+j] = int64(padID)
			}
		}
	}
	if e.idsType == onnx.Int32 {
		ids.Int32 = make([]int32, len(flat))
		for i, v := range flat {
			ids.Int32[i] = int32(v)
		}
	} else {
		ids.DType = onnx.Int64
		ids.Int64 = flat
	}
	in[e.ids] = ids
	if e.mask != "" {
		in[e.mask] = mask
	}
}

func (m *Model) fileOf(e *encoder) string {
	switch {
	case e == m.vision && m.Files.Vision != "":
		return m.Files.Vision
	case e == m.text && m.Files.Text != "":
		return m.Files.Text
	}
	return m.Files.Combined
}

// splitRows checks a [n, dim] float output and returns its normalised rows.
func splitRows(t *engine.Tensor, n int, name string) ([][]float32, error) {
	if t == nil {
		return nil, fmt.Errorf("model produced no %s output", name)
	}
	if len(t.Shape) != 2 || t.Shape[0] != n || len(t.Float32) != n*t.Shape[1] {
		return nil, fmt.Errorf("output %s has shape %v, want [%d, dim] float", name, t.Shape, n)
	}
	dim := t.Shape[1]
	rows := make([][]float32, n)
	for i := range rows {
		rows[i] = Normalize(append([]float32(nil), t.Float32[i*dim:(i+1)*dim]...))
	}
	return rows, nil
}
