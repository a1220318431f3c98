// Writes the merge benchmark's input (docs/PERFORMANCE.md, "Sweeps: planning and merge"): SHARDS shard databases of
// one sweep holding ROWS measurements together, through the store's own API, as `nmscope-cli sweep` would leave them
// on a cluster's shared file system. Usage: bench_sweep_shards DIR SHARDS ROWS
#include <cstdio>
#include <cstdlib>
#include <string>

#include "nmscope/results_store.hpp"

int main(int argc, char** argv) {
  if (argc != 4) {
    std::fprintf(stderr, "usage: bench_sweep_shards DIR SHARDS ROWS\n");
    return 2;
  }
  const std::string directory = argv[1];
  const int shards = std::atoi(argv[2]);
  const long long rows = std::atoll(argv[3]);
  const char* patterns[] = {"dense", "2:4", "1:4", "4:8", "2:8", "1:8", "3:4", "6:8"};
  const char* engines[] = {"cpu/eigen-fp32-dense", "cpu/int4-nm", "fpga/systolic-16x16", "fpga/systolic-32x32"};
  for (int shard = 0; shard < shards; ++shard) {
    nmscope::ResultsStore store(directory + "/shard-" + std::to_string(shard) + ".db");
    const std::string study = "bench-shard-" + std::to_string(shard);
    store.insert_sweep_shard({study, "", "benchspec", shard, shards, rows / shards,
                              "node" + std::to_string(shard) + " | Bench CPU | 16 cores", "bench", "1000",
                              std::to_string(shard)});
    std::vector<nmscope::Measurement> batch;
    for (long long i = shard; i < rows; i += shards) {
      // Point i of the sweep: 8 patterns x 4 bit widths x 4 engines x 8 batches per tensor, distinct keys throughout.
      nmscope::Measurement m;
      m.study_id = study;
      m.source = "synth:llama-7b-block:seed=" + std::to_string(i / (8 * 4 * 4 * 8 * 7));
      m.tensor = "model.layers." + std::to_string(i / (8 * 4 * 4 * 8) % 7) + ".mlp.up_proj.weight";
      m.source_hash = "hash-" + m.source + "-" + m.tensor;
      m.rows = 11008;
      m.cols = 4096;
      m.pattern = nmscope::NMPattern::parse(patterns[i / (4 * 4 * 8) % 8]);
      m.quant = {2 + int(i / (4 * 8) % 4), nmscope::Granularity::Group, 128, true};
      m.criterion = "magnitude";
      m.engine = engines[i / 8 % 4];
      m.batch = 1 << (i % 8);
      m.storage_bytes = 11008LL * 4096 / 2;
      m.compression_vs_fp16 = 3.9;
      m.weight_rel_err = 0.01 * double(i % 97);
      m.output_rel_err = 0.02;
      m.sqnr_db = 30;
      m.time_us = 100.0 + double(i % 1000);
      m.cycles = i * 17;
      m.details_json = "{}";
      m.host = "node" + std::to_string(shard) + " | Bench CPU | 16 cores";
      m.build = "bench";
      batch.push_back(std::move(m));
    }
    store.insert_all(batch);
  }
  return 0;
}
