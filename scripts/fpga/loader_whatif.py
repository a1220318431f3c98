#!/usr/bin/env python3
"""What-if schedule for a faster weight loader in the FPGA array (issue 22, docs/PERFORMANCE.md "FPGA array with
its memory system"): not the RTL, not its cycle model; the design proposed to close the DDR4 batch-1 target.

The array as built has one shadow register per PE, so a fold's window is at least Rows + 1 cycles at batch 1. The
proposal: a second shadow per PE (the fold's parity picks it), a loader writing L rows per cycle, three weight banks
so the memory port runs two folds ahead. Per fold g, in cycles:
  fill   starts when the previous fold's stream is in and bank g mod 3 is free (fold g-3 loaded); one beat a cycle
  loader starts when fold g's stream is in, the previous fold is loaded, and late enough that its row r (written at
         start + 2 + r // L) comes after fold g-2's swap of row r (window start of g-2, + r + 1); takes 1 + Rows / L
  window of fold g starts one cycle after the previous one (batch 1) and three after its loader started (row 0's
         shadow written before its swap)
Beats per fold on 32x32 for a 4096 x 4096 layer, g128 symmetric: dense INT8 16, + 1 for the header of every 4th
fold (16 384 folds); 2:4 + INT4 12, + 1 every 2nd (8 192 folds). DDR4-2400 at 250 MHz (76.8 B/cycle) is above the
port's 64-byte beat, so one beat per cycle. Prints cycles and cycles per fold for L = 1..4.
"""
import math


def schedule(beats_of, folds, rows=32, rows_per_cycle=3, banks=3):
    fill_end, load_end, start = [], [], []
    wave_offset = max(r + 1 - r // rows_per_cycle for r in range(rows)) - 2
    for g in range(folds):
        fill_start = fill_end[g - 1] + 1 if g else 0
        if g >= banks:
            fill_start = max(fill_start, load_end[g - banks] + 1)
        fill_end.append(fill_start + beats_of(g) - 1)
        load_start = fill_end[g] + 1
        if g:
            load_start = max(load_start, load_end[g - 1] + 1)
        if g >= 2:
            load_start = max(load_start, start[g - 2] + wave_offset)
        load_end.append(load_start + 1 + math.ceil(rows / rows_per_cycle))
        start.append(max(load_start + 3, start[g - 1] + 1) if g else load_start + 3)
    return start[-1] + rows + 3  # the last token's sums leave the array


if __name__ == "__main__":
    print("L  dense INT8 cycles  2:4+INT4 cycles  ratio  cycles/fold (dense, 2:4)")
    for rows_per_cycle in (1, 2, 3, 4):
        dense = schedule(lambda g: 17 if g % 4 == 0 else 16, 16384, rows_per_cycle=rows_per_cycle)
        sparse = schedule(lambda g: 13 if g % 2 == 0 else 12, 8192, rows_per_cycle=rows_per_cycle)
        per_fold = f"{dense / 16384:.2f}, {sparse / 8192:.2f}"
        print(f"{rows_per_cycle}  {dense:17d}  {sparse:15d}  {dense / sparse:5.3f}  {per_fold}")
