// Dequantization and accumulation for one output channel (rtl/README.md, "Dequantization").
//
// Each integer sum leaving the array covers one fold, whose slots all share one weight scale; it is converted to
// binary32, multiplied by that scale and added to the token's accumulator:
//     acc[t] = (first fold of the channel tile ? +0 : acc[t]) + float(sum) * scale
// which is the order and rounding of the C++ reference (core/src/engines/fpga/systolic_reference.cpp).
// Accumulators are double-buffered (bank = channel tile parity) so a finished tile drains while the next one fills.
// The fold's scale comes from a two-entry queue filled by the loader and popped by the fold's first token.
module nm_column_accumulator #(
  parameter int T_MAX = 256
) (
  input  logic                      clk_i,
  input  logic                      rst_ni,
  input  logic                      start_i,
  // from the bottom of the array
  input  logic                      sum_valid_i,
  input  logic                      sum_first_i,
  input  logic signed [31:0]        sum_i,
  // from the loader, once per fold
  input  logic                      push_i,
  input  logic [31:0]               push_scale_i,
  input  logic                      push_first_fold_i,
  input  logic                      push_bank_i,
  // drain read port
  input  logic                      drain_bank_i,
  input  logic [$clog2(T_MAX)-1:0]  drain_token_i,
  output logic [31:0]               drain_value_o
);
  localparam int TW = $clog2(T_MAX);
  localparam int EW = 32 + 2;  // {bank, first_fold, scale}

  logic [31:0]   acc_q [2*T_MAX];
  logic [EW-1:0] queue_q [2];
  logic [1:0]    queue_count_q;
  logic [EW-1:0] current_q;
  logic [TW-1:0] next_token_q;

  logic [EW-1:0] fold;
  logic [TW-1:0] token;
  logic [TW:0]   address;
  logic [31:0]   sum_float, scaled, previous, updated;
  logic          pop;
  logic [EW-1:0] pushed;

  assign pop     = sum_valid_i & sum_first_i;
  assign fold    = pop ? queue_q[0] : current_q;
  assign token   = sum_first_i ? '0 : next_token_q;
  assign address = {fold[EW-1], token};
  assign previous = fold[EW-2] ? 32'd0 : acc_q[address];
  assign pushed  = {push_bank_i, push_first_fold_i, push_scale_i};

  fp32_from_int u_to_float (.value_i(sum_i), .result_o(sum_float));
  fp32_mul      u_scale    (.a_i(sum_float), .b_i(fold[31:0]), .result_o(scaled));
  fp32_add      u_add      (.a_i(previous), .b_i(scaled), .result_o(updated));

  always_ff @(posedge clk_i) begin
    if (sum_valid_i) begin
      acc_q[address] <= updated;
      next_token_q   <= token + 1'b1;
    end
    if (pop) current_q <= queue_q[0];
    // Two-entry queue; a push and a pop may fall on the same cycle.
    if (pop && push_i) begin
      if (queue_count_q == 2'd2) begin
        queue_q[0] <= queue_q[1];
        queue_q[1] <= pushed;
      end else begin
        queue_q[0] <= pushed;
      end
    end else if (pop) begin
      queue_q[0] <= queue_q[1];
    end else if (push_i) begin
      queue_q[queue_count_q[0]] <= pushed;
    end
  end

  always_ff @(posedge clk_i or negedge rst_ni) begin
    if (!rst_ni)      queue_count_q <= 2'd0;
    else if (start_i) queue_count_q <= 2'd0;
    else              queue_count_q <= queue_count_q + {1'b0, push_i} - {1'b0, pop};
  end

  assign drain_value_o = acc_q[{drain_bank_i, drain_token_i}];

endmodule
