// Dequantization and accumulation for one output channel (rtl/README.md, "Dequantization").
//
// Each integer sum leaving the array covers one fold; the folds of one scale group (a chunk) are added as integers,
// and only the chunk's total is converted to binary32, multiplied by the group's scale and added to the token's
// accumulator:
//     isum[t] = (chunk starts ? 0 : isum[t]) + sum
//     acc[t]  = (first chunk of the channel tile ? +0 : acc[t]) + float(isum[t]) * scale      when the chunk ends
// which is the order and rounding of the C++ reference (core/src/engines/fpga/systolic_run.cpp). One rounding per
// scale group instead of one per fold, and the floating-point units work only when a chunk ends.
// The fp32 accumulators are double-buffered (bank = channel tile parity) so a finished tile drains while the next
// one fills. The fold's scale and flags come from a two-entry queue filled by the loader, popped by the fold's first
// token.
module nm_column_accumulator #(
  parameter int TokenDepth = 256
) (
  input  logic                      clk_i,
  input  logic                      rst_ni,
  input  logic                      start_i,
  // from the bottom of the array
  input  logic                      sum_valid_i,
  input  logic                      sum_first_i,
  input  logic signed [31:0]        sum_i,
  input  logic signed [31:0]        tap_i,          // the first scale group's part of sum_i
  // from the loader, once per fold: {first chunk of the tile, chunk starts, chunk ends}, and when the fold holds a
  // second scale group (which then starts and ends in it) that group's scale
  input  logic                      push_i,
  input  logic [31:0]               push_scale_i,
  input  logic                      push_second_i,
  input  logic [31:0]               push_second_scale_i,
  input  logic [2:0]                push_flags_i,
  input  logic                      push_bank_i,
  // drain read port
  input  logic                      drain_bank_i,
  input  logic [$clog2(TokenDepth)-1:0]  drain_token_i,
  output logic [31:0]               drain_value_o
);
  `include "fp32_arith.svh"

  localparam int TokenW = $clog2(TokenDepth);
  // {bank, first chunk, chunk starts, chunk ends, second group, scale}; the second group's scale travels in a queue
  // of its own beside it (two narrow entries simulate faster than one wider than 64 bits).
  localparam int EntryW = 32 + 5;

  // An accumulator address is {bank, token}: the token index must cover exactly TokenDepth words.
  if (TokenDepth < 2 || (TokenDepth & (TokenDepth - 1)) != 0) begin : g_check_depth
    $error("nm_column_accumulator: TokenDepth must be a power of two >= 2");
  end

  logic [31:0]        acc_q [2*TokenDepth];
  logic signed [31:0] chunk_sum_q [TokenDepth];
  logic [EntryW-1:0]      queue_head_q, queue_tail_q;
  logic [1:0]         queue_count_q;
  logic [EntryW-1:0]      current_q;
  logic [31:0]            second_head_q, second_tail_q, second_current_q, second_scale;
  logic [TokenW-1:0]      next_token_q;

  logic [EntryW-1:0]      fold;
  logic [TokenW-1:0]      token;
  logic [TokenW:0]        address;
  logic signed [31:0] chunk_sum;
  logic               pop;
  logic [EntryW-1:0]      pushed;

  assign pop       = sum_valid_i & sum_first_i;
  assign fold      = pop ? queue_head_q : current_q;
  assign second_scale = pop ? second_head_q : second_current_q;
  assign token     = sum_first_i ? '0 : next_token_q;
  assign address   = {fold[EntryW-1], token};
  // Field positions: scale [31:0], second group [32], chunk ends [33], chunk starts [34], first chunk [35], bank [36].
  assign chunk_sum = (fold[34] ? 32'sd0 : chunk_sum_q[token]) + (fold[32] ? tap_i : sum_i);
  assign pushed    = {push_bank_i, push_flags_i, push_second_i, push_scale_i};

  always_ff @(posedge clk_i) begin
    if (sum_valid_i) begin
      next_token_q <= token + 1'b1;
      // The second group's sum is the rest of the column's: added after the first, as the reference does.
      // The binary32 units are evaluated only when a scale group ends (the simulation skips them otherwise).
      if (fold[33] && fold[32])
        acc_q[address] <= fp32_add(fp32_add(fold[35] ? 32'd0 : acc_q[address],
                                            fp32_mul(fp32_from_int(chunk_sum), fold[31:0])),
                                   fp32_mul(fp32_from_int(sum_i - tap_i), second_scale));
      else if (fold[33])
        acc_q[address] <= fp32_add(fold[35] ? 32'd0 : acc_q[address], fp32_mul(fp32_from_int(chunk_sum), fold[31:0]));
      else
        chunk_sum_q[token] <= chunk_sum;
    end
    if (pop) begin
      current_q <= queue_head_q;
      second_current_q <= second_head_q;
    end
    // Two-entry queue; a push and a pop may fall on the same cycle.
    if (pop && push_i) begin
      if (queue_count_q == 2'd2) begin
        queue_head_q <= queue_tail_q;
        queue_tail_q <= pushed;
        second_head_q <= second_tail_q;
        second_tail_q <= push_second_scale_i;
      end else begin
        queue_head_q <= pushed;
        second_head_q <= push_second_scale_i;
      end
    end else if (pop) begin
      queue_head_q <= queue_tail_q;
      second_head_q <= second_tail_q;
    end else if (push_i) begin
      if (queue_count_q == 2'd0) begin
        queue_head_q <= pushed;
        second_head_q <= push_second_scale_i;
      end else begin
        queue_tail_q <= pushed;
        second_tail_q <= push_second_scale_i;
      end
    end
  end

  always_ff @(posedge clk_i or negedge rst_ni) begin
    if (!rst_ni)      queue_count_q <= 2'd0;
    else if (start_i) queue_count_q <= 2'd0;
    else              queue_count_q <= queue_count_q + {1'b0, push_i} - {1'b0, pop};
  end

  assign drain_value_o = acc_q[{drain_bank_i, drain_token_i}];

`ifndef SYNTHESIS
  // The fold queue: a fold's first sum always finds its scale queued, and the loader never queues a third.
  a_pop_queued: assert property (@(posedge clk_i) disable iff (!rst_ni) pop |-> queue_count_q != 2'd0)
    else $error("nm_column_accumulator: a fold's sums arrived before its scale");
  a_push_room: assert property (@(posedge clk_i) disable iff (!rst_ni)
      push_i && !pop |-> queue_count_q != 2'd2)
    else $error("nm_column_accumulator: scale queue full");
`endif

endmodule
