#!/usr/bin/env python3
"""Per-role statistics of real weight matrices, the numbers the LLM-like generator is fitted to (docs/ACCURACY.md,
"Synthetic LLM-like weights").

  scripts/weight_statistics.py MODEL [MODEL...]      MODEL: a safetensors model directory or a llama.cpp .gguf

For each role (attn.q/k/v/o, mlp.gate/up/down), averaged over the model's layers:
  excess kurtosis of the weights; the share of input channels (columns) whose RMS is more than 3x the median column
  RMS, and the mean ratio of those columns' RMS to the median; the mean over groups of 128 along K of max|w| / RMS;
  the relative Frobenius error of INT8 and INT4 (symmetric, groups of 128, fp16 scales, round half away from zero)
  and of 2:4 magnitude pruning (fp16), as docs/conventions.md defines them.
"""
import json
import pathlib
import re
import sys

import numpy as np

ROLES = {
    "attn.q": [r"self_attn\.q_proj", r"attention\.self\.query", r"attn_q"],
    "attn.k": [r"self_attn\.k_proj", r"attention\.self\.key", r"attn_k"],
    "attn.v": [r"self_attn\.v_proj", r"attention\.self\.value", r"attn_v"],
    "attn.o": [r"self_attn\.o_proj", r"attention\.output\.dense", r"attn_output"],
    "mlp.gate": [r"mlp\.gate_proj", r"ffn_gate"],
    "mlp.up": [r"mlp\.up_proj", r"intermediate\.dense", r"ffn_up"],
    "mlp.down": [r"mlp\.down_proj", r"\.output\.dense", r"ffn_down"],
}


def role_of(name):
    if not name.endswith("weight"):
        return None
    for role, patterns in ROLES.items():
        if role == "mlp.down" and "attention" in name:
            continue
        if any(re.search(p, name) for p in patterns):
            return role
    return None


def matrices(path):
    path = pathlib.Path(path)
    if path.suffix == ".gguf":
        import gguf
        for tensor in gguf.GGUFReader(str(path)).tensors:
            if role_of(tensor.name) and len(tensor.shape) == 2:
                values = gguf.quants.dequantize(tensor.data, tensor.tensor_type)
                yield tensor.name, np.asarray(values, dtype=np.float64).reshape(int(tensor.shape[1]), int(tensor.shape[0]))
        return
    from safetensors.numpy import load_file
    for file in sorted(path.rglob("*.safetensors")):
        for name, array in load_file(str(file)).items():
            if role_of(name) and array.ndim == 2:
                yield name, array.astype(np.float64)


def round_away(x):
    return np.sign(x) * np.floor(np.abs(x) + 0.5)


def int_error(w, bits, group=128):
    rows, cols = w.shape
    pad = (-cols) % group
    g = np.pad(w, ((0, 0), (0, pad))).reshape(rows, -1, group)
    top = 2 ** (bits - 1) - 1
    scale = (np.abs(g).max(axis=-1, keepdims=True) / top).astype(np.float16).astype(np.float64)
    safe = np.where(scale == 0, 1, scale)
    q = np.clip(round_away(g / safe), -top - 1, top) * scale
    return np.linalg.norm(q.reshape(rows, -1)[:, :cols] - w) / np.linalg.norm(w)


def prune_error(w, n=2, m=4):
    rows, cols = w.shape
    g = w[:, : cols - cols % m].reshape(rows, -1, m)
    order = np.argsort(-np.abs(g), axis=-1, kind="stable")
    pruned = np.take_along_axis(g, order[..., n:], axis=-1)
    return np.sqrt((pruned ** 2).sum()) / np.linalg.norm(w)


def statistics(w):
    centred = w - w.mean()
    kurtosis = float((centred ** 4).mean() / (centred ** 2).mean() ** 2 - 3)
    column_rms = np.sqrt((w ** 2).mean(axis=0))
    median = np.median(column_rms)
    outliers = column_rms > 3 * median
    rows, cols = w.shape
    groups = w[:, : cols - cols % 128].reshape(rows, -1, 128)
    max_over_rms = np.abs(groups).max(axis=-1) / np.sqrt((groups ** 2).mean(axis=-1))
    return {
        "excess_kurtosis": kurtosis,
        "outlier_column_share": float(outliers.mean()),
        "outlier_column_gain": float(column_rms[outliers].mean() / median) if outliers.any() else 1.0,
        "group_max_over_rms": float(max_over_rms.mean()),
        "int8_g128": float(int_error(w, 8)),
        "int4_g128": float(int_error(w, 4)),
        "prune_2of4": float(prune_error(w)),
    }


def main():
    report = {}
    for model in sys.argv[1:]:
        per_role = {}
        for name, w in matrices(model):
            per_role.setdefault(role_of(name), []).append(statistics(w))
        report[pathlib.Path(model).name] = {
            role: {key: float(np.mean([s[key] for s in items])) for key in items[0]} | {"layers": len(items)}
            for role, items in sorted(per_role.items())
        }
    print(json.dumps(report, indent=1))


if __name__ == "__main__":
    main()
