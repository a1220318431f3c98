// Which register order of the mma.sp metadata this device reads (gpu_layout.hpp, MetadataOrder): one m16n8k32
// product of small integers (exact in fp16 and fp32) per candidate order, compared with the host's product.
#include <cstring>
#include <mutex>
#include <random>

#include "common/ptx.cuh"
#include "gpu_runtime_internal.hpp"

namespace nmscope::kernels::cuda {

namespace {

// a [32][4], b [32][4], metadata [32] per lane -> d [32][4] per lane.
__global__ void probe_mma_sp(const uint32_t* a, const uint32_t* b, const uint32_t* metadata, float* d) {
  const int lane = threadIdx.x;
  uint32_t a_lane[4], b_lane[4];
  for (int i = 0; i < 4; ++i) a_lane[i] = a[lane * 4 + i], b_lane[i] = b[lane * 4 + i];
  float accumulators[4] = {0, 0, 0, 0};
  ptx::mma_sp_16832(accumulators, a_lane, b_lane, metadata[lane]);
  for (int i = 0; i < 4; ++i) d[lane * 4 + i] = accumulators[i];
}

uint32_t half_pair(float low, float high) {
  const __half l = __float2half(low), h = __float2half(high);
  uint16_t lb, hb;
  std::memcpy(&lb, &l, 2);
  std::memcpy(&hb, &h, 2);
  return uint32_t(lb) | (uint32_t(hb) << 16);
}

bool order_matches(MetadataOrder order) {
  std::mt19937 random(1234);
  float dense_a[16][32] = {};
  uint8_t positions[16][8][2];
  float kept_values[16][8][2];
  for (int r = 0; r < 16; ++r)
    for (int q = 0; q < 8; ++q) {
      int p0 = int(random() % 4), p1 = int(random() % 4);
      while (p1 == p0) p1 = int(random() % 4);
      if (p0 > p1) std::swap(p0, p1);
      positions[r][q][0] = uint8_t(p0), positions[r][q][1] = uint8_t(p1);
      for (int e = 0; e < 2; ++e) {
        kept_values[r][q][e] = float(int(random() % 7) - 3);
        dense_a[r][4 * q + (e ? p1 : p0)] = kept_values[r][q][e];
      }
    }
  float dense_b[32][8];
  for (auto& row : dense_b)
    for (float& value : row) value = float(int(random() % 5) - 2);
  uint32_t words[16];
  pack_metadata_words(positions, order, words);
  std::vector<uint32_t> a(128), b(128), metadata(32);
  for (int lane = 0; lane < 32; ++lane) {
    const int g = lane >> 2, t = lane & 3;
    // Register p holds slots 2p, 2p+1: row g + 8 (p & 1), group t + 4 (p >> 1) (docs/gpu-kernels.md).
    for (int p = 0; p < 4; ++p) {
      const int r = g + 8 * (p & 1), q = t + 4 * (p >> 1);
      a[size_t(lane * 4 + p)] = half_pair(kept_values[r][q][0], kept_values[r][q][1]);
      b[size_t(lane * 4 + p)] = half_pair(dense_b[2 * t + 8 * p][g], dense_b[2 * t + 8 * p + 1][g]);
    }
    metadata[size_t(lane)] = words[2 * g + (t & 1)];
  }
  DeviceBuffer a_device(512), b_device(512), metadata_device(128), d_device(512);
  check_cuda(cudaMemcpy(a_device.get(), a.data(), 512, cudaMemcpyHostToDevice), "probe upload");
  check_cuda(cudaMemcpy(b_device.get(), b.data(), 512, cudaMemcpyHostToDevice), "probe upload");
  check_cuda(cudaMemcpy(metadata_device.get(), metadata.data(), 128, cudaMemcpyHostToDevice), "probe upload");
  probe_mma_sp<<<1, 32>>>(a_device.as<uint32_t>(), b_device.as<uint32_t>(), metadata_device.as<uint32_t>(),
                          d_device.as<float>());
  check_cuda(cudaGetLastError(), "probe launch");
  std::vector<float> d(128);
  check_cuda(cudaMemcpy(d.data(), d_device.get(), 512, cudaMemcpyDeviceToHost), "probe download");
  for (int lane = 0; lane < 32; ++lane)
    for (int i = 0; i < 4; ++i) {
      const int row = (lane >> 2) + 8 * (i >> 1), col = 2 * (lane & 3) + (i & 1);
      float expected = 0;
      for (int k = 0; k < 32; ++k) expected += dense_a[row][k] * dense_b[k][col];
      if (d[size_t(lane * 4 + i)] != expected) return false;
    }
  return true;
}

}  // namespace

bool probe_metadata_order(MetadataOrder& order, std::string& reason) {
  static std::once_flag once;
  static bool found = false;
  static MetadataOrder found_order = MetadataOrder::RowPairsByHalf;
  static std::string why;
  std::call_once(once, [] {
    try {
      if (!device_status().available) throw GpuFailure(device_status().reason);
      for (MetadataOrder candidate : {MetadataOrder::RowPairsByHalf, MetadataOrder::RowPerLane})
        if (order_matches(candidate)) {
          found = true;
          found_order = candidate;
          return;
        }
      why = "no known mma.sp metadata order gives the right product on this device";
    } catch (const std::exception& error) {
      why = error.what();
      cudaGetLastError();
    }
  });
  order = found_order;
  reason = why;
  return found;
}

}  // namespace nmscope::kernels::cuda
