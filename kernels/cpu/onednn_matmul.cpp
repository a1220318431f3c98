// The oneDNN baseline module (nmscope/kernels/onednn_module.hpp says why it is one): oneDNN's bf16 matmul on the
// weights of a dense layer. Every entry point catches: no exception crosses the C interface.
#include <dlfcn.h>

#include <cstdio>
#include <exception>
#include <memory>
#include <oneapi/dnnl/dnnl.hpp>
#include <string>
#include <vector>

#include "nmscope/kernels/onednn_module.hpp"

using dnnl::memory;

struct nmscope_onednn_matmul {
  dnnl::engine engine{dnnl::engine::kind::cpu, 0};
  dnnl::stream stream{engine};
  dnnl::matmul::primitive_desc description;
  dnnl::matmul primitive;
  memory plain_weights;  // the caller's fp32 [out, in] (borrowed until the copies are made)
  std::vector<memory> copies;
  memory source_fp32, source;
  dnnl::reorder to_bf16;
  memory output;
  int64_t batch = 0, in = 0, out = 0;
  std::string implementation;
};

namespace {

void write_error(char* error, std::size_t size, const std::string& text) {
  if (error && size) std::snprintf(error, size, "%s", text.c_str());
}

// OpenMP's omp_set_num_threads from the libgomp oneDNN brought in (a dependency of Debian's libdnnl): looked up at run
// time, so the build needs no OpenMP of its own (clang, as the fuzz build uses, has none without libomp).
using SetThreads = void (*)(int);
SetThreads openmp_set_num_threads() {
  static const SetThreads function = [] {
    void* openmp = dlopen("libgomp.so.1", RTLD_NOW | RTLD_NOLOAD);
    return openmp ? reinterpret_cast<SetThreads>(dlsym(openmp, "omp_set_num_threads")) : nullptr;
  }();
  return function;
}

}  // namespace

extern "C" {

bool nmscope_onednn_add_copy(nmscope_onednn_matmul* matmul);

int nmscope_onednn_version() { return kOneDnnModuleVersion; }

nmscope_onednn_matmul* nmscope_onednn_create(int64_t batch, int64_t in, int64_t out, const float* weights, char* error,
                                             std::size_t error_size) {
  try {
    if (!openmp_set_num_threads()) {
      write_error(error, error_size, "oneDNN runs without libgomp here, so its thread count cannot follow --threads");
      return nullptr;
    }
    auto matmul = std::make_unique<nmscope_onednn_matmul>();
    matmul->batch = batch;
    matmul->in = in;
    matmul->out = out;
    // As oneDNN sees it: src [batch, in] bf16, weights [in, out] bf16 in the layout it prefers ("any"), dst fp32.
    const memory::desc source({batch, in}, memory::data_type::bf16, memory::format_tag::ab);
    const memory::desc packed({in, out}, memory::data_type::bf16, memory::format_tag::any);
    const memory::desc output({batch, out}, memory::data_type::f32, memory::format_tag::ab);
    matmul->description = dnnl::matmul::primitive_desc(dnnl::matmul::desc(source, packed, output), matmul->engine);
    matmul->primitive = dnnl::matmul(matmul->description);
    matmul->implementation = matmul->description.impl_info_str();
    // W [out, in] row-major is the [in, out] operand in format "ba".
    matmul->plain_weights = memory({{in, out}, memory::data_type::f32, memory::format_tag::ba}, matmul->engine,
                                   const_cast<float*>(weights));
    matmul->source_fp32 =
        memory({{batch, in}, memory::data_type::f32, memory::format_tag::ab}, matmul->engine, DNNL_MEMORY_NONE);
    matmul->source = memory(matmul->description.src_desc(), matmul->engine);
    matmul->to_bf16 = dnnl::reorder(matmul->source_fp32, matmul->source);
    matmul->output = memory(matmul->description.dst_desc(), matmul->engine, DNNL_MEMORY_NONE);
    if (!nmscope_onednn_add_copy(matmul.get())) {
      write_error(error, error_size, "oneDNN could not reorder the weights");
      return nullptr;
    }
    return matmul.release();
  } catch (const dnnl::error& failure) {
    write_error(error, error_size, std::string("oneDNN has no bf16 matmul here: ") + failure.what());
  } catch (const std::exception& failure) {
    write_error(error, error_size, failure.what());
  }
  return nullptr;
}

bool nmscope_onednn_add_copy(nmscope_onednn_matmul* matmul) {
  try {
    memory copy(matmul->description.weights_desc(), matmul->engine);
    dnnl::reorder(matmul->plain_weights, copy).execute(matmul->stream, matmul->plain_weights, copy);
    matmul->stream.wait();
    matmul->copies.push_back(std::move(copy));
    return true;
  } catch (const std::exception&) {
    return false;
  }
}

bool nmscope_onednn_run(nmscope_onednn_matmul* matmul, const float* x, float* y, int copy, int threads, char* error,
                        std::size_t error_size) {
  try {
    openmp_set_num_threads()(threads);
    matmul->source_fp32.set_data_handle(const_cast<float*>(x));
    matmul->output.set_data_handle(y);
    matmul->to_bf16.execute(matmul->stream, matmul->source_fp32, matmul->source);
    matmul->primitive.execute(matmul->stream,
                              {{DNNL_ARG_SRC, matmul->source},
                               {DNNL_ARG_WEIGHTS, matmul->copies[std::size_t(copy) % matmul->copies.size()]},
                               {DNNL_ARG_DST, matmul->output}});
    matmul->stream.wait();
    return true;
  } catch (const std::exception& failure) {
    write_error(error, error_size, std::string("oneDNN failed: ") + failure.what());
    return false;
  }
}

int64_t nmscope_onednn_weight_bytes(const nmscope_onednn_matmul* matmul) {
  return int64_t(matmul->description.weights_desc().get_size());
}

const char* nmscope_onednn_implementation(const nmscope_onednn_matmul* matmul) {
  return matmul->implementation.c_str();
}

const char* nmscope_onednn_isa() {
  switch (dnnl::get_effective_cpu_isa()) {
    case dnnl::cpu_isa::avx512_core_amx:
      return "avx512_core_amx";
    case dnnl::cpu_isa::avx512_core_bf16:
      return "avx512_core_bf16";
    case dnnl::cpu_isa::avx512_core_vnni:
      return "avx512_core_vnni";
    case dnnl::cpu_isa::avx512_core:
      return "avx512_core";
    case dnnl::cpu_isa::avx2_vnni:
      return "avx2_vnni";
    case dnnl::cpu_isa::avx2:
      return "avx2";
    default:
      return "other";
  }
}

void nmscope_onednn_destroy(nmscope_onednn_matmul* matmul) { delete matmul; }
}
