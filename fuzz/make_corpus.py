#!/usr/bin/env python3
"""Writes the seed corpora of the fuzz targets into argv[1]/<target>/ (fuzz/corpus/ in the repository).

Seeds are the test fixtures (tests/fixtures/make_fixtures.py, written by the real numpy / safetensors / gguf writers)
plus what the fixtures lack: token-id arrays (.npy int32 / int64 [sequences, tokens]) and option strings. All small
(a few KB): the fuzzer grows its own corpus from them.
"""
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

    shutil.copy(fixtures / "model.gguf", target_dir("fuzz_gguf") / "model.gguf")

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
