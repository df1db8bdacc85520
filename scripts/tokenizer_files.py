#!/usr/bin/python3
"""Write a CLIP tokenizer directory in the Hugging Face layout.

Given CLIP-style BPE merges, this writes the five files Hugging Face's
CLIPTokenizerFast saves for openai/clip-vit-base-patch32 (the layout
Xenova/clip-vit-base-patch32 ships): vocab.json, merges.txt,
tokenizer.json, tokenizer_config.json and special_tokens_map.json.

The merges come either from OpenAI's bpe_simple_vocab_16e6.txt.gz (its
first line is a header, CLIP uses merge lines 1..48894) or, when imported
as a module, from a list of (left, right) pairs built by another script
(the tiny test models use a handful of merges).

The vocabulary is built the way CLIP builds it: the 256 byte-level
characters in bytes_to_unicode order, the same characters with the
end-of-word suffix "</w>", every merge joined, then <|startoftext|> and
<|endoftext|>.

Standard library only; run with /usr/bin/python3:

    scripts/tokenizer_files.py --bpe ../shared/clip-vocab/bpe_simple_vocab_16e6.txt.gz --out DIR
"""

import argparse
import gzip
import json
import os
import sys

END_OF_WORD = "</w>"
SOT = "<|startoftext|>"
EOT = "<|endoftext|>"
CLIP_MERGES = 49152 - 256 - 2  # 48894: the merge lines CLIP uses
CLIP_SPLIT_PATTERN = r"'s|'t|'re|'ve|'m|'ll|'d|[\p{L}]+|[\p{N}]|[^\s\p{L}\p{N}]+"


def bytes_to_unicode():
    """GPT-2/CLIP's reversible byte -> printable character table, as an
    ordered list of (byte, char); the order is the vocabulary order."""
    printable = (list(range(ord("!"), ord("~") + 1))
                 + list(range(ord("\xa1"), ord("\xac") + 1))
                 + list(range(ord("\xae"), ord("\xff") + 1)))
    table = [(b, chr(b)) for b in printable]
    extra = 0
    for b in range(256):
        if b not in printable:
            table.append((b, chr(256 + extra)))
            extra += 1
    return table


def read_openai_bpe(path, num_merges=CLIP_MERGES):
    """Read merges from OpenAI's bpe_simple_vocab_16e6.txt(.gz).

    The first line is a header ("#version: 0.2"-like), not a merge: merges
    are lines 1..num_merges, exactly the slice CLIP's simple_tokenizer uses.
    """
    opener = gzip.open if path.endswith(".gz") else open
    with opener(path, "rt", encoding="utf-8") as f:
        lines = f.read().split("\n")
    merges = []
    for number, line in enumerate(lines[1:num_merges + 1], start=2):
        parts = line.split()
        if len(parts) != 2:
            raise ValueError(f"{path}:{number}: want two symbols in a merge, got {line!r}")
        merges.append((parts[0], parts[1]))
    if len(merges) != num_merges:
        raise ValueError(f"{path}: want {num_merges} merges, file has {len(merges)}")
    return merges


def build_vocab(merges):
    """CLIP's vocabulary for these merges: token -> id."""
    chars = [c for _, c in bytes_to_unicode()]
    tokens = chars + [c + END_OF_WORD for c in chars]
    tokens += ["".join(pair) for pair in merges]
    tokens += [SOT, EOT]
    vocab = {}
    for token in tokens:
        if token in vocab:
            raise ValueError(f"merges produce duplicate token {token!r}")
        vocab[token] = len(vocab)
    for left, right in merges:
        for part in (left, right):
            if part not in vocab:
                raise ValueError(f"merge ({left!r}, {right!r}) uses {part!r}, which no earlier token makes")
    return vocab


def _added_token(token_id, content, normalized):
    return {
        "id": token_id,
        "content": content,
        "single_word": False,
        "lstrip": False,
        "rstrip": False,
        "normalized": normalized,
        "special": True,
    }


def tokenizer_json(vocab, merges, use_regex=True):
    """The fast-tokenizer file, as transformers' CLIPConverter builds it."""
    sot_id, eot_id = vocab[SOT], vocab[EOT]
    return {
        "version": "1.0",
        "truncation": None,
        "padding": None,
        "added_tokens": [
            _added_token(sot_id, SOT, True),
            _added_token(eot_id, EOT, False),
        ],
        "normalizer": {
            "type": "Sequence",
            "normalizers": [
                {"type": "NFC"},
                {"type": "Replace", "pattern": {"Regex": r"\s+"}, "content": " "},
                {"type": "Lowercase"},
            ],
        },
        "pre_tokenizer": {
            "type": "Sequence",
            "pretokenizers": [
                {
                    "type": "Split",
                    "pattern": {"Regex": CLIP_SPLIT_PATTERN},
                    "behavior": "Removed",
                    "invert": True,
                },
                {
                    "type": "ByteLevel",
                    "add_prefix_space": False,
                    "trim_offsets": True,
                    "use_regex": use_regex,
                },
            ],
        },
        "post_processor": {
            "type": "RobertaProcessing",
            "sep": [EOT, eot_id],
            "cls": [SOT, sot_id],
            "trim_offsets": False,
            "add_prefix_space": False,
        },
        "decoder": {
            "type": "ByteLevel",
            "add_prefix_space": True,
            "trim_offsets": True,
            "use_regex": True,
        },
        "model": {
            "type": "BPE",
            "dropout": None,
            "unk_token": EOT,
            "continuing_subword_prefix": "",
            "end_of_word_suffix": END_OF_WORD,
            "fuse_unk": False,
            "byte_fallback": False,
            "ignore_merges": False,
            "vocab": vocab,
            "merges": [f"{a} {b}" for a, b in merges],
        },
    }


def tokenizer_config(vocab, model_max_length=77):
    sot_id, eot_id = vocab[SOT], vocab[EOT]

    def decoder_entry(content, normalized):
        return {
            "content": content,
            "lstrip": False,
            "normalized": normalized,
            "rstrip": False,
            "single_word": False,
            "special": True,
        }

    return {
        "add_prefix_space": False,
        "added_tokens_decoder": {
            str(sot_id): decoder_entry(SOT, True),
            str(eot_id): decoder_entry(EOT, False),
        },
        "bos_token": SOT,
        "clean_up_tokenization_spaces": True,
        "do_lower_case": True,
        "eos_token": EOT,
        "errors": "replace",
        "model_max_length": model_max_length,
        "pad_token": EOT,
        "tokenizer_class": "CLIPTokenizer",
        "unk_token": EOT,
    }


def special_tokens_map():
    def entry(content, normalized):
        return {
            "content": content,
            "lstrip": False,
            "normalized": normalized,
            "rstrip": False,
            "single_word": False,
        }

    return {
        "bos_token": entry(SOT, True),
        "eos_token": entry(EOT, False),
        "pad_token": EOT,
        "unk_token": entry(EOT, False),
    }


def _write_json(path, value, **kw):
    with open(path, "w", encoding="utf-8") as f:
        json.dump(value, f, ensure_ascii=False, **kw)
        f.write("\n")


def write_tokenizer_files(out_dir, merges, model_max_length=77, use_regex=True):
    """Write the five tokenizer files for merges (a list of (left, right)
    pairs, in rank order) into out_dir; returns the vocabulary."""
    merges = [tuple(m) for m in merges]
    vocab = build_vocab(merges)
    os.makedirs(out_dir, exist_ok=True)
    # vocab.json: as transformers' CLIPTokenizer.save_vocabulary writes it.
    _write_json(os.path.join(out_dir, "vocab.json"), vocab, indent=2, sort_keys=True)
    with open(os.path.join(out_dir, "merges.txt"), "w", encoding="utf-8") as f:
        f.write("#version: 0.2\n")
        for a, b in merges:
            f.write(f"{a} {b}\n")
    _write_json(os.path.join(out_dir, "tokenizer.json"),
                tokenizer_json(vocab, merges, use_regex=use_regex), indent=2)
    _write_json(os.path.join(out_dir, "tokenizer_config.json"),
                tokenizer_config(vocab, model_max_length), indent=2)
    _write_json(os.path.join(out_dir, "special_tokens_map.json"), special_tokens_map(), indent=2)
    return vocab


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    src = p.add_mutually_exclusive_group(required=True)
    src.add_argument("--bpe", help="OpenAI bpe_simple_vocab_16e6.txt(.gz): header line, then merges")
    src.add_argument("--merges", help="a merges.txt (optional '#version' header, then 'a b' lines)")
    p.add_argument("--num-merges", type=int, default=None,
                   help=f"merges to keep (default {CLIP_MERGES} for --bpe, all for --merges)")
    p.add_argument("--model-max-length", type=int, default=77)
    p.add_argument("--no-byte-level-regex", action="store_true",
                   help='write "use_regex": false in the ByteLevel pre-tokenizer')
    p.add_argument("--out", required=True, help="directory to write into (created)")
    a = p.parse_args(argv)
    if a.bpe:
        merges = read_openai_bpe(a.bpe, a.num_merges or CLIP_MERGES)
    else:
        with open(a.merges, encoding="utf-8") as f:
            lines = [l for l in f.read().split("\n") if l and not l.startswith("#version")]
        merges = [tuple(l.split()) for l in lines]
        if a.num_merges is not None:
            merges = merges[: a.num_merges]
    vocab = write_tokenizer_files(a.out, merges, a.model_max_length, use_regex=not a.no_byte_level_regex)
    print(f"wrote {a.out}: {len(vocab)} tokens, {len(merges)} merges", file=sys.stderr)


if __name__ == "__main__":
    main()
