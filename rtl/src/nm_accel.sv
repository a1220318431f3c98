// The N:M sparse, low-bit systolic GEMM accelerator (rtl/README.md): y = x W^T for int8 activations x and weights W
// in nmscope's packed N:M format (docs/packed-format.md), with binary32 outputs.
//
// One elaborated array runs any N:M with M <= MaxM (8) and weights of 2 to 8 bits, chosen by cfg_n, cfg_m and
// cfg_bits at run time. The host side (a DMA engine; in simulation the harness, rtl/sim/systolic_harness.hpp)
// streams each fold's weights and activations in the layouts of nm_weight_buffer and nm_activation_buffer whenever
// weight_ready_o / act_ready_o are high, and must deliver in that cycle; results leave through out_*, one token
// of a channel tile per cycle.
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
  input  logic [31:0]               cfg_tokens_i,
  input  logic [15:0]               cfg_tile_tokens_i,
  input  logic [15:0]               cfg_first_tile_tokens_i,
  input  logic [31:0]               cfg_channel_tiles_i,
  input  logic [31:0]               cfg_k_folds_i,
  input  logic [31:0]               cfg_chunk_folds_i,
  output logic                      busy_o,
  output logic                      weight_ready_o,
  input  logic [Cols*nm_accel_pkg::LaneW-1:0] weight_data_i,
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
  localparam int LaneW  = nm_accel_pkg::LaneW;
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
  if (LaneW < CodeW + ScaleW || LaneW < CodeW + IdxW) begin : g_check_lane
    $error("nm_accel_pkg: a weight lane must hold the header's {zero point, scale} and a row's {idx, code}");
  end

  // ---- controller
  logic          inject_read, inject_bank, inject_valid_q, inject_first_q, inject_swap;
  logic [TokenW-1:0] inject_token;
  logic          weight_fill, weight_fill_bank;
  logic [RowIdxW-1:0] weight_fill_word;
  logic          act_fill, act_fill_bank;
  logic [2:0]    act_fill_scale_bank, drain_scale_bank;
  logic [TokenW-1:0] act_fill_token;
  logic          load_read, load_read_bank, load_header_q, load_acc_bank_q, load_row_valid_q;
  logic [2:0]    load_fold_flags_q;
  logic [RowIdxW-1:0] load_read_word, load_row_q;
  logic          drain, drain_bank;
  logic [TokenW-1:0] drain_token;
  logic [31:0]   drain_token_base, drain_channel_tile;
  logic          controller_busy;

  nm_controller #(.Rows(Rows), .Cols(Cols), .TokenDepth(TokenDepth)) u_controller (
    .clk_i, .rst_ni, .start_i,
    .cfg_tokens_i, .cfg_tile_tokens_i, .cfg_first_tile_tokens_i, .cfg_channel_tiles_i, .cfg_k_folds_i,
    .cfg_chunk_folds_i,
    .busy_o                (controller_busy),
    .inject_read_o         (inject_read),
    .inject_bank_o         (inject_bank),
    .inject_token_o        (inject_token),
    .inject_valid_q_o      (inject_valid_q),
    .inject_first_q_o      (inject_first_q),
    .inject_swap_o         (inject_swap),
    .weight_fill_o         (weight_fill),
    .weight_fill_bank_o    (weight_fill_bank),
    .weight_fill_word_o    (weight_fill_word),
    .act_fill_o            (act_fill),
    .act_fill_bank_o       (act_fill_bank),
    .act_fill_scale_bank_o (act_fill_scale_bank),
    .act_fill_token_o      (act_fill_token),
    .load_read_o           (load_read),
    .load_read_bank_o      (load_read_bank),
    .load_read_word_o      (load_read_word),
    .load_header_q_o       (load_header_q),
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

  assign weight_ready_o = weight_fill;
  assign act_ready_o    = act_fill;

  // ---- memories
  logic [Cols*LaneW-1:0] weight_word;
  nm_weight_buffer #(.Rows(Rows), .Cols(Cols), .LaneW(LaneW)) u_weights (
    .clk_i,
    .write_i      (weight_fill),
    .write_bank_i (weight_fill_bank),
    .write_word_i (weight_fill_word),
    .write_data_i (weight_data_i),
    .read_i       (load_read),
    .read_bank_i  (load_read_bank),
    .read_word_i  (load_read_word),
    .read_data_o  (weight_word)
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

  // ---- loader: the header's zero points are kept for the rows that follow; codes are masked to cfg_bits.
  logic [7:0]         zero_point_q [Cols];
  logic [Cols*SlotW-1:0] load_slots;
  logic [8:0]         code_mask;
  assign code_mask = (9'd1 << cfg_bits_i) - 9'd1;
  always_ff @(posedge clk_i) begin
    if (load_header_q) begin
      for (int c = 0; c < Cols; c++) zero_point_q[c] <= weight_word[c*LaneW + ScaleW +: CodeW];
    end
  end
  for (genvar c = 0; c < Cols; c++) begin : g_slot
    logic [8:0] code;
    assign code = {1'b0, weight_word[c*LaneW +: CodeW]} & code_mask;
    // A position outside the group (>= M) selects nothing: its weight loads as zero.
    assign load_slots[c*SlotW +: 9]         = {1'b0, weight_word[c*LaneW + CodeW +: IdxW]} < cfg_m_i
                                           ? code - {1'b0, zero_point_q[c]} : 9'd0;
    assign load_slots[c*SlotW + 9 +: IdxW] = weight_word[c*LaneW + CodeW +: IdxW];
  end

  // ---- array
  logic               sum_valid, sum_first;
  logic [Cols*32-1:0] sums;
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
    .sum_o        (sums)
  );

  // ---- dequantization, accumulation and drain, per output channel
  logic [Cols*32-1:0] accumulated;
  for (genvar c = 0; c < Cols; c++) begin : g_column
    nm_column_accumulator #(.TokenDepth(TokenDepth)) u_accumulator (
      .clk_i, .rst_ni, .start_i,
      .sum_valid_i       (sum_valid),
      .sum_first_i       (sum_first),
      .sum_i             (sums[c*32 +: 32]),
      .push_i            (load_header_q),
      .push_scale_i      (weight_word[c*LaneW +: ScaleW]),
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
                  cfg_k_folds_i != 0 && cfg_chunk_folds_i != 0)
    else $error("nm_accel: run started with illegal registers (%0d:%0d, %0d bits)", cfg_n_i, cfg_m_i, cfg_bits_i);
  // ... that hold still while it runs.
  a_cfg_held: assert property (@(posedge clk_i) disable iff (!rst_ni)
      busy_o |-> {cfg_n_i, cfg_m_i, cfg_bits_i, cfg_tokens_i, cfg_tile_tokens_i, cfg_first_tile_tokens_i,
                  cfg_channel_tiles_i, cfg_k_folds_i, cfg_chunk_folds_i} ==
                 $past({cfg_n_i, cfg_m_i, cfg_bits_i, cfg_tokens_i, cfg_tile_tokens_i, cfg_first_tile_tokens_i,
                        cfg_channel_tiles_i, cfg_k_folds_i, cfg_chunk_folds_i}))
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
