package clip

import (
	"fmt"
	"regexp"
	"strings"
	"unicode"

	"github.com/clip-go/clip/pkg/tokenizer"
)

// LanguageAuto picks each text's FLORES-200 code from its script (see
// Model.Language); it is the default. LanguageNone puts no code in front
// of the texts, as immich does for a request without a language.
const (
	LanguageAuto = "auto"
	LanguageNone = "none"
)

// weblateToFLORES maps the language codes immich's clients send (its
// translations' Weblate codes) to NLLB's FLORES-200 codes, as immich's
// machine learning service does for nllb models.
var weblateToFLORES = map[string]string{
	"af": "afr_Latn", "ar": "arb_Arab", "az": "azj_Latn", "be": "bel_Cyrl", "bg": "bul_Cyrl",
	"ca": "cat_Latn", "cs": "ces_Latn", "da": "dan_Latn", "de": "deu_Latn", "el": "ell_Grek",
	"en": "eng_Latn", "es": "spa_Latn", "et": "est_Latn", "fa": "pes_Arab", "fi": "fin_Latn",
	"fr": "fra_Latn", "he": "heb_Hebr", "hi": "hin_Deva", "hr": "hrv_Latn", "hu": "hun_Latn",
	"hy": "hye_Armn", "id": "ind_Latn", "it": "ita_Latn", "ja": "jpn_Hira", "kmr": "kmr_Latn",
	"ko": "kor_Hang", "lb": "ltz_Latn", "lt": "lit_Latn", "lv": "lav_Latn", "mfa": "zsm_Latn",
	"mk": "mkd_Cyrl", "mn": "khk_Cyrl", "mr": "mar_Deva", "ms": "zsm_Latn", "nb-NO": "nob_Latn",
	"nn": "nno_Latn", "nl": "nld_Latn", "pl": "pol_Latn", "pt-BR": "por_Latn", "pt": "por_Latn",
	"ro": "ron_Latn", "ru": "rus_Cyrl", "sk": "slk_Latn", "sl": "slv_Latn", "sr-Cyrl": "srp_Cyrl",
	"sv": "swe_Latn", "ta": "tam_Taml", "te": "tel_Telu", "th": "tha_Thai", "tr": "tur_Latn",
	"uk": "ukr_Cyrl", "ur": "urd_Arab", "vi": "vie_Latn", "zh-CN": "zho_Hans", "zh-Hans": "zho_Hans",
	"zh-TW": "zho_Hant",
	"zh":    "zho_Hans", // not immich's: a bare zh would otherwise be unknown
}

var floresCode = regexp.MustCompile(`^[a-z]{3}_[A-Z][a-z]{3}$`)

// ParseLanguage checks a --language value without a model: "auto", "none", a
// FLORES-200 code (deu_Latn) or a language code immich's clients send (de,
// pt-BR, zh-TW; a region it does not know falls back to the language, as
// immich does). It returns "auto", "none" or the FLORES-200 code.
func ParseLanguage(lang string) (string, error) {
	switch {
	case lang == "" || lang == LanguageAuto:
		return LanguageAuto, nil
	case lang == LanguageNone:
		return LanguageNone, nil
	case floresCode.MatchString(lang):
		return lang, nil
	}
	norm := strings.ReplaceAll(lang, "_", "-")
	if code, ok := weblateToFLORES[norm]; ok {
		return code, nil
	}
	base, _, _ := strings.Cut(norm, "-")
	if code, ok := weblateToFLORES[strings.ToLower(base)]; ok {
		return code, nil
	}
	return "", fmt.Errorf("unknown language %q (want auto, a FLORES-200 code such as deu_Latn, or a language code such as de, ru, zh-CN, pt-BR)", lang)
}

// languagePrefix is how an NLLB text tower learns the text's language:
// immich writes the FLORES-200 code in front of the text, with no space
// (f"{flores_code}{text}"), where the tokenizer matches it as a special
// token.
type languagePrefix struct {
	fixed string // the code for every text; "" with auto, LanguageNone for none
	codes map[string]bool
}

func newLanguagePrefix(tok *tokenizer.Tokenizer, lang string) (*languagePrefix, error) {
	code, err := ParseLanguage(lang)
	if err != nil {
		return nil, err
	}
	lp := &languagePrefix{codes: map[string]bool{}}
	for _, c := range weblateToFLORES {
		if _, ok := tok.ID(c); ok {
			lp.codes[c] = true
		}
	}
	switch code {
	case LanguageAuto:
	case LanguageNone:
		lp.fixed = LanguageNone
	default:
		if _, ok := tok.ID(code); !ok {
			return nil, fmt.Errorf("%s: language %s is not one of the tokenizer's language codes", tok.Source(), code)
		}
		lp.fixed = code
	}
	return lp, nil
}

// apply cleans text as immich does (whitespace runs become one space, the
// ends trimmed) and puts the language code in front.
func (lp *languagePrefix) apply(text string) string {
	text = strings.Join(strings.FieldsFunc(text, isPythonSpace), " ")
	code := lp.fixed
	if code == LanguageNone {
		return text
	}
	if code == "" {
		code = scriptLanguage(text)
		if !lp.codes[code] {
			code = "eng_Latn"
		}
	}
	return code + text
}

// isPythonSpace is Python's str.isspace, which immich's text.split() cuts
// at: Unicode's White_Space plus the information separators U+001C..U+001F.
func isPythonSpace(r rune) bool {
	return unicode.IsSpace(r) || r >= 0x1c && r <= 0x1f
}

// scriptLanguage guesses a text's FLORES-200 code from its letters'
// script, for the scripts that mostly belong to one language: kana
// anywhere is Japanese, Han without kana Simplified Chinese, Hangul
// Korean, Cyrillic Russian, Greek, Arabic, Hebrew, Thai, Devanagari
// (Hindi), Armenian, Tamil, Telugu; anything else (Latin, no letters) is
// English.
func scriptLanguage(text string) string {
	han := false
	for _, r := range text {
		switch {
		case unicode.Is(unicode.Hiragana, r) || unicode.Is(unicode.Katakana, r):
			return "jpn_Hira"
		case unicode.Is(unicode.Han, r):
			han = true
		}
	}
	if han {
		return "zho_Hans"
	}
	scripts := []struct {
		table *unicode.RangeTable
		code  string
	}{
		{unicode.Hangul, "kor_Hang"}, {unicode.Cyrillic, "rus_Cyrl"}, {unicode.Greek, "ell_Grek"},
		{unicode.Arabic, "arb_Arab"}, {unicode.Hebrew, "heb_Hebr"}, {unicode.Thai, "tha_Thai"},
		{unicode.Devanagari, "hin_Deva"}, {unicode.Armenian, "hye_Armn"}, {unicode.Tamil, "tam_Taml"},
		{unicode.Telugu, "tel_Telu"},
	}
	for _, r := range text {
		if !unicode.IsLetter(r) {
			continue
		}
		for _, s := range scripts {
			if unicode.Is(s.table, r) {
				return s.code
			}
		}
	}
	return "eng_Latn"
}

// isNLLBTokenizer: NLLB's tokenizer holds the FLORES-200 language codes as
// special tokens.
func isNLLBTokenizer(tok *tokenizer.Tokenizer) bool {
	_, ok := tok.ID("eng_Latn")
	return ok
}
