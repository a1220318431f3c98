// Delays lane r by r cycles, so that token t meets row r of the array one cycle after it met row r-1: the
// diagonal wavefront of a systolic array (rtl/README.md, "Timeline"). Each lane carries its data word and a few
// flag bits (the same flags enter every lane; each leaves its lane r cycles later).
module nm_skew #(
  parameter int Lanes = 16,
  parameter int Width = 64,
  parameter int Flags = 3
) (
  input  logic                    clk_i,
  input  logic                    rst_ni,
  input  logic [Flags-1:0]        flags_i,
  input  logic [Lanes*Width-1:0]  data_i,
  output logic [Lanes*Flags-1:0]  flags_o,
  output logic [Lanes*Width-1:0]  data_o
);

  if (Lanes < 1 || Width < 1 || Flags < 1) begin : g_check_lanes
    $error("nm_skew: Lanes, Width and Flags must be at least 1");
  end

  assign flags_o[0 +: Flags] = flags_i;
  assign data_o[0 +: Width]  = data_i[0 +: Width];

  for (genvar lane = 1; lane < Lanes; lane++) begin : g_lane
    logic [Width-1:0] data_q  [lane];
    logic [Flags-1:0] flags_q [lane];
    always_ff @(posedge clk_i) begin
      data_q[0] <= data_i[lane*Width +: Width];
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
    assign flags_o[lane*Flags +: Flags] = flags_q[lane-1];
    assign data_o[lane*Width +: Width]  = data_q[lane-1];
  end

endmodule
