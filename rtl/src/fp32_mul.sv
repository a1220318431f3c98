// IEEE binary32 multiply, round to nearest even, for normal operands (rtl/README.md, "Dequantization").
// Zero and subnormal operands count as zero and subnormal results flush to zero: the dequantization stage multiplies
// partial sums by positive normal scales, far from either end of the range. Overflow gives infinity.
module fp32_mul (
  input  logic [31:0] a_i,
  input  logic [31:0] b_i,
  output logic [31:0] result_o
);
  logic              sign;
  logic [47:0]       product;
  logic signed [9:0] exponent;
  logic [22:0]       fraction;
  logic              guard, sticky, round_up;
  logic [23:0]       rounded;

  always_comb begin
    sign     = a_i[31] ^ b_i[31];
    product  = {1'b1, a_i[22:0]} * {1'b1, b_i[22:0]};
    exponent = $signed({2'b0, a_i[30:23]}) + $signed({2'b0, b_i[30:23]}) - 10'sd127;
    if (product[47]) begin
      fraction = product[46:24];
      guard    = product[23];
      sticky   = |product[22:0];
      exponent = exponent + 10'sd1;
    end else begin
      fraction = product[45:23];
      guard    = product[22];
      sticky   = |product[21:0];
    end
    round_up = guard & (sticky | fraction[0]);
    rounded  = {1'b0, fraction} + {23'd0, round_up};
    if (rounded[23]) exponent = exponent + 10'sd1;
    if (a_i[30:23] == 8'd0 || b_i[30:23] == 8'd0 || exponent <= 0) result_o = {sign, 31'd0};
    else if (exponent >= 10'sd255)                                  result_o = {sign, 8'hff, 23'd0};
    else                                                            result_o = {sign, exponent[7:0], rounded[22:0]};
  end
endmodule
