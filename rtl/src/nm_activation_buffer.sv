// Double-buffered activation memory (rtl/README.md, "Memories"): bank b holds the fold's tokens, TokenDepth deep, one
// word per token with Rows group vectors of VecW bits (MaxM int8 activations) (vector g = group g of the fold, positions >= M
// zero). Beside it, the per-token activation scales (binary32) in eight banks by token tile: a tile's scales are
// read by its drain, which can come up to four windows after the next tiles have been filled.
module nm_activation_buffer #(
  parameter int Rows  = 16,
  parameter int VecW       = nm_accel_pkg::VecW,  // a group vector
  parameter int TokenDepth = 256
) (
  input  logic                      clk_i,
  input  logic                      write_i,
  input  logic                      write_bank_i,
  input  logic [2:0]                write_scale_bank_i,
  input  logic [$clog2(TokenDepth)-1:0]  write_token_i,
  input  logic [Rows*VecW-1:0]   write_vectors_i,
  input  logic [31:0]               write_scale_i,
  input  logic                      read_i,
  input  logic                      read_bank_i,
  input  logic [$clog2(TokenDepth)-1:0]  read_token_i,
  output logic [Rows*VecW-1:0]   read_vectors_o,
  input  logic [2:0]                scale_bank_i,
  input  logic [$clog2(TokenDepth)-1:0]  scale_token_i,
  output logic [31:0]               scale_o
);
  // A bank address is {bank, token}: the token index must cover exactly TokenDepth words.
  if (TokenDepth < 2 || (TokenDepth & (TokenDepth - 1)) != 0 || Rows < 1 || VecW < 1) begin : g_check_shape
    $error("nm_activation_buffer: TokenDepth must be a power of two >= 2, Rows and VecW at least 1");
  end

  logic [Rows*VecW-1:0] vectors_q [2*TokenDepth];
  logic [31:0]             scales_q [8*TokenDepth];

  always_ff @(posedge clk_i) begin
    if (write_i) begin
      vectors_q[{write_bank_i, write_token_i}]     <= write_vectors_i;
      scales_q[{write_scale_bank_i, write_token_i}] <= write_scale_i;
    end
    if (read_i) read_vectors_o <= vectors_q[{read_bank_i, read_token_i}];
  end

  assign scale_o = scales_q[{scale_bank_i, scale_token_i}];
endmodule
