#!/usr/bin/env python3
"""Writes the seed corpora of the fuzz targets into argv[1]/<target>/ (fuzz/corpus/ in the repository).

Seeds are the test fixtures (tests/fixtures/make_fixtures.py, written by the real numpy / safetensors / gguf writers)
plus what the fixtures lack: token-id arrays (.npy int32 / int64 [sequences, tokens]), option strings and
tokenizer.json files. All small (a few KB): the fuzzer grows its own corpus from them.
"""
import json
import pathlib
import shutil
import subprocess
import sys
import tempfile

import numpy as np
from numpy.lib import format as npy_format

repo = pathlib.Path(__file__).resolve().parent.parent
out = pathlib.Path(sys.argv[1])


def target_dir(name):
    path = out / name
    path.mkdir(parents=True, exist_ok=True)
    return path


with tempfile.TemporaryDirectory() as scratch:
    fixtures = pathlib.Path(scratch)
    subprocess.run([sys.executable, str(repo / "tests/fixtures/make_fixtures.py"), str(fixtures)], check=True)

    token_ids = {
        "tokens_i4.npy": (np.arange(3 * 16) * 7919 % 32000).reshape(3, 16).astype("<i4"),
        "tokens_i8.npy": (np.arange(2 * 8) * 104729 % 128256).reshape(2, 8).astype("<i8"),
    }
    for name, array in token_ids.items():
        with open(fixtures / name, "wb") as f:
            npy_format.write_array(f, array)

    npy = target_dir("fuzz_npy")
    matrix = target_dir("fuzz_npy_matrix")
    for path in sorted(fixtures.glob("*.npy")):
        shutil.copy(path, npy / path.name)
        if path.name.startswith(("tokens_", "i1", "u1", "be_i4", "b1", "v1_f4", "fortran_f4", "cube_f4")):
            shutil.copy(path, matrix / path.name)

    safetensors = target_dir("fuzz_safetensors")
    for path in sorted(fixtures.glob("*.safetensors")) + sorted((fixtures / "hf_sharded").glob("*.safetensors")):
        shutil.copy(path, safetensors / path.name)

    # A tensor container, every decoded block type, and a llama.cpp-style model file (metadata, tokenizer, permuted
    # Q/K; its data section is cut at the fuzzer's max_len, its header is whole).
    for name in ("model.gguf", "quantized.gguf", "tiny_llama.gguf", "bert_cls_pooling.gguf"):
        (target_dir("fuzz_gguf") / name).write_bytes((fixtures / name).read_bytes()[:16384])

    index = target_dir("fuzz_hf_index")
    shutil.copy(fixtures / "hf_sharded/model.safetensors.index.json", index / "sharded.json")
    (index / "one_shard.json").write_text('{"weight_map":{"norm":"model-00002-of-00002.safetensors"}}')

options = {
    "patterns": "dense,2:4,1:4,4:8",
    "pattern_max": " 16:32 , 1:1",
    "bits": "16,8,4",
    "bits_low": "2,3",
    "group": "128",
    "criterion": "wanda",
    "synth_shapes": "64x96+160x96:dist=laplace:seed=7",
    "synth_preset": "tiny-block:dist=normal",
    "synth_llm": "4096x11008:seed=18446744073709551615",
}
cli = target_dir("fuzz_cli_options")
for name, text in options.items():
    (cli / name).write_text(text)


# tokenizer.json seeds, one per model kind and pipeline family, each followed by a NUL and a text to encode.
def byte_level_vocab(words):
    """GPT-2's bytes_to_unicode applied to every character of `words`, so the vocabulary covers them."""
    printable = list(range(ord("!"), ord("~") + 1)) + list(range(0xA1, 0xAD)) + list(range(0xAE, 0x100))
    mapping, extra = {}, 0
    for byte in range(256):
        if byte in printable:
            mapping[byte] = chr(byte)
        else:
            mapping[byte] = chr(256 + extra)
            extra += 1
    tokens = sorted({mapping[b] for word in words for b in word.encode()})
    return {token: index + 1 for index, token in enumerate(tokens)}


def template(token, token_id, before=True):
    special = {"SpecialToken": {"id": token, "type_id": 0}}
    sequence = {"Sequence": {"id": "A", "type_id": 0}}
    single = [special, sequence] if before else [sequence, special]
    return {"type": "TemplateProcessing", "single": single, "pair": single + single,
            "special_tokens": {token: {"id": token, "ids": [token_id], "tokens": [token]}}}


added = [{"id": 0, "content": "<s>", "single_word": False, "lstrip": False, "rstrip": False, "normalized": False,
          "special": True}]
vocab = byte_level_vocab(["Hello world, 42!"])
vocab.update({"\u0120w": len(vocab) + 1, "He": len(vocab) + 2, "ll": len(vocab) + 3}, **{"<s>": 0})
llama3_regex = (r"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*"
                r"|\s*[\r\n]+|\s+(?!\S)|\s+")
seeds = {
    "byte_level_bpe": {
        "added_tokens": added, "normalizer": None,
        "pre_tokenizer": {"type": "Sequence", "pretokenizers": [
            {"type": "Split", "pattern": {"Regex": llama3_regex}, "behavior": "Isolated", "invert": False},
            {"type": "ByteLevel", "add_prefix_space": False, "trim_offsets": True, "use_regex": False}]},
        "post_processor": {"type": "Sequence", "processors": [
            {"type": "ByteLevel", "add_prefix_space": False, "trim_offsets": False, "use_regex": False},
            template("<s>", 0)]},
        "model": {"type": "BPE", "vocab": vocab, "merges": [["\u0120", "w"], ["H", "e"], ["l", "l"]],
                  "ignore_merges": True}},
    "sentencepiece_bpe": {
        "added_tokens": added, "pre_tokenizer": None,
        "normalizer": {"type": "Sequence", "normalizers": [{"type": "Prepend", "prepend": "\u2581"},
                                                           {"type": "Replace", "pattern": {"String": " "},
                                                            "content": "\u2581"}]},
        "post_processor": template("<s>", 0),
        "model": {"type": "BPE", "unk_token": "<unk>", "fuse_unk": True, "byte_fallback": True,
                  "vocab": {"<s>": 0, "<unk>": 1, "\u2581": 2, "a": 3, "b": 4, "\u2581a": 5, "<0xE2>": 6,
                            "<0x82>": 7, "<0xAC>": 8},
                  "merges": ["\u2581 a"]}},
    "unigram": {
        "added_tokens": added,
        "normalizer": {"type": "Sequence", "normalizers": [{"type": "NFKC"}, {"type": "Lowercase"},
                                                           {"type": "Strip", "strip_left": True,
                                                            "strip_right": True}]},
        "pre_tokenizer": {"type": "Metaspace", "replacement": "\u2581", "prepend_scheme": "always", "split": True},
        "post_processor": template("</s>", 3, before=False),
        "model": {"type": "Unigram", "unk_id": 1, "byte_fallback": True,
                  "vocab": [["<s>", 0.0], ["<unk>", 0.0], ["\u2581", -2.0], ["</s>", 0.0], ["\u2581hello", -5.0],
                            ["l", -3.0], ["o", -3.1], ["he", -4.0], ["<0x21>", 0.0]]}},
    "wordpiece": {
        "added_tokens": [dict(added[0], id=2, content="[CLS]"), dict(added[0], id=3, content="[SEP]")],
        "normalizer": {"type": "BertNormalizer", "clean_text": True, "handle_chinese_chars": True,
                       "strip_accents": None, "lowercase": True},
        "pre_tokenizer": {"type": "BertPreTokenizer"},
        "post_processor": {"type": "BertProcessing", "sep": ["[SEP]", 3], "cls": ["[CLS]", 2]},
        "model": {"type": "WordPiece", "unk_token": "[UNK]", "continuing_subword_prefix": "##",
                  "max_input_chars_per_word": 100,
                  "vocab": {"[PAD]": 0, "[UNK]": 1, "[CLS]": 2, "[SEP]": 3, "hello": 4, "world": 5, "##s": 6,
                            ",": 7, "!": 8}}},
}
texts = {"byte_level_bpe": "<s>Hello, world! 42", "sentencepiece_bpe": "ab a \u20ac<s>", "unigram": "  Hello! \u00bd",
         "wordpiece": "Hello, worlds! [CLS] caf\u00e9"}
tokenizer_seeds = target_dir("fuzz_tokenizer_json")
for name, tokenizer in seeds.items():
    (tokenizer_seeds / f"{name}.json").write_bytes(json.dumps(tokenizer, ensure_ascii=False).encode() + b"\0" +
                                                   texts[name].encode())
