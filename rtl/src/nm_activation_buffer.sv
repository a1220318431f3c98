// Double-buffered activation memory (rtl/README.md, "Memories"): bank b holds the fold's tokens, T_MAX deep, one
// word per token with ROWS group vectors of M_MAX int8 activations (vector g = group g of the fold, positions >= M
// zero). Beside it, the per-token activation scales (binary32) in eight banks by token tile: a tile's scales are
// read by its drain, which can come up to four windows after the next tiles have been filled.
module nm_activation_buffer #(
  parameter int ROWS  = 16,
  parameter int M_MAX = 8,
  parameter int T_MAX = 256
) (
  input  logic                      clk_i,
  input  logic                      write_i,
  input  logic                      write_bank_i,
  input  logic [2:0]                write_scale_bank_i,
  input  logic [$clog2(T_MAX)-1:0]  write_token_i,
  input  logic [ROWS*M_MAX*8-1:0]   write_vectors_i,
  input  logic [31:0]               write_scale_i,
  input  logic                      read_i,
  input  logic                      read_bank_i,
  input  logic [$clog2(T_MAX)-1:0]  read_token_i,
  output logic [ROWS*M_MAX*8-1:0]   read_vectors_o,
  input  logic [2:0]                scale_bank_i,
  input  logic [$clog2(T_MAX)-1:0]  scale_token_i,
  output logic [31:0]               scale_o
);
  logic [ROWS*M_MAX*8-1:0] vectors_q [2*T_MAX];
  logic [31:0]             scales_q [8*T_MAX];

  always_ff @(posedge clk_i) begin
    if (write_i) begin
      vectors_q[{write_bank_i, write_token_i}]     <= write_vectors_i;
      scales_q[{write_scale_bank_i, write_token_i}] <= write_scale_i;
    end
    if (read_i) read_vectors_o <= vectors_q[{read_bank_i, read_token_i}];
  end

  assign scale_o = scales_q[{scale_bank_i, scale_token_i}];
endmodule
