package clip

import (
	"context"
	"errors"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/clip-go/clip/internal/testmodels"
)

func loadNLLB(t *testing.T, dir, lang string) *Model {
	t.Helper()
	files, err := FilesInDir(dir, "")
	if err != nil {
		t.Fatal(err)
	}
	m, err := Load(context.Background(), files, Options{Threads: 1, Language: lang})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { m.Close() })
	return m
}

// The tiny NLLB-CLIP-SigLIP fixture in immich's layout
// (scripts/fixtures/make_tiny_nllb.py): the family is read from its files;
// with --language each text becomes immich's "{code}{text}", whose ids are
// transformers.js's on the same tokenizer.json (eng_Latn from the
// post-processor, the code, the pieces, </s>) for labels in Latin,
// Cyrillic and CJK scripts; the text embeddings are onnxruntime's.
func TestNLLBTextTowerMatchesReference(t *testing.T) {
	dir, g := testmodels.TinyNLLB(t)
	n := 0
	for lang, ref := range g.Languages {
		m := loadNLLB(t, dir, ref.Code)
		if m.Family() != FamilyNLLB || m.TextPadLength() != 77 || m.Language() != ref.Code ||
			!slices.Equal(m.DefaultTemplates(), []string{"{}"}) {
			t.Fatalf("family %q, pad %d, language %q, templates %q; want nllb-siglip, 77, %s, [{}]",
				m.Family(), m.TextPadLength(), m.Language(), m.DefaultTemplates(), ref.Code)
		}
		s := m.Scoring()
		if !s.Sigmoid || s.Missing != "" || math.Abs(s.LogitScale-math.Exp(g.LogitScale)) > 1e-12 || s.LogitBias != g.LogitBias {
			t.Errorf("scoring %+v, want sigmoid with exp(%g) and %g from config.json", s, g.LogitScale, g.LogitBias)
		}
		for i, label := range ref.Labels {
			if ids := m.Tokenizer.Encode(m.language.apply(label)); !slices.Equal(ids, ref.IDs[i]) {
				t.Errorf("%s %q: ids %v, transformers.js %v", lang, label, ids, ref.IDs[i])
			}
		}
		n += checkTextEmbeddings(t, m, lang, ref.Labels, ref.TextEmbeddings)
	}
	if n < 100 {
		t.Errorf("checked %d texts, want the golden's 5 languages × 24 labels", n)
	}
}

// With --language auto (the default) each text's code comes from its
// script: the Russian, Chinese and Japanese labels get the codes the
// golden wrote explicitly, and the same embeddings.
func TestNLLBAutoLanguageFromScript(t *testing.T) {
	dir, g := testmodels.TinyNLLB(t)
	m := loadNLLB(t, dir, "")
	if m.Language() != LanguageAuto {
		t.Fatalf("language %q, want auto", m.Language())
	}
	for _, lang := range []string{"en", "ru", "zh", "ja"} {
		ref := g.Languages[lang]
		for i, label := range ref.Labels {
			if ids := m.Tokenizer.Encode(m.language.apply(label)); !slices.Equal(ids, ref.IDs[i]) {
				t.Errorf("auto, %s %q: ids %v, want %v (code %s)", lang, label, ids, ref.IDs[i], ref.Code)
			}
		}
	}
	for _, c := range []struct{ text, want string }{
		{"赤い円", "jpn_Hira"}, {"红色圆形", "zho_Hans"}, {"十字", "zho_Hans"}, {"オレンジ", "jpn_Hira"},
		{"고양이", "kor_Hang"}, {"кошка", "rus_Cyrl"}, {"γάτα", "ell_Grek"}, {"قطة", "arb_Arab"},
		{"חתול", "heb_Hebr"}, {"แมว", "tha_Thai"}, {"बिल्ली", "hin_Deva"}, {"Katze", "eng_Latn"},
		{"123 !", "eng_Latn"}, {"a cat, кошка", "rus_Cyrl"},
	} {
		if got := scriptLanguage(c.text); got != c.want {
			t.Errorf("scriptLanguage(%q) = %s, want %s", c.text, got, c.want)
		}
	}
}

// Texts are cleaned as immich cleans them (" ".join(text.split())) before
// the code goes in front: runs of whitespace, including U+001F and
// ideographic spaces, become one space and the ends are trimmed.
func TestNLLBCleansWhitespaceLikeImmich(t *testing.T) {
	dir, _ := testmodels.TinyNLLB(t)
	m := loadNLLB(t, dir, "ru")
	none := loadNLLB(t, dir, "none")
	for _, text := range []string{"  красный \t круг ", "красный\u3000\u3000круг", "красный\x1fкруг\n"} {
		if got := m.language.apply(text); got != "rus_Cyrlкрасный круг" {
			t.Errorf("apply(%q) = %q, want %q", text, got, "rus_Cyrlкрасный круг")
		}
		// --language none: immich's request without a language.
		if got := none.language.apply(text); got != "красный круг" {
			t.Errorf("none: apply(%q) = %q, want %q", text, got, "красный круг")
		}
	}
}

func TestParseLanguage(t *testing.T) {
	for in, want := range map[string]string{
		"": "auto", "auto": "auto", "de": "deu_Latn", "pt-BR": "por_Latn", "pt_BR": "por_Latn", "de-AT": "deu_Latn",
		"zh-TW": "zho_Hant", "zh-CN": "zho_Hans", "zh": "zho_Hans", "ja": "jpn_Hira", "deu_Latn": "deu_Latn", "yue_Hant": "yue_Hant",
		"xx": "", "german": "", "DEU_LATN": "", "none": "none",
	} {
		got, err := ParseLanguage(in)
		if (err != nil) != (want == "") || err == nil && got != want {
			t.Errorf("ParseLanguage(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
	// A well-formed code the tokenizer lacks is an error naming the tokenizer.
	dir, _ := testmodels.TinyNLLB(t)
	files, _ := FilesInDir(dir, "")
	if _, err := Load(context.Background(), files, Options{Threads: 1, Language: "yue_Hant"}); err == nil ||
		!strings.Contains(err.Error(), "tokenizer.json") || !strings.Contains(err.Error(), "yue_Hant") {
		t.Errorf("language missing from the tokenizer: %v", err)
	}
}

// immich's own files carry no trained logit_scale and logit_bias: the model
// loads and embeds, and only zero-shot probabilities fail, with one error
// naming config.json, rather than a guessed bias.
func TestNLLBWithoutLogitsEmbedsButDoesNotScore(t *testing.T) {
	src, g := testmodels.TinyNLLB(t)
	dir := testmodels.CopyModel(t, src, testmodels.ImmichFiles...)
	// open_clip's config as immich saves it: init_logit_bias is where
	// training started, not a trained value.
	cfg := `{"embed_dim": 32, "custom_text": true, "init_logit_bias": -10, "vision_cfg": {"image_size": 32},
		"text_cfg": {"hf_pooler_type": "cls_pooler", "hf_proj_type": "linear"}}`
	if err := os.WriteFile(filepath.Join(dir, "config.json"), []byte(cfg), 0o644); err != nil {
		t.Fatal(err)
	}
	m := loadNLLB(t, dir, "ru")
	if m.Family() != FamilyNLLB || !strings.Contains(m.Scoring().Missing, "config.json") {
		t.Fatalf("family %s, scoring %+v; want nllb-siglip with the missing values explained", m.Family(), m.Scoring())
	}
	ref := g.Languages["ru"]
	embs, err := m.EncodeTexts(context.Background(), ref.Labels[:2])
	if err != nil {
		t.Fatal(err)
	}
	want := Normalize(append([]float32(nil), ref.TextEmbeddings[0]...))
	if d := math.Abs(float64(embs[0][0] - want[0])); d > 1e-5 {
		t.Errorf("embedding[0] = %g, onnxruntime %g", embs[0][0], want[0])
	}
	_, err = NewZeroShot(context.Background(), m, []Label{{Name: ref.Labels[0]}}, m.DefaultTemplates(), m.Scoring())
	var me *ModelError
	if !errors.As(err, &me) || !strings.Contains(err.Error(), "logit_bias") {
		t.Errorf("zero-shot without the trained values: %v, want a ModelError naming logit_bias", err)
	}
}
