#!/usr/bin/python3
"""Generate the tokenizer test corpus: testdata/golden/tokenizer/corpus.json.

A deterministic (seeded) list of strings that exercise every stage of
CLIP's tokenizer: ASCII prompts, accents (precomposed and decomposed, so
NFC matters), CJK, kana, Hangul (and its conjoining jamo), emoji with skin
tones, flags, keycaps and ZWJ sequences, right-to-left scripts, stacked
combining marks, digits of many scripts and number forms, punctuation
runs, apostrophes and contractions, HTML entities, 1,000-word texts, the
empty string, every kind of odd whitespace, case-mapping corners (final
sigma, dotted capital I, Kelvin sign), the special tokens written in the
text, long words that defeat caches, and random strings of assigned code
points.

Only characters assigned in Python's Unicode database (14.0 for Debian's
Python 3.11) are drawn at random, so Go's tables (Unicode 15.0) and
Node's ICU (newer) agree on every character's properties.

Usage: scripts/tokenizer_corpus.py [--out testdata/golden/tokenizer/corpus.json]
"""

import argparse
import json
import os
import random
import sys
import unicodedata

SEED = 20261128

LABELS = ["tiger", "dog", "cat", "diagram", "photo", "car", "airplane", "bird", "red square",
          "blue circle", "green triangle", "a person riding a horse", "sunset over the sea",
          "Golden Retriever", "New York City", "St. Bernard", "T-shirt", "jack-o'-lantern",
          "hot dog", "traffic light", "école", "naïve café", "São Paulo", "Zürich", "Ægir"]

TEMPLATES = ["a photo of a {}.", "This is a photo of {}", "a blurry photo of the {}.",
             "itap of a {}.", "a sculpture of the {}.", "A DRAWING OF A {}!", "a {}",
             "{}", "a photo of my {}, taken in 2024", "the {}'s shadow", "art of the {}?"]

WORDS = ("the of and to in is was for on that with as by at from it an be this are which or "
         "have has had not but were all their been one there when who will more no if out so "
         "what up about into than them can only other new some could time these two may then "
         "do first any my now such like our over man me even most made after also did many "
         "before must through back years where much your way well down should because each "
         "just those people how too little state good very make world still own see men work "
         "long get here between both life being under never day same another know while last "
         "might us great old year off come since against go came right used take three tiger "
         "photograph diagram zebra giraffe elephant kangaroo xylophone quantum bureaucracy "
         "antidisestablishmentarianism pneumonoultramicroscopicsilicovolcanoconiosis").split()

PUNCT = list("!\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~") + ["…", "—", "–", "«", "»", "¿", "¡", "·",
                                                      "•", "§", "¶", "†", "‡", "‰", "′", "″",
                                                      "“", "”", "‘", "’", "‹", "›", "、", "。",
                                                      "「", "」", "【", "】", "〜", "・", "©",
                                                      "®", "™", "°", "±", "×", "÷", "€", "£",
                                                      "¥", "¢", "¤"]

WHITESPACE = [" ", "\t", "\n", "\r", "\r\n", "\v", "\f", "\u0085", "\u00a0", "\u1680",
              "\u2000", "\u2001", "\u2002", "\u2003", "\u2004", "\u2005", "\u2006", "\u2007",
              "\u2008", "\u2009", "\u200a", "\u2028", "\u2029", "\u202f", "\u205f", "\u3000",
              "\ufeff", "\u200b", "\u180e", "\u200c", "\u200d", "\u2060", "\x1c", "\x1f"]

ACCENTED = ["café", "naïve", "résumé", "jalapeño", "Ångström", "façade", "crème brûlée",
            "Œuvre", "Straße", "ŁÓDŹ", "Dvořák", "İstanbul", "ıi", "Ελληνικά", "Москва",
            "Ærøskøbing", "coöperate", "piñata", "Čeština", "Việt Nam", "Tiếng Việt"]

CJK = ["中文", "日本語のテキスト", "한국어 텍스트", "猫の写真", "一只老虎的照片", "東京タワー",
       "ｈｅｌｌｏ　ｗｏｒｌｄ", "ﾊﾝｶｸｶﾀｶﾅ", "漢字かなカナ", "𠀋𡈽𡌛", "㍿㌀", "々〆〤"]

RTL = ["مرحبا بالعالم", "שָׁלוֹם עוֹלָם", "صورة نمر", "עברית 123", "اردو زبان", "ܫܠܡܐ",
       "ދިވެހި", "مرحبا123abc", "\u202bembedded\u202c", "\u200fRLM\u200e"]

EMOJI = ["😀", "👍🏽", "🇫🇷", "🇺🇳", "1️⃣", "#️⃣", "👨‍👩‍👧‍👦", "🏳️‍🌈", "👩🏾‍💻", "🧑‍🚀",
         "❤️", "✈️", "☺", "🐯", "🐅", "📷", "🤷‍♀️", "🏴󠁧󠁢󠁳󠁣󠁴󠁿", "👁‍🗨", "🫠", "🥲"]

NUMBERS = ["2024", "3.14159", "1,000,000", "٢٠٢٤", "१२३", "๑๒๓", "１２３", "²³¹", "½¼¾",
           "ⅫⅣⅷ", "①②③", "𝟙𝟚𝟛", "0x1F", "1e-10", "−42", "৫০", "〇一二三", "𐄇𐄈"]

CASE_CORNERS = ["ΟΔΥΣΣΕΥΣ", "ΣΑΣ.", "Σ", "ΑΣ", "ΑΣ΄Β", "Α.Σ.", "ΑΣ'", "σΣσ", "İ", "İİ", "Iı",
                "KELVIN", "\u212a", "\u2126", "ǅ ǈ ǋ", "ẞ", "ﬁ ﬂ ﬀ", "ᾈ", "Ⓐⓑ", "𐐀𐐨", "ꭰ",
                "ΆΈΉ", "ÅÉÎ", "MAẞE", "ΣΑ\u0301Σ", "Σ\u0301", "ΑΣ\u0301", "aΣ\u200db"]

SPECIAL = ["<|startoftext|>", "<|endoftext|>", "<|STARTOFTEXT|>", "<|EndOfText|>",
           "a <|endoftext|> b", "<|startoftext|>hello<|endoftext|>", "<|endof", "<|", "|>",
           "<|endoftext|><|endoftext|>", "x<|startoftext|>y", "<|startoftext|",
           "<| endoftext |>", "<|endoftext|>\u0301", "e<|endoftext|>\u0301"]

HTML = ["&amp;", "&lt;b&gt;bold&lt;/b&gt;", "Tom &amp; Jerry", "&#39;quoted&#39;", "&quot;hi&quot;",
        "&nbsp;&nbsp;", "&#x1F600;", "&copy; 2024", "<b>bold</b>", "<a href=\"x\">link</a>",
        "&amp;amp;", "AT&T", "&eacute;t&eacute;"]

APOSTROPHES = ["it's", "IT'S", "don't", "DON'T", "we're", "you've", "I'm", "we'll", "he'd",
               "it’s", "rock 'n' roll", "'s", "''s", "'''", "o'clock", "'tis", "ma'am",
               "y'all'd've", "'S'T'RE'VE'M'LL'D", "isn't", "'", "the dog's bone", "'twas",
               "`quoted'", "‘single’", "'x", "'é", "'1", "'s's's"]

COMBINING = ["e\u0301", "A\u030a", "n\u0303", "a\u0308\u0304", "Z\u0335\u0316\u0324a\u0336\u031cl",
             "g\u0336\u0321o\u0328\u0327", "\u0301", "\u0301\u0301x", "x\u20dd", "1\u20e3",
             "ק\u05b8", "क\u094d\u0937", "ก\u0e49\u0e33", "\u1100\u1161\u11a8",
             "\u1112\u1161\u11ab\u1100\u1173\u11af", "ᄀ", "각", "o\u0338", "\u00e9\u0301"]

ODD = ["", " ", "  ", "\t", "\n\n\n", " \u00a0 ", "\u3000", "\ufeff", "\ufefftext", "\u0085",
       "a\u0085b", "a\ufeffb", "a\u200bb", "\x00", "a\x00b", "\x07\x1b[31mred\x1b[0m", "\x7f",
       "tab\tseparated\tvalues", "line\nbreak", "crlf\r\nline", "  leading", "trailing  ",
       "multiple   spaces   here", "\u2028\u2029", "a\u180eb", "a\u1680b", "\ue000\uf8ff",
       "\U000f0000", "\ufffd", "a\u00adb", "soft\u00adhyphen"]


def assigned_pool():
    """Code points Python's Unicode database knows, minus surrogates and
    unassigned ones, grouped so random draws cover many kinds."""
    pool = []
    for cp in list(range(0x20, 0x3000)) + list(range(0x3000, 0xA000, 7)) + list(range(0xA000, 0x10000)) \
            + list(range(0x10000, 0x1FB00)) + list(range(0x20000, 0x2A6E0, 97)):
        ch = chr(cp)
        cat = unicodedata.category(ch)
        if cat in ("Cn", "Cs"):
            continue
        pool.append(ch)
    return pool


def long_words(rng):
    out = []
    for n in (49, 60, 100, 255, 256, 257, 300, 1000, 5000):
        out.append("".join(rng.choice("abcdefghijklmnopqrstuvwxyz") for _ in range(n)))
    out.append("a" * 300)
    out.append("ab" * 400)
    out.append("é" * 200)
    out.append("猫" * 120)
    out.append("!" * 500)
    out.append("😀" * 100)
    out.append("1" * 200)
    out.append("supercalifragilisticexpialidocious" * 8)
    return out


def paragraph(rng, n_words):
    words = []
    for i in range(n_words):
        w = rng.choice(WORDS)
        r = rng.random()
        if r < 0.08:
            w = w.capitalize()
        elif r < 0.10:
            w = w.upper()
        words.append(w)
        r = rng.random()
        if r < 0.07:
            words[-1] += rng.choice([",", ".", ";", ":", "!", "?", "'s", "...", ")"])
        elif r < 0.09:
            words.append(str(rng.randint(0, 100000)))
    return " ".join(words)


def random_mix(rng, pool, n):
    parts = []
    for _ in range(n):
        r = rng.random()
        if r < 0.35:
            parts.append(rng.choice(pool))
        elif r < 0.5:
            parts.append(rng.choice(WORDS))
        elif r < 0.6:
            parts.append(rng.choice(WHITESPACE))
        elif r < 0.7:
            parts.append(rng.choice(PUNCT))
        elif r < 0.75:
            parts.append(rng.choice(EMOJI))
        elif r < 0.8:
            parts.append(rng.choice(COMBINING))
        elif r < 0.85:
            parts.append(rng.choice(APOSTROPHES))
        elif r < 0.88:
            parts.append(rng.choice(SPECIAL))
        elif r < 0.92:
            parts.append(rng.choice(CASE_CORNERS))
        elif r < 0.96:
            parts.append(rng.choice(NUMBERS))
        else:
            parts.append(str(rng.randint(0, 10 ** rng.randint(1, 12))))
    return "".join(parts)


def corpus():
    rng = random.Random(SEED)
    pool = assigned_pool()
    texts = []
    texts += ["Hello World!", "a diagram", "This is a photo of tiger", "2024"]
    for t in TEMPLATES:
        for label in LABELS:
            texts.append(t.format(label))
    for group in (ACCENTED, CJK, RTL, EMOJI, NUMBERS, CASE_CORNERS, SPECIAL, HTML, APOSTROPHES,
                  COMBINING, ODD, PUNCT, WHITESPACE):
        texts += group
    # Every decomposed accent, so NFC composition is exercised.
    for w in ACCENTED:
        texts.append(unicodedata.normalize("NFD", w))
        texts.append(unicodedata.normalize("NFKD", w).upper())
    # Whitespace between words, one kind at a time and in runs.
    for ws in WHITESPACE:
        texts.append(f"a{ws}photo{ws}{ws}of{ws}a{ws}cat{ws}")
        texts.append(f"{ws}{ws}x{ws}")
    # Punctuation runs.
    for _ in range(60):
        texts.append("".join(rng.choice(PUNCT) for _ in range(rng.randint(1, 12))))
        texts.append("word" + "".join(rng.choice(PUNCT) for _ in range(rng.randint(1, 6))) + "word")
    texts += long_words(rng)
    # Texts of 1,000 words (and some shorter ones around the 77-token limit).
    for _ in range(12):
        texts.append(paragraph(rng, 1000))
    for n in (40, 60, 70, 73, 74, 75, 76, 77, 78, 80, 100, 200):
        texts.append(paragraph(rng, n))
    # Random single code points, then random mixes of everything.
    for _ in range(400):
        texts.append(rng.choice(pool))
    for _ in range(600):
        texts.append("".join(rng.choice(pool) for _ in range(rng.randint(2, 20))))
    for _ in range(900):
        texts.append(random_mix(rng, pool, rng.randint(1, 30)))
    return texts


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    p.add_argument("--out", default=os.path.join(root, "testdata", "golden", "tokenizer", "corpus.json"))
    a = p.parse_args(argv)
    texts = corpus()
    doc = {
        "generator": "scripts/tokenizer_corpus.py",
        "seed": SEED,
        "python": sys.version.split()[0],
        "unicode": unicodedata.unidata_version,
        "count": len(texts),
        "texts": texts,
    }
    os.makedirs(os.path.dirname(a.out), exist_ok=True)
    with open(a.out, "w", encoding="utf-8") as f:
        json.dump(doc, f, ensure_ascii=True, indent=0)
        f.write("\n")
    print(f"wrote {a.out}: {len(texts)} texts", file=sys.stderr)


if __name__ == "__main__":
    main()
