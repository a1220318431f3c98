// Rows x Cols grid of nm_pe (rtl/README.md, "Dataflow: weight-stationary"). Row r holds slot r of the current fold for every output
// channel; column c is one output channel (row of W). Token t reaches row r at cycle t + r (nm_skew staggers the
// rows) and is broadcast to every column of that row; partial sums start at zero in row 0 and move one row down
// per cycle, so the bottom row emits one integer sum per (token, channel, fold), all columns in the same cycle.
//
// Why a row broadcast instead of passing activations PE to PE: the group vector is MaxM bytes wide, so a
// column-to-column pipeline would cost 64 flip-flops per PE for data that every PE of the row reads unchanged;
// broadcasting keeps a PE at its weight slot, its shadow and its partial sum, and lets all columns finish together.
module nm_array #(
  parameter int Rows  = 16,
  parameter int Cols  = 16,
  parameter int MaxM = nm_accel_pkg::MaxM,
  parameter int IdxW = $clog2(MaxM)
) (
  input  logic                          clk_i,
  input  logic                          rst_ni,
  // loader: one row of shadow slots per cycle, lane c = {idx, w}
  input  logic                          load_i,
  input  logic [$clog2(Rows+1)-1:0]     load_row_i,
  input  logic [Cols*(9+IdxW)-1:0]     load_slots_i,
  // left edge, one lane per row: swap (a cycle ahead of a fold's first token) and the token's group vector
  input  logic [Rows-1:0]               a_swap_i,
  input  logic [Rows*MaxM*nm_accel_pkg::ActW-1:0] a_vec_i,
  // a fold holds two scale groups, in the top and the bottom half of the rows (fixed for a run)
  input  logic                          lane_mode_i,
  // the token flags of the last row, which its sums carry out of the array
  input  logic                          last_valid_i,
  input  logic                          last_first_i,
  // bottom edge: the sums of one token, one lane per column
  output logic                          sum_valid_o,
  output logic                          sum_first_o,
  output logic [Cols*32-1:0]            sum_o,
  output logic [Cols*32-1:0]            tap_o    // the top half's part of sum_o, when lane_mode_i
);

  localparam int VecW = MaxM * nm_accel_pkg::ActW;
  localparam int SlotW = 9 + IdxW;

  if (Rows < 1 || Cols < 1) begin : g_check_shape
    $error("nm_array: needs at least one row and one column");
  end

  logic [(Rows+1)*Cols*32-1:0] psum_w;

  for (genvar r = 0; r < Rows; r++) begin : g_row
    logic load_row;
    assign load_row = load_i && (load_row_i == r[$clog2(Rows+1)-1:0]);
    for (genvar c = 0; c < Cols; c++) begin : g_col
      nm_pe #(.MaxM(MaxM), .IdxW(IdxW)) u_pe (
        .clk_i,
        .load_i     (load_row),
        .load_w_i   (load_slots_i[c*SlotW +: 9]),
        .load_idx_i (load_slots_i[c*SlotW+9 +: IdxW]),
        .swap_i     (a_swap_i[r]),
        .a_vec_i    (a_vec_i[r*VecW +: VecW]),
        .psum_i     (psum_w[(r*Cols+c)*32 +: 32]),
        .psum_o     (psum_w[((r+1)*Cols+c)*32 +: 32])
      );
    end
  end

  assign psum_w[Cols*32-1:0] = '0;
  assign sum_o = psum_w[Rows*Cols*32 +: Cols*32];

  // Two scale groups per fold (rtl/README.md): the partial sums leaving the top half are the first group's. A shift
  // register beside the bottom half carries them down in step with the sums, one row per cycle, so they reach the
  // bottom with their token. Clocked only in that mode (no cost otherwise, in hardware or simulation).
  // Simulation speed (docs/PERFORMANCE.md): one flat vector shifted by a whole stage, only in that mode. Stages as
  // separate signals chained through a packed wire made every cycle rebuild that wire slice by slice (~4 KB of
  // temporaries on 16x16); an unpacked array shifted in a loop rebuilt the whole array every cycle. The top half's
  // sums come through their own wire (tap_in): read inside the clocked block straight from psum_w, which every PE
  // writes, they made Verilator copy all of psum_w every cycle (0.14 M cycles/s).
  localparam int Half = Rows / 2;
  localparam int TapW = Cols * 32;
  logic [(Rows-Half)*TapW-1:0] tap_q;  // stage i at [i*TapW +: TapW]; flat, as Yosys 0.23 reads it
  logic [TapW-1:0] tap_in;
  assign tap_in = psum_w[Half*TapW +: TapW];
  always_ff @(posedge clk_i) begin
    if (lane_mode_i) tap_q <= {tap_q[(Rows-Half-1)*TapW-1:0], tap_in};
  end
  assign tap_o = tap_q[(Rows-Half-1)*TapW +: TapW];

  // The bottom row's sums are registered in the cycle token t passes row Rows-1; its flags follow them.
  always_ff @(posedge clk_i or negedge rst_ni) begin
    if (!rst_ni) sum_valid_o <= 1'b0;
    else         sum_valid_o <= last_valid_i;
  end
  always_ff @(posedge clk_i) sum_first_o <= last_first_i;

endmodule
