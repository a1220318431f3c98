// Double-buffered weight memory (rtl/README.md, "Memories"): bank b holds one fold as Rows+1 words of Cols lanes
// of LaneW bits (40: nm_accel_pkg). Word 0 is the fold's header (lane c = {zero point[7:0], scale[31:0]} of channel c), word 1+r is
// array row r (lane c = {idx[2:0], code[7:0]} in the low 11 bits). The loader drains one bank while the DMA fills
// the other. Synchronous read, so the memory maps to block RAM.
module nm_weight_buffer #(
  parameter int Rows = 16,
  parameter int Cols = 16,
  parameter int LaneW = nm_accel_pkg::LaneW
) (
  input  logic                          clk_i,
  input  logic                          write_i,
  input  logic                          write_bank_i,
  input  logic [$clog2(Rows+1)-1:0]     write_word_i,
  input  logic [Cols*LaneW-1:0]            write_data_i,
  input  logic                          read_i,
  input  logic                          read_bank_i,
  input  logic [$clog2(Rows+1)-1:0]     read_word_i,
  output logic [Cols*LaneW-1:0]            read_data_o
);
  localparam int Words = Rows + 1;
  localparam int AddrW = $clog2(2 * Words);

  if (Rows < 1 || Cols < 1 || LaneW < 1) begin : g_check_shape
    $error("nm_weight_buffer: Rows, Cols and LaneW must be at least 1");
  end

  logic [Cols*LaneW-1:0] mem_q [2*Words];
  logic [AddrW-1:0] write_address, read_address;

  assign write_address = write_bank_i ? AddrW'(Words) + AddrW'(write_word_i) : AddrW'(write_word_i);
  assign read_address  = read_bank_i  ? AddrW'(Words) + AddrW'(read_word_i)  : AddrW'(read_word_i);

  always_ff @(posedge clk_i) begin
    if (write_i) mem_q[write_address] <= write_data_i;
    if (read_i)  read_data_o <= mem_q[read_address];
  end
endmodule
