// One processing element of the N:M systolic array (rtl/README.md, "Dataflow: weight-stationary").
//
// Weight-stationary: the PE holds one compressed weight slot of docs/packed-format.md (the signed value code - z and
// the slot's position inside its group of M) and, for every token passing by, picks the activation at that position
// out of the group's MaxM-byte vector. A group of M columns therefore costs N PEs (N MACs), not M.
//
// The slot for the next fold is written into a shadow register while the current fold streams; swap_i, which runs
// one cycle ahead of the next fold's first token, makes it the active slot, so folds follow each other without a
// bubble. Activations are broadcast along the array row (nm_array.sv says why); partial sums move down one PE per
// cycle.
module nm_pe #(
  parameter int MaxM = nm_accel_pkg::MaxM,
  parameter int IdxW = $clog2(MaxM)
) (
  input  logic                    clk_i,
  // shadow slot, written by the loader (one array row per cycle)
  input  logic                    load_i,
  input  logic signed [8:0]       load_w_i,     // code - zero point (zero for positions >= M)
  input  logic [IdxW-1:0]        load_idx_i,   // position inside the group
  // this array row: the shadow becomes active after this cycle; the token's group vector
  input  logic                    swap_i,
  input  logic [MaxM*nm_accel_pkg::ActW-1:0] a_vec_i,
  // partial sum from the PE above
  input  logic signed [31:0]      psum_i,
  output logic signed [31:0]      psum_o
);

  localparam int ActW = nm_accel_pkg::ActW;

  if (MaxM < 2 || IdxW < $clog2(MaxM)) begin : g_check_group
    $error("nm_pe: MaxM must be at least 2 and IdxW wide enough to address each of its MaxM activations");
  end

  logic signed [8:0]  w_shadow_q, w_active_q;
  logic [IdxW-1:0]   idx_shadow_q, idx_active_q;
  logic signed [ActW-1:0] a_sel;
  logic signed [16:0] product;

  assign a_sel   = a_vec_i[idx_active_q*ActW +: ActW];
  assign product = w_active_q * a_sel;

  always_ff @(posedge clk_i) begin
    if (load_i) begin
      w_shadow_q   <= load_w_i;
      idx_shadow_q <= load_idx_i;
    end
    if (swap_i) begin
      w_active_q   <= w_shadow_q;
      idx_active_q <= idx_shadow_q;
    end
    // Sums of cycles without a token are never accumulated (their flags say so at the bottom): no gating needed.
    psum_o <= psum_i + 32'(product);
  end

endmodule
