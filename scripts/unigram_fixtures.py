#!/usr/bin/python3
"""Train two small SentencePiece Unigram models and write them in the
Hugging Face tokenizer.json layout, with SentencePiece's own ids as goldens.

  scripts/unigram_fixtures.py [--work tmp/unigram] [--out pkg/tokenizer/testdata/unigram]

For each model (bytefallback: byte_fallback on; unk: off) the work
directory gets NAME/spm.model (the SentencePiece model), NAME/tokenizer.json
(converted here: Precompiled normalizer with the model's
normalizer_spec.precompiled_charsmap, Strip right + Replace " {2,}" → "▁" for
remove_extra_whitespaces, Metaspace pre-tokenizer, Unigram model with the
pieces' scores, TemplateProcessing appending "</s>", as transformers'
SpmConverter / T5 and SigLIP files have them), NAME/tokenizer_config.json
(model_max_length 64, pad "</s>", as SigLIP's). Committed to --out (small:
the charsmap alone is ~240 kB): NAME.tokenizer.json.gz, NAME.tokenizer_config.json
and ids-spm-NAME.json.gz:
SentencePiece's encode() of every text of testdata/golden/tokenizer/corpus.json
plus the eos id. scripts/reference/tokenize.mjs makes the transformers.js
goldens from the same directories (see scripts/unigram_golden.sh).

Special ids are SigLIP's / T5's: 0 <pad>, 1 </s>, 2 <unk>, no <s>.
The training text is generated (seeded): English paragraphs, accented
Latin, Cyrillic, Greek, CJK, kana, Hangul, emoji and odd whitespace; the
character coverage is below 1 so rare characters stay unknown, which
exercises the unknown / byte-fallback paths.
"""

import argparse
import base64
import gzip
import hashlib
import json
import os
import random
import sys
import tempfile

import sentencepiece as spm
from sentencepiece import sentencepiece_model_pb2 as spm_pb2

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import tokenizer_corpus as tc  # noqa: E402

SEED = 20261204
VOCAB = 2000

LINES = [
    "Привет, как дела? Это фотография кошки на крыше.",
    "Собака бежит по снегу, а кот спит на диване.",
    "Η γάτα κάθεται στο παράθυρο και κοιτάζει έξω.",
    "这是一张猫的照片。我们在公园里散步，天气很好。",
    "東京の夜景はとても綺麗です。ねこがすきです。",
    "고양이 사진입니다. 오늘 날씨가 좋네요.",
    "Ça coûte très cher à São Paulo, señor, ¿verdad? Größe über Straße.",
    "naïve café résumé façade déjà vu Ærøskøbing Øresund Łódź Dvořák",
    "emoji time 😀 🐱 🐶 👍🏽 🇫🇷 ❤️ 🎉 and more 😀😀",
    "full-width ＡＢＣ１２３ and ｶﾀｶﾅ and ① ② ③ and ﬁ ligatures ™ ½",
    "tabs\tand\u3000ideographic spaces\u00a0and no-break spaces",
]


def training_text(rng):
    pool = tc.assigned_pool()
    out = []
    for _ in range(400):
        out.append(tc.paragraph(rng, rng.randint(5, 60)))
    for _ in range(60):
        out += LINES
    for group in (tc.ACCENTED, tc.CJK, tc.EMOJI, tc.NUMBERS, tc.PUNCT):
        out += group * 5
    for _ in range(300):
        out.append(tc.random_mix(rng, pool, rng.randint(1, 20)))
    return [line.replace("\n", " ") for line in out if line.strip()]


def train(lines, prefix, byte_fallback):
    with tempfile.NamedTemporaryFile("w", encoding="utf-8", suffix=".txt", delete=False) as f:
        f.write("\n".join(lines) + "\n")
        path = f.name
    try:
        spm.SentencePieceTrainer.train(
            input=path, model_prefix=prefix, vocab_size=VOCAB, model_type="unigram",
            normalization_rule_name="nmt_nfkc", character_coverage=0.995,
            byte_fallback=byte_fallback, pad_id=0, eos_id=1, unk_id=2, bos_id=-1,
            pad_piece="<pad>", eos_piece="</s>", unk_piece="<unk>",
            seed_sentencepiece_size=50000, num_threads=1, minloglevel=2,
            shuffle_input_sentence=False)
    finally:
        os.unlink(path)


def to_tokenizer_json(model_path):
    m = spm_pb2.ModelProto()
    with open(model_path, "rb") as f:
        m.ParseFromString(f.read())
    ns = m.normalizer_spec
    vocab = [[p.piece, p.score] for p in m.pieces]
    unk_id = next(i for i, p in enumerate(m.pieces) if p.type == spm_pb2.ModelProto.SentencePiece.UNKNOWN)
    added = []
    for i, p in enumerate(m.pieces):
        if p.type in (spm_pb2.ModelProto.SentencePiece.CONTROL, spm_pb2.ModelProto.SentencePiece.UNKNOWN):
            added.append({"id": i, "content": p.piece, "single_word": False, "lstrip": False,
                          "rstrip": False, "normalized": False, "special": True})
    normalizers = []
    if ns.precompiled_charsmap:
        normalizers.append({"type": "Precompiled",
                            "precompiled_charsmap": base64.b64encode(ns.precompiled_charsmap).decode("ascii")})
    if ns.remove_extra_whitespaces:
        normalizers.append({"type": "Strip", "strip_left": False, "strip_right": True})
        normalizers.append({"type": "Replace", "pattern": {"Regex": " {2,}"}, "content": "\u2581"})
    eos = m.trainer_spec.eos_piece
    eos_id = m.trainer_spec.eos_id
    return {
        "version": "1.0",
        "truncation": None,
        "padding": None,
        "added_tokens": added,
        "normalizer": {"type": "Sequence", "normalizers": normalizers},
        "pre_tokenizer": {"type": "Metaspace", "replacement": "\u2581",
                          "prepend_scheme": "always" if ns.add_dummy_prefix else "never", "split": True},
        "post_processor": {
            "type": "TemplateProcessing",
            "single": [{"Sequence": {"id": "A", "type_id": 0}}, {"SpecialToken": {"id": eos, "type_id": 0}}],
            "pair": [{"Sequence": {"id": "A", "type_id": 0}}, {"SpecialToken": {"id": eos, "type_id": 0}},
                     {"Sequence": {"id": "B", "type_id": 0}}, {"SpecialToken": {"id": eos, "type_id": 0}}],
            "special_tokens": {eos: {"id": eos, "ids": [eos_id], "tokens": [eos]}},
        },
        "decoder": {"type": "Metaspace", "replacement": "\u2581",
                    "prepend_scheme": "always" if ns.add_dummy_prefix else "never", "split": True},
        "model": {"type": "Unigram", "unk_id": unk_id, "vocab": vocab,
                  "byte_fallback": bool(m.trainer_spec.byte_fallback)},
    }


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    p.add_argument("--work", default=os.path.join(root, "tmp", "unigram"))
    p.add_argument("--out", default=os.path.join(root, "pkg", "tokenizer", "testdata", "unigram"))
    p.add_argument("--corpus", default=os.path.join(root, "testdata", "golden", "tokenizer", "corpus.json"))
    a = p.parse_args(argv)
    lines = training_text(random.Random(SEED))
    corpus_bytes = open(a.corpus, "rb").read()
    texts = json.loads(corpus_bytes)["texts"]
    for name, fallback in (("bytefallback", True), ("unk", False)):
        d = os.path.join(a.work, name)
        os.makedirs(d, exist_ok=True)
        prefix = os.path.join(d, "spm")
        train(lines, prefix, fallback)
        os.unlink(prefix + ".vocab")
        tj = json.dumps(to_tokenizer_json(prefix + ".model"), ensure_ascii=False, indent=1)
        with open(os.path.join(d, "tokenizer.json"), "w", encoding="utf-8") as f:
            f.write(tj + "\n")
        with open(os.path.join(d, "tokenizer_config.json"), "w", encoding="utf-8") as f:
            json.dump({"tokenizer_class": "SiglipTokenizer", "model_max_length": 64, "eos_token": "</s>",
                       "pad_token": "</s>", "unk_token": "<unk>"}, f, indent=1)
            f.write("\n")
        os.makedirs(a.out, exist_ok=True)
        with gzip.GzipFile(os.path.join(a.out, f"{name}.tokenizer.json.gz"), "wb", mtime=0) as f:
            f.write((tj + "\n").encode("utf-8"))
        with open(os.path.join(d, "tokenizer_config.json"), "rb") as src, \
                open(os.path.join(a.out, f"{name}.tokenizer_config.json"), "wb") as dst:
            dst.write(src.read())
        sp = spm.SentencePieceProcessor(model_file=prefix + ".model")
        ids = [sp.encode(t) + [sp.eos_id()] for t in texts]
        meta = {
            "tool": "sentencepiece", "sentencepiece_version": spm.__version__,
            "made_by": "scripts/unigram_fixtures.py", "tokenizer": name,
            "tokenizer_json_sha256": hashlib.sha256((tj + "\n").encode("utf-8")).hexdigest(),
            "corpus_sha256": hashlib.sha256(corpus_bytes).hexdigest(), "count": len(ids),
            "note": "ids: SentencePieceProcessor.encode(text) + [eos], one per corpus text, in order",
            "ids": ids,
        }
        with gzip.GzipFile(os.path.join(a.out, f"ids-spm-{name}.json.gz"), "wb", mtime=0) as f:
            f.write(json.dumps(meta, separators=(",", ":")).encode("utf-8"))
        print(f"{d}: {sp.get_piece_size()} pieces, {sum(map(len, ids))} ids for {len(ids)} texts", file=sys.stderr)


if __name__ == "__main__":
    main()
