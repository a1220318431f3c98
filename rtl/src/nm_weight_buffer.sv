// Double-buffered weight memory (rtl/README.md, "Memories"): bank b holds one fold's stream exactly as the memory
// port delivered it, beat by beat (BeatW bits each; layout: docs/packed-format.md, "The FPGA array's fold stream"),
// so weights sit on chip bit-packed. The port writes one beat per cycle into the bank the loader is not reading.
// The loader reads ReadBeats consecutive beats per cycle (a row of the fold may straddle beats), so each bank is
// interleaved over ReadBeats memories (beat i in memory i mod ReadBeats), each a simple dual-port memory.
// Synchronous read: block RAM.
module nm_weight_buffer #(
  parameter int Rows = 16,
  parameter int Cols = 16,
  parameter int BeatW = nm_accel_pkg::BeatW,
  parameter int ReadBeats = 2
) (
  input  logic                         clk_i,
  input  logic                         write_i,
  input  logic                         write_bank_i,
  input  logic [7:0]                   write_beat_i,
  input  logic [BeatW-1:0]             write_data_i,
  input  logic                         read_i,
  input  logic                         read_bank_i,
  input  logic [7:0]                   read_beat_i,
  output logic [ReadBeats*BeatW-1:0]   read_data_o   // beats read_beat_i + ReadBeats - 1 .. read_beat_i
);
  // The longest fold stream: two headers (two scale groups per fold) and Rows full rows at the widest fields;
  // ReadBeats - 1 beats more, so a read never leaves the bank.
  localparam int StreamBits = 2 * Cols * nm_accel_pkg::HeaderLaneW + Rows * Cols * nm_accel_pkg::FieldW;
  localparam int Beats = (StreamBits + BeatW - 1) / BeatW + ReadBeats - 1;
  localparam int Depth = (Beats + ReadBeats - 1) / ReadBeats;  // beats per memory and bank
  localparam int AddrW = $clog2(2 * Depth);
  localparam int WayW = ReadBeats > 1 ? $clog2(ReadBeats) : 1;

  if (Beats > 255 || ReadBeats < 1) begin : g_check_depth
    $error("nm_weight_buffer: a fold stream of %0d beats does not fit the 8-bit beat index", Beats);
  end

  logic [BeatW-1:0] data_q [ReadBeats];
  logic [WayW-1:0]  first_way_q;  // the memory that holds the read's first beat
  logic [7:0]       first_way;
  assign first_way = read_beat_i % 8'(ReadBeats);

  for (genvar j = 0; j < ReadBeats; j++) begin : g_way
    logic [BeatW-1:0] mem_q [2*Depth];
    logic [7:0]       read_beat;
    // The beat of this read that lives in memory j: the first one at or after read_beat_i with index j mod ReadBeats.
    assign read_beat = read_beat_i + (8'(j) + 8'(ReadBeats) - first_way) % 8'(ReadBeats);
    always_ff @(posedge clk_i) begin
      if (write_i && write_beat_i % 8'(ReadBeats) == 8'(j))
        mem_q[AddrW'(write_bank_i ? Depth : 0) + AddrW'(write_beat_i / 8'(ReadBeats))] <= write_data_i;
      if (read_i) data_q[j] <= mem_q[AddrW'(read_bank_i ? Depth : 0) + AddrW'(read_beat / 8'(ReadBeats))];
    end
  end

  always_ff @(posedge clk_i) begin
    if (read_i) first_way_q <= WayW'(first_way);
  end
  always_comb begin
    for (int k = 0; k < ReadBeats; k++) read_data_o[k*BeatW +: BeatW] = data_q[(32'(first_way_q) + k) % ReadBeats];
  end
endmodule
