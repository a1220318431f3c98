// Delays lane r by r cycles, so that token t meets row r of the array one cycle after it met row r-1: the
// diagonal wavefront of a systolic array (rtl/README.md, "Timeline"). Each lane carries its data word and a few
// flag bits (the same flags enter every lane; each leaves its lane r cycles later).
module nm_skew #(
  parameter int LANES = 16,
  parameter int WIDTH = 64,
  parameter int FLAGS = 3
) (
  input  logic                    clk_i,
  input  logic                    rst_ni,
  input  logic [FLAGS-1:0]        flags_i,
  input  logic [LANES*WIDTH-1:0]  data_i,
  output logic [LANES*FLAGS-1:0]  flags_o,
  output logic [LANES*WIDTH-1:0]  data_o
);

  assign flags_o[0 +: FLAGS] = flags_i;
  assign data_o[0 +: WIDTH]  = data_i[0 +: WIDTH];

  for (genvar lane = 1; lane < LANES; lane++) begin : g_lane
    logic [WIDTH-1:0] data_q  [lane];
    logic [FLAGS-1:0] flags_q [lane];
    always_ff @(posedge clk_i) begin
      data_q[0] <= data_i[lane*WIDTH +: WIDTH];
      for (int s = 1; s < lane; s++) data_q[s] <= data_q[s-1];
    end
    always_ff @(posedge clk_i or negedge rst_ni) begin
      if (!rst_ni) begin
        for (int s = 0; s < lane; s++) flags_q[s] <= '0;
      end else begin
        flags_q[0] <= flags_i;
        for (int s = 1; s < lane; s++) flags_q[s] <= flags_q[s-1];
      end
    end
    assign flags_o[lane*FLAGS +: FLAGS] = flags_q[lane-1];
    assign data_o[lane*WIDTH +: WIDTH]  = data_q[lane-1];
  end

endmodule
