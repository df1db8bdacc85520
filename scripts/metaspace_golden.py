#!/usr/bin/python3
"""Goldens for the Metaspace pre-tokenizer's options: the "unk" Unigram fixture's
tokenizer.json (scripts/unigram_fixtures.py) with its Metaspace edited to each variant
below, tokenized by transformers.js (scripts/reference/tokenize.mjs) on texts where added
tokens sit at the start, middle and end, with leading, trailing and repeated spaces.

  scripts/metaspace_golden.py   (after scripts/unigram_golden.sh; needs scripts/reference/node_modules)

Writes pkg/tokenizer/testdata/unigram/ids-tjs-metaspace.json: for each variant the edit
applied to pre_tokenizer, and the ids of every text. Also ids-tjs-fuseunk.json: a small
BPE tokenizer.json in NLLB's form (SentencePiece BPE converted by transformers: Metaspace,
unk_token with fuse_unk, a language-code token put first by TemplateProcessing), written
here whole, with transformers.js's ids on texts with runs of unknown characters.
"""

import gzip
import hashlib
import json
import os
import subprocess
import tempfile

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
UNIGRAM = os.path.join(ROOT, "pkg", "tokenizer", "testdata", "unigram")

VARIANTS = {
    "always": {"type": "Metaspace", "replacement": "\u2581", "prepend_scheme": "always", "split": True},
    "first": {"type": "Metaspace", "replacement": "\u2581", "prepend_scheme": "first", "split": True},
    "first-nosplit": {"type": "Metaspace", "replacement": "\u2581", "prepend_scheme": "first", "split": False},
    "never": {"type": "Metaspace", "replacement": "\u2581", "prepend_scheme": "never", "split": True},
    "legacy-add-prefix-space": {"type": "Metaspace", "replacement": "\u2581", "add_prefix_space": True},
}

TEXTS = [
    "hello world", " hello world", "hello  world ", "</s>hello world", "hello</s>world", "hello </s> world",
    "hello world</s>", "</s> hello", "<unk>cat<unk> dog", "a photo of a cat", "Привет мир</s>мир",
    "这是</s>猫", "</s></s>x", "x</s></s>y", "   ", "", "cat", "<pad>the cat sat</s>on the mat",
    "naïve café</s> résumé", "東京 タワー</s>東京",
]


FUSE_TEXTS = ["ab", "aXYb", "XY", "a XY b", "ééé a", "abXabYYY", "X", "a\u4e00\u4e8cb", "eng_Latn ab", ""]


def fuse_unk_tokenizer():
    pieces = ["<s>", "<pad>", "</s>", "<unk>", "\u2581", "a", "b", "\u2581a", "ab", "\u2581ab", "\u2581b"]
    vocab = {p: i for i, p in enumerate(pieces)}
    vocab["eng_Latn"] = len(vocab)
    special = lambda i, c: {"id": i, "content": c, "single_word": False, "lstrip": False, "rstrip": False,  # noqa: E731
                            "normalized": False, "special": True}
    return {
        "version": "1.0", "truncation": None, "padding": None,
        "added_tokens": [special(0, "<s>"), special(1, "<pad>"), special(2, "</s>"), special(3, "<unk>"),
                         special(vocab["eng_Latn"], "eng_Latn")],
        "normalizer": None,
        "pre_tokenizer": {"type": "Metaspace", "replacement": "\u2581", "prepend_scheme": "always", "split": True},
        "post_processor": {"type": "TemplateProcessing",
                           "single": [{"SpecialToken": {"id": "eng_Latn", "type_id": 0}},
                                      {"Sequence": {"id": "A", "type_id": 0}},
                                      {"SpecialToken": {"id": "</s>", "type_id": 0}}],
                           "pair": [{"Sequence": {"id": "A", "type_id": 0}}, {"Sequence": {"id": "B", "type_id": 1}}],
                           "special_tokens": {"eng_Latn": {"id": "eng_Latn", "ids": [vocab["eng_Latn"]], "tokens": ["eng_Latn"]},
                                              "</s>": {"id": "</s>", "ids": [2], "tokens": ["</s>"]}}},
        "decoder": None,
        "model": {"type": "BPE", "dropout": None, "unk_token": "<unk>", "continuing_subword_prefix": None,
                  "end_of_word_suffix": None, "fuse_unk": True, "byte_fallback": False, "ignore_merges": False,
                  "vocab": vocab, "merges": ["\u2581 a", "a b", "\u2581a b", "\u2581 b"]},
    }


def fuse_unk_golden(tmp):
    d = os.path.join(tmp, "fuseunk")
    os.makedirs(d)
    tj = fuse_unk_tokenizer()
    json.dump(tj, open(os.path.join(d, "tokenizer.json"), "w", encoding="utf-8"), ensure_ascii=False)
    json.dump({"tokenizer_class": "NllbTokenizer", "model_max_length": 1024, "eos_token": "</s>", "pad_token": "<pad>",
               "unk_token": "<unk>", "bos_token": "<s>"}, open(os.path.join(d, "tokenizer_config.json"), "w"))
    corpus = os.path.join(tmp, "fuse-corpus.json")
    json.dump({"texts": FUSE_TEXTS}, open(corpus, "w", encoding="utf-8"), ensure_ascii=False)
    res = os.path.join(tmp, "fuseunk.ids.json")
    subprocess.run(["node", os.path.join(ROOT, "scripts", "reference", "tokenize.mjs"), "--corpus", corpus,
                    "--model", d, "--name", "fuseunk", "--out", res], check=True)
    got = json.load(open(res, encoding="utf-8"))
    out = {"made_by": "scripts/metaspace_golden.py", "tool": f"{got['tool']} {got['transformers_version']}",
           "tokenizer_json": tj, "texts": FUSE_TEXTS, "ids": got["ids"]}
    with open(os.path.join(UNIGRAM, "ids-tjs-fuseunk.json"), "w", encoding="utf-8") as f:
        json.dump(out, f, ensure_ascii=False, indent=1)
        f.write("\n")


def main():
    with gzip.open(os.path.join(UNIGRAM, "unk.tokenizer.json.gz"), "rb") as f:
        base_bytes = f.read()
    base = json.loads(base_bytes)
    cfg = open(os.path.join(UNIGRAM, "unk.tokenizer_config.json"), "rb").read()
    out = {"made_by": "scripts/metaspace_golden.py", "tool": None, "base": "unk.tokenizer.json.gz",
           "base_sha256": hashlib.sha256(base_bytes).hexdigest(), "texts": TEXTS, "variants": {}}
    with tempfile.TemporaryDirectory() as tmp:
        fuse_unk_golden(tmp)
        corpus = os.path.join(tmp, "corpus.json")
        json.dump({"texts": TEXTS}, open(corpus, "w", encoding="utf-8"), ensure_ascii=False)
        for name, pre in VARIANTS.items():
            d = os.path.join(tmp, name)
            os.makedirs(d)
            doc = dict(base, pre_tokenizer=pre)
            json.dump(doc, open(os.path.join(d, "tokenizer.json"), "w", encoding="utf-8"), ensure_ascii=False)
            open(os.path.join(d, "tokenizer_config.json"), "wb").write(cfg)
            res = os.path.join(tmp, name + ".ids.json")
            subprocess.run(["node", os.path.join(ROOT, "scripts", "reference", "tokenize.mjs"), "--corpus", corpus,
                            "--model", d, "--name", name, "--out", res], check=True)
            got = json.load(open(res, encoding="utf-8"))
            out["tool"] = f"{got['tool']} {got['transformers_version']}"
            out["variants"][name] = {"pre_tokenizer": pre, "ids": got["ids"]}
    with open(os.path.join(UNIGRAM, "ids-tjs-metaspace.json"), "w", encoding="utf-8") as f:
        json.dump(out, f, ensure_ascii=False, indent=1)
        f.write("\n")


if __name__ == "__main__":
    main()
