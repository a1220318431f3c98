// ggml_matmul_bench.cpp - time ggml's CPU ggml_mul_mat as a peer to nmscope's CPU kernels.
//
// Measures  C[B x N_out] = X[B x K] * W[N_out x K]^T  the way llama.cpp runs a linear
// layer on the CPU: W in a ggml weight type (q4_0, q4_k, q8_0, f16, bf16, f32), X in f32
// (ggml converts X to the weight type's vec_dot type - q8_0 / q8_K / bf16 / ... - inside
// the op, and that conversion is part of the timed call, as in inference).
//
// Only ggml's public C API is used (ggml.h, ggml-alloc.h, ggml-backend.h, ggml-cpu.h).
//
// Output: CSV on stdout (one line per type/shape/batch); notes go to stderr.

#include <algorithm>
#include <cctype>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <thread>
#include <vector>

#include "ggml-alloc.h"
#include "ggml-backend.h"
#include "ggml-cpu.h"
#include "ggml.h"

namespace {

struct Shape {
  int64_t n_out, k;
};

struct Options {
  ggml_type type = GGML_TYPE_Q4_K;
  std::vector<Shape> shapes = {{4096, 4096}, {11008, 4096}, {4096, 11008}};
  std::vector<int> batches = {1, 16, 128};
  int threads = 2;
  double seconds = 0.5;
  int copies = 0;  // 0: enough copies to exceed min_gib in total
  double min_gib = 1.0;
  bool repack = false;  // place weights in the first extra buffer type that runs them (AMX, CPU_REPACK), as llama.cpp
  unsigned seed = 1234;
  std::string only_buft;  // --buft NAME: consider only this extra buffer type (e.g. CPU_REPACK where AMX fails)
};

const struct {
  const char *name;
  ggml_type type;
} k_types[] = {
    {"q4_0", GGML_TYPE_Q4_0}, {"q4_k", GGML_TYPE_Q4_K}, {"q8_0", GGML_TYPE_Q8_0},
    {"f32", GGML_TYPE_F32},   {"bf16", GGML_TYPE_BF16}, {"f16", GGML_TYPE_F16},
};

[[noreturn]] void die(const char *fmt, const char *arg = "") {
  fprintf(stderr, "ggml_matmul_bench: ");
  fprintf(stderr, fmt, arg);
  fprintf(stderr, "\n");
  exit(2);
}

void usage() {
  fprintf(stderr,
          "usage: ggml_matmul_bench [--type q4_0|q4_k|q8_0|f32|bf16|f16] [--shapes NxK,...]\n"
          "                         [--batch B,...] [--threads T] [--seconds S] [--copies C]\n"
          "                         [--min-gib G] [--repack | --buft NAME] [--seed S]\n"
          "  shapes are N_out x K (weight rows x reduction length), as in nmscope.\n"
          "  --copies 0 (default) rotates through enough weight copies to exceed --min-gib (1).\n"
          "  --repack puts the weights in the first of ggml-cpu's extra buffer types that runs them (AMX where\n"
          "           the CPU has it, then CPU_REPACK's interleaved layout): what llama.cpp does for CPU weights.\n"
          "  --buft NAME as --repack, but only that extra buffer type (e.g. CPU_REPACK).\n");
}

std::vector<std::string> split(const std::string &s, char sep) {
  std::vector<std::string> out;
  size_t pos = 0;
  while (true) {
    size_t e = s.find(sep, pos);
    out.push_back(s.substr(pos, e == std::string::npos ? std::string::npos : e - pos));
    if (e == std::string::npos) break;
    pos = e + 1;
  }
  return out;
}

Options parse(int argc, char **argv) {
  Options o;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    auto val = [&]() -> std::string {
      if (i + 1 >= argc) die("missing value after %s", a.c_str());
      return argv[++i];
    };
    if (a == "--type") {
      std::string v = val();
      bool found = false;
      for (auto &t : k_types)
        if (v == t.name) {
          o.type = t.type;
          found = true;
        }
      if (!found) die("unknown --type %s", v.c_str());
    } else if (a == "--shapes") {
      o.shapes.clear();
      for (auto &s : split(val(), ',')) {
        auto nk = split(s, 'x');
        if (nk.size() != 2) die("bad shape %s (want N_outxK)", s.c_str());
        o.shapes.push_back({atoll(nk[0].c_str()), atoll(nk[1].c_str())});
      }
    } else if (a == "--batch") {
      o.batches.clear();
      for (auto &s : split(val(), ',')) o.batches.push_back(atoi(s.c_str()));
    } else if (a == "--threads") {
      o.threads = atoi(val().c_str());
    } else if (a == "--seconds") {
      o.seconds = atof(val().c_str());
    } else if (a == "--copies") {
      o.copies = atoi(val().c_str());
    } else if (a == "--min-gib") {
      o.min_gib = atof(val().c_str());
    } else if (a == "--seed") {
      o.seed = (unsigned)atoi(val().c_str());
    } else if (a == "--repack") {
      o.repack = true;
    } else if (a == "--buft") {
      o.repack = true;
      o.only_buft = val();
    } else if (a == "-h" || a == "--help") {
      usage();
      exit(0);
    } else {
      usage();
      die("unknown option %s", a.c_str());
    }
  }
  if (o.threads < 1 || o.seconds <= 0) die("bad --threads/--seconds%s");
  return o;
}

// Uniform [-1, 1) from a xorshift generator: cheap enough for ~10^8 values, and the
// quantizers see a dense, non-degenerate distribution (no all-zero blocks).
void fill_random(std::vector<float> &v, uint64_t seed) {
  uint64_t s = seed * 0x9E3779B97F4A7C15ull + 1;
  for (auto &x : v) {
    s ^= s << 13;
    s ^= s >> 7;
    s ^= s << 17;
    x = (float)((double)(s >> 11) * (2.0 / 9007199254740992.0) - 1.0);
  }
}

// Quantize N rows of K with ggml's public quantizer, rows split across threads
// (setup only; it is not timed, but a 11008x4096 Q4_K quantization is slow single-threaded).
void quantize(ggml_type type, const float *src, uint8_t *dst, int64_t n, int64_t k, int nth) {
  ggml_quantize_init(type);
  std::vector<std::thread> pool;
  const int64_t per = (n + nth - 1) / nth;
  for (int t = 0; t < nth; ++t) {
    const int64_t r0 = t * per, r1 = std::min(n, r0 + per);
    if (r0 >= r1) break;
    pool.emplace_back([=] { ggml_quantize_chunk(type, src, dst, r0 * k, r1 - r0, k, nullptr); });
  }
  for (auto &th : pool) th.join();
}

void dequantize_row(ggml_type type, const void *q, float *out, int64_t k) {
  if (type == GGML_TYPE_F32) {
    memcpy(out, q, k * sizeof(float));
    return;
  }  // f32 has no to_float
  const ggml_type_traits *tt = ggml_get_type_traits(type);
  if (!tt->to_float) die("type %s has no to_float", ggml_type_name(type));
  tt->to_float(q, out, k);
}

double quantile(const std::vector<double> &sorted, double p) {
  const double pos = p * (double)(sorted.size() - 1);
  const size_t lo = (size_t)pos;
  const size_t hi = std::min(lo + 1, sorted.size() - 1);
  return sorted[lo] + (pos - (double)lo) * (sorted[hi] - sorted[lo]);
}

// ggml-cpu names the interleaved layout it picked (e.g. q4_0_8x8) only in a debug log line,
// once per weight tensor. Keep the name for the CSV instead of printing it once per copy.
std::string g_repack_layout;

void log_callback(ggml_log_level level, const char *text, void *) {
  if (level == GGML_LOG_LEVEL_DEBUG) {
    const char *with = strstr(text, " with ");
    if (strstr(text, "repack tensor") && with) {
      g_repack_layout = with + 6;
      while (!g_repack_layout.empty() && isspace((unsigned char)g_repack_layout.back())) g_repack_layout.pop_back();
    }
    return;
  }
  fputs(text, stderr);
}

// The CPU device's extra buffer types in its own order (AMX first where the CPU has it, then CPU_REPACK, called
// CPU_AARCH64 before mid-2025): llama.cpp places a weight in the first of them that runs its mul_mat.
std::vector<ggml_backend_buffer_type_t> extra_bufts(ggml_backend_reg_t reg, ggml_backend_dev_t dev) {
  std::vector<ggml_backend_buffer_type_t> found;
  auto get_extra =
      (ggml_backend_dev_get_extra_bufts_t)ggml_backend_reg_get_proc_address(reg, "ggml_backend_dev_get_extra_bufts");
  if (!get_extra) return found;
  for (ggml_backend_buffer_type_t *b = get_extra(dev); b && *b; ++b) found.push_back(*b);
  return found;
}

std::vector<ggml_backend_buffer_type_t> named(const std::vector<ggml_backend_buffer_type_t> &bufts,
                                              const std::string &name) {
  std::vector<ggml_backend_buffer_type_t> kept;
  for (ggml_backend_buffer_type_t buft : bufts)
    if (name.empty() || name == ggml_backend_buft_name(buft)) kept.push_back(buft);
  return kept;
}

// Would the CPU device run mul_mat with a weight of this type/shape placed in `buft`?
// The repack buffer only accepts types/shapes for which ggml-cpu has an interleaved kernel
// on this CPU; asking supports_op on a probe node is how a caller finds out (llama.cpp does
// the same before choosing a buffer type for a weight).
bool buft_supports(ggml_backend_dev_t dev, ggml_backend_buffer_type_t buft, ggml_type type, int64_t n, int64_t k) {
  ggml_init_params ip = {4 * ggml_tensor_overhead(), nullptr, /*no_alloc=*/true};
  ggml_context *ctx = ggml_init(ip);
  ggml_tensor *a = ggml_new_tensor_2d(ctx, type, k, n);
  ggml_tensor *b = ggml_new_tensor_2d(ctx, GGML_TYPE_F32, k, 1);
  ggml_backend_buffer_t buf = ggml_backend_buft_alloc_buffer(buft, ggml_backend_buft_get_alloc_size(buft, a));
  bool ok = false;
  if (buf) {
    ggml_backend_tensor_alloc(buf, a, ggml_backend_buffer_get_base(buf));
    ok = ggml_backend_dev_supports_op(dev, ggml_mul_mat(ctx, a, b));
    ggml_backend_buffer_free(buf);
  }
  ggml_free(ctx);
  return ok;
}

}  // namespace

int main(int argc, char **argv) {
  const Options opt = parse(argc, argv);
  const ggml_type type = opt.type;
  ggml_log_set(log_callback, nullptr);

  ggml_backend_t backend = ggml_backend_cpu_init();
  if (!backend) die("ggml_backend_cpu_init failed%s");
  ggml_backend_cpu_set_n_threads(backend, opt.threads);
  ggml_backend_dev_t dev = ggml_backend_get_device(backend);
  ggml_backend_reg_t reg = ggml_backend_dev_backend_reg(dev);

  // Record what this ggml build actually enabled (SIMD levels, OPENMP, REPACK, LLAMAFILE).
  if (auto get_features =
          (ggml_backend_get_features_t)ggml_backend_reg_get_proc_address(reg, "ggml_backend_get_features")) {
    fprintf(stderr, "# ggml-cpu features:");
    for (ggml_backend_feature *f = get_features(reg); f && f->name; ++f) fprintf(stderr, " %s=%s", f->name, f->value);
    fprintf(stderr, "\n");
  }

  ggml_backend_buffer_type_t buft_plain = ggml_backend_cpu_buffer_type();
  const std::vector<ggml_backend_buffer_type_t> bufts_extra =
      opt.repack ? named(extra_bufts(reg, dev), opt.only_buft) : std::vector<ggml_backend_buffer_type_t>{};
  if (opt.repack && bufts_extra.empty())
    fprintf(stderr, "# note: this ggml build has no extra CPU buffer type; using plain CPU buffers\n");

  printf("type,layout,shape,batch,threads,copies,calls,median_us,p10_us,p90_us,weight_bytes,weight_GBps,rel_err\n");
  fflush(stdout);

  for (const Shape &sh : opt.shapes) {
    const int64_t n = sh.n_out, k = sh.k;
    if (n <= 0 || k <= 0 || k % ggml_blck_size(type) != 0) {
      fprintf(stderr, "# skip %lldx%lld: K must be a multiple of %lld for %s\n", (long long)n, (long long)k,
              (long long)ggml_blck_size(type), ggml_type_name(type));
      continue;
    }
    const size_t wbytes = ggml_row_size(type, k) * (size_t)n;
    const int copies = opt.copies > 0 ? opt.copies : (int)std::floor(opt.min_gib * 1073741824.0 / (double)wbytes) + 1;

    ggml_backend_buffer_type_t buft = buft_plain;
    for (ggml_backend_buffer_type_t extra : bufts_extra)
      if (buft_supports(dev, extra, type, n, k)) {
        buft = extra;
        break;
      }
    if (opt.repack && buft == buft_plain)
      fprintf(stderr,
              "# note: no extra buffer type has a kernel for %s %lldx%lld on this CPU; using plain CPU buffer\n",
              ggml_type_name(type), (long long)n, (long long)k);

    // One quantized master copy; every device copy gets the same bytes (the rotation is
    // about addresses and cache residency, not about distinct values).
    std::vector<uint8_t> wq(wbytes);
    {
      std::vector<float> wf((size_t)n * k);
      fill_random(wf, opt.seed);
      quantize(type, wf.data(), wq.data(), n, k, opt.threads);
    }

    ggml_init_params wip = {(size_t)copies * ggml_tensor_overhead(), nullptr, true};
    ggml_context *wctx = ggml_init(wip);
    std::vector<ggml_tensor *> w(copies);
    for (int c = 0; c < copies; ++c) w[c] = ggml_new_tensor_2d(wctx, type, k, n);
    ggml_backend_buffer_t wbuf = ggml_backend_alloc_ctx_tensors_from_buft(wctx, buft);
    if (!wbuf) die("cannot allocate weight copies (%s)", ggml_backend_buft_name(buft));
    ggml_backend_buffer_set_usage(wbuf, GGML_BACKEND_BUFFER_USAGE_WEIGHTS);
    g_repack_layout.clear();
    for (int c = 0; c < copies; ++c) ggml_backend_tensor_set(w[c], wq.data(), 0, wbytes);  // repacks if CPU_REPACK
    std::string layout = ggml_backend_buft_name(buft);
    if (buft != buft_plain && !g_repack_layout.empty()) layout += ":" + g_repack_layout;

    for (int batch : opt.batches) {
      if (batch < 1) continue;
      std::vector<float> x((size_t)k * batch);
      fill_random(x, opt.seed + 1 + (unsigned)batch);

      // One graph per weight copy, all reading the same activations and writing the same
      // output block (as a reused compute buffer does in llama.cpp), so only the weights rotate.
      const size_t graph_size = 4;
      ggml_init_params cip = {(size_t)(copies + 1) * ggml_tensor_overhead() +
                                  (size_t)copies * ggml_graph_overhead_custom(graph_size, false),
                              nullptr, true};
      ggml_context *cctx = ggml_init(cip);
      ggml_tensor *xb = ggml_new_tensor_2d(cctx, GGML_TYPE_F32, k, batch);
      std::vector<ggml_tensor *> out(copies);
      std::vector<ggml_cgraph *> graphs(copies);
      for (int c = 0; c < copies; ++c) {
        out[c] = ggml_mul_mat(cctx, w[c], xb);  // ne = [n, batch]
        graphs[c] = ggml_new_graph_custom(cctx, graph_size, false);
        ggml_build_forward_expand(graphs[c], out[c]);
      }
      const size_t align = ggml_backend_buft_get_alignment(buft_plain);
      const size_t xbytes = (ggml_nbytes(xb) + align - 1) / align * align;
      ggml_backend_buffer_t cbuf = ggml_backend_buft_alloc_buffer(buft_plain, xbytes + ggml_nbytes(out[0]));
      char *base = (char *)ggml_backend_buffer_get_base(cbuf);
      ggml_backend_tensor_alloc(cbuf, xb, base);
      for (int c = 0; c < copies; ++c) ggml_backend_tensor_alloc(cbuf, out[c], base + xbytes);
      ggml_backend_tensor_set(xb, x.data(), 0, ggml_nbytes(xb));

      // Warm-up: one pass over all copies (faults pages in, starts the OpenMP team).
      for (int c = 0; c < std::max(copies, 2); ++c) ggml_backend_graph_compute(backend, graphs[c % copies]);

      std::vector<double> us;
      const auto t_end = std::chrono::steady_clock::now() + std::chrono::duration<double>(opt.seconds);
      for (int i = 0; us.size() < 5 || std::chrono::steady_clock::now() < t_end; ++i) {
        const auto t0 = std::chrono::steady_clock::now();
        ggml_backend_graph_compute(backend, graphs[i % copies]);
        const auto t1 = std::chrono::steady_clock::now();
        us.push_back(std::chrono::duration<double, std::micro>(t1 - t0).count());
      }
      std::sort(us.begin(), us.end());
      const double med = quantile(us, 0.5);

      // Correctness: copy 0 against a double-precision product of the dequantized weights
      // and the f32 activations. The error therefore includes ggml's activation
      // conversion (q8_0/q8_K/bf16), as it should. Rows are sampled for big problems.
      ggml_backend_graph_compute(backend, graphs[0]);
      std::vector<float> got((size_t)n * batch);
      ggml_backend_tensor_get(out[0], got.data(), 0, got.size() * sizeof(float));
      const int64_t budget = 64ll << 20;  // multiply-adds for the reference
      const int64_t stride = std::max<int64_t>(1, (n * k * batch) / budget);
      std::vector<float> wrow(k);
      double err2 = 0, ref2 = 0;
      for (int64_t r = 0; r < n; r += stride) {
        dequantize_row(type, wq.data() + (size_t)r * ggml_row_size(type, k), wrow.data(), k);
        for (int b = 0; b < batch; ++b) {
          const float *xr = x.data() + (size_t)b * k;
          double acc = 0;
          for (int64_t j = 0; j < k; ++j) acc += (double)wrow[j] * (double)xr[j];
          const double d = (double)got[(size_t)b * n + r] - acc;
          err2 += d * d;
          ref2 += acc * acc;
        }
      }

      printf("%s,%s,%lldx%lld,%d,%d,%d,%zu,%.1f,%.1f,%.1f,%zu,%.2f,%.3e\n", ggml_type_name(type), layout.c_str(),
             (long long)n, (long long)k, batch, opt.threads, copies, us.size(), med, quantile(us, 0.1),
             quantile(us, 0.9), wbytes, (double)wbytes / (med * 1e3), std::sqrt(err2 / ref2));
      fflush(stdout);

      ggml_backend_buffer_free(cbuf);
      ggml_free(cctx);
    }
    ggml_backend_buffer_free(wbuf);
    ggml_free(wctx);
  }
  ggml_backend_free(backend);
  return 0;
}
