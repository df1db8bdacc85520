// Package modelload turns the --model flag into a loaded CLIP model: it
// resolves the name through the model store (downloading on first use
// unless offline), opens the encoders, and adds what commands need around
// them (image decoding with the user's limits, a cache key, provenance).
package modelload

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/clip-go/clip/pkg/cli/cmdutil"
	"github.com/clip-go/clip/pkg/clip"
	"github.com/clip-go/clip/pkg/hub"
	"github.com/clip-go/clip/pkg/imageproc"
)

// ExactDecodeUsage is the help of every command's --exact-decode flag.
const ExactDecodeUsage = "decode JPEGs at full size, bit-exact with Pillow + CLIPImageProcessor (default: a large JPEG is decoded at 1/2, 1/4 or 1/8 scale in the DCT domain first, as Pillow's Image.draft does; ~4x faster on photos)"

// LanguageUsage is the help of every command's --language flag.
const LanguageUsage = "the texts' language, for models whose text tower takes one (immich's nllb-clip-*-siglip; others ignore it): auto (from each text's script: kana jpn_Hira, Han zho_Hans, Hangul kor_Hang, Cyrillic rus_Cyrl, Greek, Arabic, Hebrew, Thai, Devanagari…; Latin and the rest eng_Latn), none (no code, as immich without a language), a FLORES-200 code (deu_Latn) or a language code (de, ru, pt-BR, zh-TW)"

// DefaultModel is used when --model is not given.
const DefaultModel = "clip-vit-base-patch32"

// Options tune Open.
type Options struct {
	Variant string // fp32 (default), fp16, quantized
	Decode  imageproc.DecodeOptions
	Crop    *imageproc.CropRounding // override the model's crop rounding
	// ExactDecode decodes JPEGs at full size (bit-exact with Pillow +
	// CLIPImageProcessor); by default a large JPEG is decoded at 1/2, 1/4
	// or 1/8 in the DCT domain first, as Pillow's Image.draft does.
	ExactDecode bool
	// Language is --language: "auto" (or "") or a code ParseLanguage takes.
	Language string
}

// CheckLanguage is --language's usage error (exit 2), nil when the value
// is one clip.ParseLanguage takes.
func CheckLanguage(lang string) error {
	if _, err := clip.ParseLanguage(lang); err != nil {
		return cmdutil.UsageErrorf("--language: %v", err)
	}
	return nil
}

// Model is a loaded CLIP model with what clip's commands need around it.
type Model struct {
	*clip.Model
	Local  *hub.LocalModel
	Store  *hub.Store
	decode imageproc.DecodeOptions
}

// NewStore returns the model store configured from the factory: cache root
// and endpoint from the environment, --offline/HF_HUB_OFFLINE (or offline
// when cacheOnly, for verbs that must only look at the cache), progress bars
// when stderr is a terminal and --quiet is not set, notes (retries, lock
// waits) on stderr unless --quiet.
func NewStore(f *cmdutil.Factory, cacheOnly bool) (*hub.Store, error) {
	ios := f.IOStreams
	opts := hub.StoreOptions{
		Offline:   f.Offline(),
		CacheOnly: cacheOnly,
		Getenv:    f.Getenv,
		UserAgent: "clip/" + f.Version,
	}
	if !f.Globals.Quiet {
		opts.Logf = func(format string, args ...any) { fmt.Fprintf(ios.ErrOut, "clip: "+format+"\n", args...) }
		if ios.ProgressEnabled() {
			opts.Progress = hub.TerminalProgress(ios.ErrOut)
		}
	}
	return hub.NewStore(opts)
}

// Resolve finds ref (a catalogue name, repo id or directory; "" is
// DefaultModel) on disk, downloading it first when allowed.
func Resolve(ctx context.Context, f *cmdutil.Factory, ref string, variant hub.Variant) (*hub.LocalModel, error) {
	return ResolvePart(ctx, f, ref, variant, hub.AllFiles)
}

// ResolvePart is Resolve for the files one command needs (the tokenizer's,
// the preprocessing config): only those are downloaded.
func ResolvePart(ctx context.Context, f *cmdutil.Factory, ref string, variant hub.Variant, part hub.Part) (*hub.LocalModel, error) {
	if ref == "" {
		ref = DefaultModel
	}
	local, _, err := resolveAnnounced(ctx, f, ref, variant, part)
	return local, err
}

// resolveAnnounced resolves ref, first looking in the cache alone so that a
// download on first use is announced on stderr before it starts.
func resolveAnnounced(ctx context.Context, f *cmdutil.Factory, ref string, variant hub.Variant, part hub.Part) (*hub.LocalModel, *hub.Store, error) {
	store, err := NewStore(f, false)
	if err != nil {
		return nil, nil, err
	}
	if !store.Offline() && !f.Globals.Quiet {
		probe, err := hub.NewStore(hub.StoreOptions{Offline: true, Getenv: f.Getenv})
		if err == nil {
			if local, err := probe.ResolvePart(ctx, ref, variant, part); err == nil {
				return local, store, nil
			} else if nie := (*hub.NotInstalledError)(nil); errors.As(err, &nie) {
				what, files := string(variant), "it"
				switch part {
				case hub.TokenizerFiles:
					files = "its tokenizer files"
				case hub.PreprocessorFiles:
					files = "its preprocessing config"
				default:
					if n := hub.DownloadSize(ref, variant); n > 0 {
						what += fmt.Sprintf(", about %d MB", (n+500_000)/1_000_000)
					}
				}
				fmt.Fprintf(f.IOStreams.ErrOut, "clip: model %s (%s) is not in the cache %s yet: downloading %s from %s (once; later runs work offline)\n",
					ref, what, store.Root(), files, store.Endpoint())
			}
		}
	}
	local, err := store.ResolvePart(ctx, ref, variant, part)
	return local, store, err
}

// Open resolves f.Globals.Model (or DefaultModel) and loads it.
func Open(ctx context.Context, f *cmdutil.Factory, opt Options) (*Model, error) {
	variant, err := hub.ParseVariant(opt.Variant)
	if err != nil {
		return nil, cmdutil.UsageErrorf("--variant: %v", err)
	}
	if err := CheckLanguage(opt.Language); err != nil {
		return nil, err
	}
	ref := f.Globals.Model
	if ref == "" {
		ref = DefaultModel
	}
	local, store, err := resolveAnnounced(ctx, f, ref, variant, hub.AllFiles)
	if err != nil {
		return nil, err
	}
	cm, err := clip.Load(ctx, clip.FilesFor(local), clip.Options{Threads: f.Threads(), Language: opt.Language})
	if err != nil {
		return nil, err
	}
	if opt.Crop != nil {
		cm.Preprocess.CropRounding = *opt.Crop
	}
	decode := opt.Decode
	if !opt.ExactDecode {
		decode.DraftSize = cm.Preprocess.DraftSize()
	}
	if decode.HEIF == nil {
		decode.HEIF = imageproc.NewHEIFDecoders(WasmCacheDir(store))
	}
	return &Model{Model: cm, Local: local, Store: store, decode: decode}, nil
}

// TokenizerDir is the directory holding a model's tokenizer files.
func TokenizerDir(l *hub.LocalModel) string { return clip.FilesFor(l).TokenizerDir }

// PrepareImage decodes an image file's bytes and writes the model's input
// tensor into dst. Errors name the file.
func (m *Model) PrepareImage(data []byte, name string, dst []float32) error {
	img, err := imageproc.DecodeBytes(data, m.decode)
	if err != nil {
		return err
	}
	return m.Preprocess.Preprocess(img, dst)
}

// CacheKey identifies the text side of the model (text graph and
// tokenizer) for the text-embedding cache: by recorded sha256 when the
// store knows it, else by path, size and modification time.
func (m *Model) CacheKey() string {
	h := sha256.New()
	want := map[string]bool{}
	for _, p := range []string{m.Files.Text, m.Files.Combined, m.Local.TokenizerPath, m.Local.VocabPath, m.Local.MergesPath} {
		if p != "" {
			want[filepath.Clean(p)] = true
		}
	}
	for _, fi := range m.Local.Files {
		p := filepath.Clean(filepath.Join(m.Local.Dir, filepath.FromSlash(fi.Path)))
		if !want[p] {
			continue
		}
		if fi.SHA256 != "" {
			fmt.Fprintf(h, "%s sha256 %s\n", fi.Path, fi.SHA256)
		} else if st, err := os.Stat(p); err == nil {
			abs, _ := filepath.Abs(p)
			fmt.Fprintf(h, "%s %d %d\n", abs, st.Size(), st.ModTime().UnixNano())
		}
	}
	fmt.Fprintf(h, "variant %s\n", m.Local.Variant)
	// The same files embed texts differently padded in another family;
	// CLIP's keys stay as they were so existing caches remain valid.
	if f := m.Family(); f != clip.FamilyCLIP {
		fmt.Fprintf(h, "family %s pad %d\n", f, m.TextPadLength())
	}
	if lang := m.Language(); lang != "" {
		fmt.Fprintf(h, "language %s\n", lang) // the code goes in front of every text
	}
	return hex.EncodeToString(h.Sum(nil))[:32]
}

// TextCacheDir is where prompt embeddings persist, inside the store's root.
func (m *Model) TextCacheDir() string { return TextCacheDir(m.Store) }

// TextCacheDir is the text-embedding cache directory of a model store.
func TextCacheDir(s *hub.Store) string { return filepath.Join(s.Root(), "text-cache") }

// WasmCacheDir is where a model store keeps the compiled HEIF/AVIF
// decoders, so that only the first process to meet a HEIC compiles them.
func WasmCacheDir(s *hub.Store) string { return filepath.Join(s.Root(), "wasm-cache") }

// Provenance describes the model for summaries: id, revision, every file
// with its sha256 (hashing local files once), and the preprocessing.
func (m *Model) Provenance(ctx context.Context) (any, error) {
	if err := m.Store.LocalSHA256(ctx, m.Local); err != nil {
		return nil, err
	}
	p := map[string]any{
		"id":          m.Local.ID,
		"name":        m.Local.Name,
		"revision":    m.Local.Revision,
		"commit":      m.Local.Commit,
		"variant":     m.Local.Variant,
		"dir":         m.Local.Dir,
		"files":       m.Local.Files,
		"family":      m.Family(),
		"scoring":     m.Scoring(),
		"logit_scale": m.LogitScale(),
		"preprocess":  m.Preprocess,
		"decode":      m.DecodeMode(),
		"tokenizer":   m.Tokenizer.Source(),
	}
	if lang := m.Language(); lang != "" {
		p["language"] = lang // the code put before every text (NLLB)
	}
	return p, nil
}

// DecodeMode says how JPEGs are decoded, for provenance: "exact" (every
// pixel, as plain Pillow) or "reduced" (Pillow's draft: 1/2, 1/4 or 1/8 in
// the DCT domain when the image is at least twice the resize target).
func (m *Model) DecodeMode() string {
	if m.decode.DraftSize > 0 {
		return "reduced"
	}
	return "exact"
}

// Describe is a one-line description for messages.
func (m *Model) Describe() string {
	parts := []string{m.Local.ID}
	if m.Local.Revision != "" {
		parts = append(parts, "@"+m.Local.Revision)
	}
	return strings.Join(parts, "") + " (" + string(m.Local.Variant) + ")"
}

var _ io.Closer = (*Model)(nil)
