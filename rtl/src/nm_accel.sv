// The N:M sparse, low-bit systolic GEMM accelerator (rtl/README.md): y = x W^T for int8 activations x and weights W
// in nmscope's packed N:M format (docs/packed-format.md), with binary32 outputs.
//
// One elaborated array runs any N:M with M <= MaxM (8) and weights of 2 to 8 bits, chosen by cfg_n, cfg_m and
// cfg_bits at run time. Weights arrive bit-packed through a memory port (mem_*: one beat of PortBytes bytes per
// cycle at most, taken when mem_ready_o and mem_valid_i are both high; in simulation the harness plays the memory,
// rtl/sim/systolic_harness.hpp), fold after fold in the fold stream layout of docs/packed-format.md, and stay
// packed on chip until the loader unpacks a row into the array. Activations come from the on-chip activation store
// (act_ready_o: delivered in that cycle, layout of nm_activation_buffer). Results leave through out_*, one token of
// a channel tile per cycle.
module nm_accel #(
  parameter int Rows  = 16,
  parameter int Cols  = 16,
  parameter int TokenDepth = 256   // tokens per activation/accumulator bank, a power of two
) (
  input  logic                      clk_i,
  input  logic                      rst_ni,
  input  logic                      start_i,
  input  logic [3:0]                cfg_n_i,
  input  logic [3:0]                cfg_m_i,
  input  logic [3:0]                cfg_bits_i,
  input  logic                      cfg_asym_i,       // zero points travel in the headers (else z = 2^(bits-1))
  input  logic [31:0]               cfg_tokens_i,
  input  logic [15:0]               cfg_tile_tokens_i,
  input  logic [15:0]               cfg_first_tile_tokens_i,
  input  logic [31:0]               cfg_channel_tiles_i,
  input  logic [31:0]               cfg_k_folds_i,
  input  logic [31:0]               cfg_chunk_folds_i,
  input  logic [31:0]               cfg_fold_rows_i,   // slots of a full fold, floor(Rows / N) * N
  input  logic [31:0]               cfg_chunk_slots_i, // slots under one scale
  input  logic [31:0]               cfg_row_slots_i,   // slots of a weight row
  input  logic [31:0]               cfg_lane_slots_i,  // two scale groups per fold: slots of the first; else 0
  output logic                      busy_o,
  output logic                      mem_ready_o,
  input  logic                      mem_valid_i,
  input  logic [nm_accel_pkg::BeatW-1:0] mem_data_i,
  output logic                      act_ready_o,
  input  logic [Rows*nm_accel_pkg::VecW+nm_accel_pkg::ScaleW-1:0] act_data_i,  // {scale, vector[Rows-1] .. [0]}
  output logic                      out_valid_o,
  output logic [31:0]               out_token_o,
  output logic [31:0]               out_channel_tile_o,
  output logic [Cols*32-1:0]        out_data_o
);
  `include "fp32_arith.svh"

  localparam int MaxM   = nm_accel_pkg::MaxM;
  localparam int IdxW   = nm_accel_pkg::IdxW;
  localparam int VecW   = nm_accel_pkg::VecW;
  localparam int BeatW  = nm_accel_pkg::BeatW;
  localparam int FieldW = nm_accel_pkg::FieldW;
  localparam int HeaderLaneW = nm_accel_pkg::HeaderLaneW;
  localparam int CodeW  = nm_accel_pkg::CodeW;
  localparam int ScaleW = nm_accel_pkg::ScaleW;
  localparam int TokenW = $clog2(TokenDepth);
  localparam int RowIdxW = $clog2(Rows + 1);
  localparam int SlotW = 9 + IdxW;

  // Elaboration checks: Verilator and Yosys refuse a configuration outside these before anything runs.
  if (Rows < 4 || Rows > 64 || Cols < 4 || Cols > 64) begin : g_check_shape
    $error("nm_accel: Rows and Cols must be 4..64, the shapes the engine and the cycle model cover");
  end
  if (TokenDepth < 2 || TokenDepth > 32768 || (TokenDepth & (TokenDepth - 1)) != 0) begin : g_check_depth
    $error("nm_accel: TokenDepth must be a power of two, 2..32768 (token counts are 16-bit registers)");
  end
  // Positions are compared with the 4-bit cfg_m_i ({1'b0, idx} < cfg_m_i).
  if (MaxM < 2 || MaxM > 8 || (MaxM & (MaxM - 1)) != 0) begin : g_check_max_m
    $error("nm_accel_pkg: MaxM must be 2, 4 or 8 (cfg_m_i is 4 bits)");
  end
  // The PE multiplies a 9-bit code - z by an int8 activation; the fp32_* functions take binary32.
  if (nm_accel_pkg::ActW != 8 || CodeW != 8 || ScaleW != 32) begin : g_check_datapath
    $error("nm_accel_pkg: the datapath is built for ActW = CodeW = 8 and ScaleW = 32");
  end
  // The loader unpacks a header (at bit 0 of a fold stream) or a row (at any bit offset) from ReadBeats
  // consecutive beats read in one cycle.
  localparam int RowReadBeats = (BeatW - 1 + Cols * FieldW + BeatW - 1) / BeatW;
  localparam int HeaderReadBeats = (Cols * HeaderLaneW + BeatW - 1) / BeatW;
  // The second group's header starts right after the first's (16 or 24 bits per column).
  localparam int SecondHeaderReadBeats = ((Cols * HeaderLaneW) % BeatW + Cols * HeaderLaneW + BeatW - 1) / BeatW;
  localparam int HeaderBeats = HeaderReadBeats > SecondHeaderReadBeats ? HeaderReadBeats : SecondHeaderReadBeats;
  localparam int ReadBeats = RowReadBeats > HeaderBeats ? RowReadBeats : HeaderBeats;

  // ---- controller
  logic          inject_read, inject_bank, inject_valid_q, inject_first_q, inject_swap;
  logic [TokenW-1:0] inject_token;
  logic          weight_fill, weight_fill_bank, load_header;
  logic [7:0]    weight_fill_beat;
  logic [RowIdxW-1:0] load_rows;
  logic          load_second_header_q, load_second;
  localparam int WordW = $clog2(Rows + 2);
  logic          act_fill, act_fill_bank;
  logic [2:0]    act_fill_scale_bank, drain_scale_bank;
  logic [TokenW-1:0] act_fill_token;
  logic          load_read, load_read_bank, load_header_q, load_acc_bank_q, load_row_valid_q;
  logic [2:0]    load_fold_flags_q;
  logic [WordW-1:0]   load_read_word;
  logic [RowIdxW-1:0] load_row_q;
  logic          drain, drain_bank;
  logic [TokenW-1:0] drain_token;
  logic [31:0]   drain_token_base, drain_channel_tile;
  logic          controller_busy;

  nm_controller #(.Rows(Rows), .Cols(Cols), .TokenDepth(TokenDepth)) u_controller (
    .clk_i, .rst_ni, .start_i,
    .cfg_tokens_i, .cfg_tile_tokens_i, .cfg_first_tile_tokens_i, .cfg_channel_tiles_i, .cfg_k_folds_i,
    .cfg_chunk_folds_i, .cfg_fold_rows_i, .cfg_chunk_slots_i, .cfg_row_slots_i, .cfg_lane_slots_i,
    .header_bits_i         (header_bits),
    .row_bits_i            (row_bits),
    .mem_ready_o,
    .mem_valid_i,
    .busy_o                (controller_busy),
    .inject_read_o         (inject_read),
    .inject_bank_o         (inject_bank),
    .inject_token_o        (inject_token),
    .inject_valid_q_o      (inject_valid_q),
    .inject_first_q_o      (inject_first_q),
    .inject_swap_o         (inject_swap),
    .weight_fill_o         (weight_fill),
    .weight_fill_bank_o    (weight_fill_bank),
    .weight_fill_beat_o    (weight_fill_beat),
    .act_fill_o            (act_fill),
    .act_fill_bank_o       (act_fill_bank),
    .act_fill_scale_bank_o (act_fill_scale_bank),
    .act_fill_token_o      (act_fill_token),
    .load_read_o           (load_read),
    .load_read_bank_o      (load_read_bank),
    .load_read_word_o      (load_read_word),
    .load_header_o         (load_header),
    .load_rows_o           (load_rows),
    .load_header_q_o       (load_header_q),
    .load_second_header_q_o(load_second_header_q),
    .load_second_o         (load_second),
    .load_fold_flags_q_o   (load_fold_flags_q),
    .load_acc_bank_q_o     (load_acc_bank_q),
    .load_row_valid_q_o    (load_row_valid_q),
    .load_row_q_o          (load_row_q),
    .drain_o               (drain),
    .drain_bank_o          (drain_bank),
    .drain_scale_bank_o    (drain_scale_bank),
    .drain_token_o         (drain_token),
    .drain_token_base_o    (drain_token_base),
    .drain_channel_tile_o  (drain_channel_tile)
  );

  assign act_ready_o = act_fill;

  // ---- the run's registers as the loader uses them, and the fold stream's field widths (docs/packed-format.md,
  // "The FPGA array's fold stream"). Registered at start (they hold still during a run): the unpacker then depends on
  // no top-level input, so the simulation does not re-evaluate it whenever the memory port's inputs change.
  logic [3:0]  bits_q, m_q, meta_bits_q, field_bits_q;
  logic        asym_q, lane_mode_q;
  logic [31:0]     lane_slots_q;  // rows of the first scale group (Rows / 2) when a fold holds two
  logic [15:0] header_bits, row_bits;
  logic [3:0]  meta_bits, field_bits;
  always_ff @(posedge clk_i) begin
    if (start_i) begin
      bits_q <= cfg_bits_i;
      lane_mode_q <= cfg_lane_slots_i != 0;
      lane_slots_q <= cfg_lane_slots_i;
      m_q <= cfg_m_i;
      asym_q <= cfg_asym_i;
      // A position takes ceil(log2 M) bits, none when N = M (every position kept).
      meta_bits_q <= cfg_n_i == cfg_m_i ? 4'd0 : cfg_m_i > 4'd4 ? 4'd3 : cfg_m_i > 4'd2 ? 4'd2 : 4'd1;
      field_bits_q <= cfg_bits_i + (cfg_n_i == cfg_m_i ? 4'd0 : cfg_m_i > 4'd4 ? 4'd3 : cfg_m_i > 4'd2 ? 4'd2 : 4'd1);
    end
  end
  assign meta_bits   = meta_bits_q;
  assign field_bits  = field_bits_q;
  assign header_bits = 16'(Cols) * (asym_q ? 16'd24 : 16'd16);
  assign row_bits    = 16'(Cols) * {12'd0, field_bits};

  // ---- memories
  logic [ReadBeats*BeatW-1:0] weight_beats;
  logic [15:0]        load_offset_q, load_offset;
  logic [8:0]         load_shift_q;
  nm_weight_buffer #(.Rows(Rows), .Cols(Cols), .BeatW(BeatW), .ReadBeats(ReadBeats)) u_weights (
    .clk_i,
    .write_i      (weight_fill),
    .write_bank_i (weight_fill_bank),
    .write_beat_i (weight_fill_beat),
    .write_data_i (mem_data_i),
    .read_i       (load_read),
    .read_bank_i  (load_read_bank),
    .read_beat_i  (8'(load_offset / 16'(BeatW))),
    .read_data_o  (weight_beats)
  );

  logic [Rows*VecW-1:0] group_vectors;
  logic [31:0]        drain_act_scale;
  nm_activation_buffer #(.Rows(Rows), .VecW(VecW), .TokenDepth(TokenDepth)) u_activations (
    .clk_i,
    .write_i            (act_fill),
    .write_bank_i       (act_fill_bank),
    .write_scale_bank_i (act_fill_scale_bank),
    .write_token_i      (act_fill_token),
    .write_vectors_i    (act_data_i[Rows*VecW-1:0]),
    .write_scale_i      (act_data_i[Rows*VecW +: ScaleW]),
    .read_i             (inject_read),
    .read_bank_i        (inject_bank),
    .read_token_i       (inject_token),
    .read_vectors_o     (group_vectors),
    .scale_bank_i       (drain_scale_bank),
    .scale_token_i      (drain_token),
    .scale_o            (drain_act_scale)
  );

  // ---- activation routing: array row r holds slot r of the fold, which belongs to the fold's group r / N.
  logic [RowIdxW-1:0]      group_of_row_q [Rows];
  logic [Rows*VecW-1:0] row_vectors;
  always_ff @(posedge clk_i) begin
    if (start_i) begin
      for (int r = 0; r < Rows; r++) group_of_row_q[r] <= RowIdxW'(32'(r) / {28'd0, cfg_n_i == 4'd0 ? 4'd1 : cfg_n_i});
    end
  end
  for (genvar r = 0; r < Rows; r++) begin : g_route
    assign row_vectors[r*VecW +: VecW] = group_vectors[group_of_row_q[r]*VecW +: VecW];
  end

  // Lane flags {first, valid, swap}: swap is the injection of a fold's first token, one cycle ahead of the token
  // itself (the vectors come out of the synchronous activation memory a cycle after the read).
  localparam int LaneFlags = 3;
  logic [Rows*LaneFlags-1:0] lane_flags;
  logic [Rows*VecW-1:0]    lane_vectors;
  logic [Rows-1:0]       lane_swap;
  logic                  swap_q;
  always_ff @(posedge clk_i or negedge rst_ni) begin
    if (!rst_ni) swap_q <= 1'b0;
    else         swap_q <= inject_swap;
  end
  nm_skew #(.Lanes(Rows), .Width(VecW), .Flags(LaneFlags)) u_skew (
    .clk_i, .rst_ni,
    .flags_i ({inject_first_q, inject_valid_q, swap_q}),
    .data_i  (row_vectors),
    .flags_o (lane_flags),
    .data_o  (lane_vectors)
  );
  // Row r swaps one cycle before its first token: lane r-1's registered swap flag, or the read itself for row 0.
  assign lane_swap[0] = inject_swap;
  for (genvar r = 1; r < Rows; r++) begin : g_swap
    assign lane_swap[r] = lane_flags[(r-1)*LaneFlags];
  end

  // ---- loader: unpacks the fold stream. Word 0 is the header (at bit 0 of the stream, when the fold opens a scale
  // group), word 1 + r is row r (after the header, row_bits each). The read takes the two beats holding the word's
  // first bit; the next cycle shifts them by the word's offset inside the first beat and cuts the fields.
  assign load_offset = load_read_word == '0 ? 16'd0 : load_offset_q;
  logic               load_live_q, load_has_header_q, load_has_second_q;
  logic [IdxW-1:0]    load_position_q, load_position_data_q;  // N = M: a row's position is its index mod M
  always_ff @(posedge clk_i) begin
    if (load_read) begin
      load_shift_q <= 9'(load_offset % 16'(BeatW));
      load_live_q <= load_read_word <= WordW'(lane_mode_q) ||
                     load_read_word - 1'b1 - WordW'(lane_mode_q) < WordW'(load_rows);
      if (load_read_word == '0) begin
        load_offset_q <= load_header ? header_bits : 16'd0;
        load_has_header_q <= load_header;
        load_position_q <= '0;
      end else if (lane_mode_q && load_read_word == WordW'(1)) begin
        // The second group's header follows the first's; the rows follow it.
        load_offset_q <= load_offset_q + (load_second ? header_bits : 16'd0);
        load_has_second_q <= load_second;
      end else begin
        load_offset_q <= load_offset_q + row_bits;
        load_position_data_q <= load_position_q;
        load_position_q <= {1'b0, load_position_q} + 4'd1 == m_q ? '0 : load_position_q + 1'b1;
      end
    end
  end

  // Shifted and cut only in the cycles a word arrives (the simulation skips the rest).
  logic [ReadBeats*BeatW-1:0] load_window;
  always_comb begin
    if (load_header_q || load_second_header_q || load_row_valid_q) load_window = weight_beats >> load_shift_q;
    else                                   load_window = '0;
  end

  // Fields of one row: field_bits (2..11) each, lane c at bit c * field_bits; cut with constant widths so a lane
  // is plain wiring once the width is known.
  logic [Cols*FieldW-1:0] fields;  // packed, not an array: Yosys 0.23 cannot re-derive an always_comb memory
  always_comb begin
    for (int c = 0; c < Cols; c++) begin
      fields[c*FieldW +: FieldW] = '0;
      if (load_row_valid_q) unique case (field_bits)
        4'd2:    fields[c*FieldW +: FieldW] = FieldW'(load_window[c*2 +: 2]);
        4'd3:    fields[c*FieldW +: FieldW] = FieldW'(load_window[c*3 +: 3]);
        4'd4:    fields[c*FieldW +: FieldW] = FieldW'(load_window[c*4 +: 4]);
        4'd5:    fields[c*FieldW +: FieldW] = FieldW'(load_window[c*5 +: 5]);
        4'd6:    fields[c*FieldW +: FieldW] = FieldW'(load_window[c*6 +: 6]);
        4'd7:    fields[c*FieldW +: FieldW] = FieldW'(load_window[c*7 +: 7]);
        4'd8:    fields[c*FieldW +: FieldW] = FieldW'(load_window[c*8 +: 8]);
        4'd9:    fields[c*FieldW +: FieldW] = FieldW'(load_window[c*9 +: 9]);
        4'd10:   fields[c*FieldW +: FieldW] = FieldW'(load_window[c*10 +: 10]);
        default: fields[c*FieldW +: FieldW] = FieldW'(load_window[c*11 +: 11]);
      endcase
    end
  end

  // Header lanes: {zero point (asymmetric only), fp16 scale}. The scale and zero point are kept for the folds of
  // the scale group that follow without a header; symmetric codes have z = 2^(bits-1).
  logic [Cols*HeaderLaneW-1:0] header_lanes;
  logic [31:0]            scale_q [Cols];
  logic [Cols*32-1:0]     fold_scales;
  logic [7:0]             zero_point_q [Cols];
  logic [7:0]             second_zero_point_q [Cols];
  logic [Cols*32-1:0]     second_scales;
  always_comb begin
    for (int c = 0; c < Cols; c++) begin
      header_lanes[c*HeaderLaneW +: HeaderLaneW] = asym_q ? load_window[c*24 +: 24]
                                                              : HeaderLaneW'(load_window[c*16 +: 16]);
      fold_scales[c*32 +: 32] = scale_q[c];
      if (load_header_q && load_has_header_q)
        fold_scales[c*32 +: 32] = fp32_from_fp16(header_lanes[c*HeaderLaneW +: 16]);
      second_scales[c*32 +: 32] = 32'd0;
      if (load_second_header_q && load_has_second_q)
        second_scales[c*32 +: 32] = fp32_from_fp16(header_lanes[c*HeaderLaneW +: 16]);
    end
  end
  always_ff @(posedge clk_i) begin
    if (load_header_q) begin
      for (int c = 0; c < Cols; c++) begin
        scale_q[c] <= fold_scales[c*32 +: 32];
        if (!asym_q)                zero_point_q[c] <= 8'(9'd1 << (bits_q - 4'd1));
        else if (load_has_header_q) zero_point_q[c] <= header_lanes[c*HeaderLaneW + 16 +: 8];
      end
    end
    if (load_second_header_q) begin
      for (int c = 0; c < Cols; c++) begin
        if (!asym_q)                second_zero_point_q[c] <= 8'(9'd1 << (bits_q - 4'd1));
        else if (load_has_second_q) second_zero_point_q[c] <= header_lanes[c*HeaderLaneW + 16 +: 8];
      end
    end
  end

  logic [Cols*SlotW-1:0] load_slots;
  logic [8:0]         code_mask;
  logic [3:0]         meta_mask;
  assign code_mask = (9'd1 << bits_q) - 9'd1;
  assign meta_mask = (4'd1 << meta_bits) - 4'd1;
  for (genvar c = 0; c < Cols; c++) begin : g_slot
    logic [8:0]      code;
    logic [IdxW-1:0] position;
    assign code = 9'(fields[c*FieldW +: FieldW]) & code_mask;
    assign position = meta_bits == 4'd0 ? load_position_data_q
                                        : IdxW'(4'(fields[c*FieldW +: FieldW] >> bits_q) & meta_mask);
    // Rows past the fold's last slot, and a position outside the group (>= M), load as zero.
    logic [7:0] zero_point;
    assign zero_point = lane_mode_q && 32'(load_row_q) >= lane_slots_q ? second_zero_point_q[c] : zero_point_q[c];
    assign load_slots[c*SlotW +: 9]        = load_live_q && {1'b0, position} < m_q
                                             ? code - {1'b0, zero_point} : 9'd0;
    assign load_slots[c*SlotW + 9 +: IdxW] = position;
  end

  // ---- array
  logic               sum_valid, sum_first;
  logic [Cols*32-1:0] sums, taps;
  nm_array #(.Rows(Rows), .Cols(Cols), .MaxM(MaxM), .IdxW(IdxW)) u_array (
    .clk_i, .rst_ni,
    .load_i       (load_row_valid_q),
    .load_row_i   (load_row_q),
    .load_slots_i (load_slots),
    .a_swap_i     (lane_swap),
    .a_vec_i      (lane_vectors),
    .last_valid_i (lane_flags[(Rows-1)*LaneFlags + 1]),
    .last_first_i (lane_flags[(Rows-1)*LaneFlags + 2]),
    .sum_valid_o  (sum_valid),
    .sum_first_o  (sum_first),
    .sum_o        (sums),
    .lane_mode_i  (lane_mode_q),
    .tap_o        (taps)
  );

  // ---- dequantization, accumulation and drain, per output channel
  logic [Cols*32-1:0] accumulated;
  for (genvar c = 0; c < Cols; c++) begin : g_column
    nm_column_accumulator #(.TokenDepth(TokenDepth)) u_accumulator (
      .clk_i, .rst_ni, .start_i,
      .sum_valid_i       (sum_valid),
      .sum_first_i       (sum_first),
      .sum_i             (sums[c*32 +: 32]),
      .tap_i             (taps[c*32 +: 32]),
      // With two groups per fold the fold's scales are queued once the second header is in.
      .push_i            (lane_mode_q ? load_second_header_q : load_header_q),
      .push_scale_i      (lane_mode_q ? scale_q[c] : fold_scales[c*32 +: 32]),
      .push_second_i     (lane_mode_q && load_has_second_q),
      .push_second_scale_i (second_scales[c*32 +: 32]),
      .push_flags_i      (load_fold_flags_q),
      .push_bank_i       (load_acc_bank_q),
      .drain_bank_i      (drain_bank),
      .drain_token_i     (drain_token),
      .drain_value_o     (accumulated[c*32 +: 32])
    );
  end

  always_ff @(posedge clk_i or negedge rst_ni) begin
    if (!rst_ni) out_valid_o <= 1'b0;
    else         out_valid_o <= drain;
  end
  // The token's activation scale, applied as the accumulators drain.
  always_ff @(posedge clk_i) begin
    if (drain) begin
      out_token_o        <= drain_token_base + 32'(drain_token);
      out_channel_tile_o <= drain_channel_tile;
      for (int c = 0; c < Cols; c++) out_data_o[c*32 +: 32] <= fp32_mul(accumulated[c*32 +: 32], drain_act_scale);
    end
  end

  assign busy_o = controller_busy || out_valid_o;

`ifndef SYNTHESIS
  // ---- the interface's rules and the array's invariants (rtl/README.md, "Assertions"). Simulation only.

  // A run starts with legal registers (rtl/README.md, "Parameters and registers") ...
  a_cfg_legal: assert property (@(posedge clk_i) disable iff (!rst_ni)
      start_i |-> cfg_m_i >= 4'd1 && 32'(cfg_m_i) <= MaxM && cfg_n_i >= 4'd1 && cfg_n_i <= cfg_m_i &&
                  32'(cfg_n_i) <= Rows && cfg_bits_i >= 4'd2 && cfg_bits_i <= 4'd8 &&
                  cfg_first_tile_tokens_i >= 16'd1 && cfg_first_tile_tokens_i <= cfg_tile_tokens_i &&
                  32'(cfg_tile_tokens_i) <= TokenDepth && cfg_tokens_i != 0 && cfg_channel_tiles_i != 0 &&
                  cfg_k_folds_i != 0 && cfg_chunk_folds_i != 0 && cfg_fold_rows_i >= 32'(cfg_n_i) &&
                  cfg_fold_rows_i <= Rows && cfg_chunk_slots_i != 0 && cfg_row_slots_i != 0 &&
                  (cfg_lane_slots_i == 0 || (cfg_lane_slots_i == 32'(Rows / 2) && cfg_fold_rows_i == 32'(Rows))))
    else $error("nm_accel: run started with illegal registers (%0d:%0d, %0d bits)", cfg_n_i, cfg_m_i, cfg_bits_i);
  // ... that hold still while it runs.
  a_cfg_held: assert property (@(posedge clk_i) disable iff (!rst_ni)
      busy_o |-> {cfg_n_i, cfg_m_i, cfg_bits_i, cfg_asym_i, cfg_tokens_i, cfg_tile_tokens_i, cfg_first_tile_tokens_i,
                  cfg_channel_tiles_i, cfg_k_folds_i, cfg_chunk_folds_i, cfg_fold_rows_i, cfg_chunk_slots_i,
                  cfg_row_slots_i} ==
                 $past({cfg_n_i, cfg_m_i, cfg_bits_i, cfg_asym_i, cfg_tokens_i, cfg_tile_tokens_i,
                        cfg_first_tile_tokens_i, cfg_channel_tiles_i, cfg_k_folds_i, cfg_chunk_folds_i,
                        cfg_fold_rows_i, cfg_chunk_slots_i, cfg_row_slots_i}))
    else $error("nm_accel: a run-time register changed during a run");

  // A row's shadow slot is written between its swaps, never in the cycle it becomes active.
  a_shadow_apart_from_swap: assert property (@(posedge clk_i) disable iff (!rst_ni)
      load_row_valid_q |-> 32'(load_row_q) < Rows && (lane_swap & (Rows'(1) << load_row_q)) == '0)
    else $error("nm_accel: row %0d's shadow written as it swaps in", load_row_q);

  // Results name a token and a channel tile of the run.
  a_output_in_run: assert property (@(posedge clk_i) disable iff (!rst_ni)
      out_valid_o |-> out_token_o < cfg_tokens_i && out_channel_tile_o < cfg_channel_tiles_i)
    else $error("nm_accel: output for token %0d, channel tile %0d", out_token_o, out_channel_tile_o);
`endif

endmodule
