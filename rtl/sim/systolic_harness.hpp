#pragma once
// The cycle loop shared by every Verilated array shape (one instantiation per shape, model_shape.cpp.in).
// Timing contract (rtl/README.md, "Timeline" and "Memory port"): inputs change while the clock is low; the
// activation store answers act_ready_o in the same cycle; the memory port delivers a beat in a cycle mem_ready_o is
// high when MemoryPort's credit allows; outputs are read after the rising edge.
#include <verilated.h>

#include <chrono>
#include <cstring>
#include <memory>
#include <stdexcept>
#include <string>

#include "nmscope/rtl/accel_layout.hpp"
#include "nmscope/rtl/systolic_rtl.hpp"

namespace nmscope::rtl {

// The ports' layouts, in the widths of nm_accel_pkg (accel_layout.hpp): what the harness copies as bytes must be
// bytes on both sides.
static_assert(accel_pkg::kActW == 8, "activations cross FoldStreams as int8_t");
static_assert(accel_pkg::kVecW % 32 == 0, "group vectors fill whole 32-bit words of act_data_i");
static_assert(accel_pkg::kScaleW == 32, "scales and outputs cross as float");
static_assert(accel_pkg::kBeatW == 8 * accel_pkg::kPortBytes && accel_pkg::kBeatW % 32 == 0,
              "a beat fills whole 32-bit words of mem_data_i");

template <class Model>
SimulationResult simulate_model(ArrayShape shape, const RunRegisters& registers, const FoldStreams& streams,
                                OutputSink& sink, PortTiming memory, const std::atomic<bool>* cancel) {
  const auto started = std::chrono::steady_clock::now();
  auto context = std::make_unique<VerilatedContext>();
  context->fatalOnError(false);
  auto model = std::make_unique<Model>(context.get());
  Model& top = *model;

  int64_t cycles = 0;
  // A failed assertion (--assert) prints its message and raises the context's error flag instead of aborting
  // (fatalOnError is off): the run stops there and reports it, as it reports any broken protocol.
  auto tick = [&] {
    top.clk_i = 1;
    top.eval();
    top.clk_i = 0;
    top.eval();
    if (context->gotError()) {
      top.final();
      throw std::runtime_error("RTL assertion failed at cycle " + std::to_string(cycles) +
                               " (the message above names it)");
    }
  };

  top.clk_i = 0;
  top.rst_ni = 0;
  top.start_i = 0;
  top.eval();
  tick();
  top.rst_ni = 1;
  top.cfg_n_i = uint8_t(registers.n);
  top.cfg_m_i = uint8_t(registers.m);
  top.cfg_bits_i = uint8_t(registers.bits);
  top.cfg_asym_i = registers.asymmetric ? 1 : 0;
  top.cfg_fold_rows_i = uint32_t(registers.fold_rows);
  top.cfg_chunk_slots_i = uint32_t(registers.chunk_slots);
  top.cfg_row_slots_i = uint32_t(registers.row_slots);
  top.cfg_lane_slots_i = uint32_t(registers.lane_slots);
  top.cfg_tokens_i = uint32_t(registers.tokens);
  top.cfg_tile_tokens_i = uint16_t(registers.tile_tokens);
  top.cfg_first_tile_tokens_i = uint16_t(registers.first_tile_tokens);
  top.cfg_channel_tiles_i = uint32_t(registers.channel_tiles);
  top.cfg_k_folds_i = uint32_t(registers.k_folds);
  top.cfg_chunk_folds_i = uint32_t(registers.chunk_folds);
  top.start_i = 1;
  top.eval();
  tick();
  top.start_i = 0;
  top.eval();

  constexpr int kVectorBytes = accel_pkg::kVecW / 8;
  std::vector<int8_t> vectors(size_t(shape.rows) * kVectorBytes);
  std::vector<float> values(size_t(shape.cols));
  const int64_t total_folds = registers.channel_tiles * registers.k_folds *
                              (registers.tokens == 0 ? 0
                               : 1 + (registers.tokens - registers.first_tile_tokens + registers.tile_tokens - 1) /
                                         std::max(1, registers.tile_tokens));
  MemoryPort port(memory, accel_pkg::kPortBytes);
  std::vector<uint8_t> stream;  // the weight stream of fold `stream_fold`, delivered up to `stream_beat`
  int64_t stream_fold = -1;
  size_t stream_beat = 0;
  int64_t act_fold = 0;
  int act_token = 0;

  // A watchdog well above any schedule the controller may follow (rtl/README.md, "Timeline"): a broken controller
  // is reported, not waited for. A fold's window is its static length, or the time its stream takes to arrive.
  const int64_t rate = memory.bytes_per_cycle_q16 > 0 ? memory.bytes_per_cycle_q16 : kBandwidthOne;
  const int64_t beat_cycles = accel_pkg::kPortBytes * kBandwidthOne / rate + 2;
  const int64_t stream_beats =
      (2 * shape.cols * accel_pkg::kHeaderLaneW + shape.rows * shape.cols * accel_pkg::kFieldW) / accel_pkg::kBeatW + 1;
  const int64_t longest_window = std::max<int64_t>(registers.tile_tokens, std::max(shape.rows, shape.cols) + 1) +
                                 stream_beats * beat_cycles + shape.rows + 4;
  const int64_t cycle_limit = (total_folds + 2) * (longest_window + 1) + 4 * int64_t(registers.tile_tokens) +
                              shape.rows + shape.cols + memory.latency_cycles + 1000;

  SimulationResult result;
  top.mem_valid_i = 0;
  while (top.busy_o) {
    if (cycles > cycle_limit)
      throw std::runtime_error("RTL still busy after " + std::to_string(cycles) + " cycles (limit " +
                               std::to_string(cycle_limit) + ")");
    top.mem_valid_i = 0;
    if (port.begin_cycle(cycles) && top.mem_ready_o) {
      if (stream_beat * accel_pkg::kPortBytes >= stream.size()) {
        if (++stream_fold >= total_folds) throw std::runtime_error("RTL asked for weights beyond the last fold");
        stream = streams.weight_stream(stream_fold);
        stream_beat = 0;
      }
      uint32_t* beat = top.mem_data_i;
      std::memcpy(beat, stream.data() + stream_beat * accel_pkg::kPortBytes, accel_pkg::kPortBytes);
      top.mem_valid_i = 1;
      port.deliver();
      ++stream_beat;
      ++result.weight_beats;
    }
    if (top.act_ready_o) {
      if (act_fold >= total_folds) throw std::runtime_error("RTL asked for activations beyond the last fold");
      float scale = 0;
      streams.activation_word(act_fold, act_token, vectors.data(), &scale);
      // Row r's group vector is bits [r VecW, (r+1) VecW) of the port (LSB first); the scale follows the last.
      uint32_t* port = top.act_data_i;
      std::memcpy(port, vectors.data(), size_t(shape.rows) * kVectorBytes);
      std::memcpy(port + shape.rows * (accel_pkg::kVecW / 32), &scale, sizeof scale);
      if (++act_token == streams.tokens_of(act_fold)) {
        act_token = 0;
        ++act_fold;
      }
    }
    tick();  // the rising edge's eval sees the inputs set above
    ++cycles;
    if (top.out_valid_o) {
      const uint32_t* port = top.out_data_o;
      std::memcpy(values.data(), port, size_t(shape.cols) * 4);
      sink.output(int64_t(top.out_token_o), int64_t(top.out_channel_tile_o), values.data());
    }
    if ((cycles & 0xffff) == 0 && cancel && cancel->load(std::memory_order_relaxed)) {
      result.cancelled = true;
      break;
    }
  }
  top.final();
  result.cycles = cycles;
  result.wall_seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  return result;
}

}  // namespace nmscope::rtl
