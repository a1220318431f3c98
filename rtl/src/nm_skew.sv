// Delays lane r by r cycles, so that token t meets row r of the array one cycle after it met row r-1: the
// diagonal wavefront of a systolic array (rtl/README.md, "Timeline").
module nm_skew #(
  parameter int LANES = 16,
  parameter int WIDTH = 64
) (
  input  logic                    clk_i,
  input  logic                    rst_ni,
  input  logic                    valid_i,
  input  logic                    first_i,
  input  logic [LANES*WIDTH-1:0]  data_i,
  output logic [LANES-1:0]        valid_o,
  output logic [LANES-1:0]        first_o,
  output logic [LANES*WIDTH-1:0]  data_o
);

  assign valid_o[0]        = valid_i;
  assign first_o[0]        = first_i;
  assign data_o[0 +: WIDTH] = data_i[0 +: WIDTH];

  for (genvar lane = 1; lane < LANES; lane++) begin : g_lane
    logic [WIDTH-1:0] data_q  [lane];
    logic [lane-1:0]  valid_q;
    logic [lane-1:0]  first_q;
    always_ff @(posedge clk_i) begin
      data_q[0]  <= data_i[lane*WIDTH +: WIDTH];
      first_q    <= (first_q << 1) | lane'(first_i);
      for (int s = 1; s < lane; s++) data_q[s] <= data_q[s-1];
    end
    always_ff @(posedge clk_i or negedge rst_ni) begin
      if (!rst_ni) valid_q <= '0;
      else         valid_q <= (valid_q << 1) | lane'(valid_i);
    end
    assign valid_o[lane]              = valid_q[lane-1];
    assign first_o[lane]              = first_q[lane-1];
    assign data_o[lane*WIDTH +: WIDTH] = data_q[lane-1];
  end

endmodule
