// IEEE binary32 add, round to nearest even, with guard, round and sticky bits (rtl/README.md, "Dequantization").
// Zero and subnormal operands count as zero (x + 0 = x; +0 + -0 = +0), subnormal results flush to zero, overflow
// gives infinity; no NaN handling (the accumulators never see one).
module fp32_add (
  input  logic [31:0] a_i,
  input  logic [31:0] b_i,
  output logic [31:0] result_o
);
  logic              swap;
  logic [31:0]       greater, lesser;
  logic [7:0]        shift;
  logic [26:0]       greater_m, lesser_m, lesser_shifted;
  logic              sticky;
  logic [27:0]       sum;
  logic [26:0]       mantissa;
  logic [4:0]        leading_zeros;
  logic signed [9:0] exponent;
  logic              round_up;
  logic [24:0]       rounded;

  always_comb begin
    sum   = '0;
    swap  = a_i[30:0] < b_i[30:0];
    greater   = swap ? b_i : a_i;
    lesser = swap ? a_i : b_i;
    shift = greater[30:23] - lesser[30:23];
    greater_m   = {1'b1, greater[22:0], 3'b000};
    lesser_m = {1'b1, lesser[22:0], 3'b000};
    sticky  = 1'b0;
    if (shift >= 8'd27) begin
      lesser_shifted = 27'd1;  // everything below the round bit: sticky only
    end else begin
      lesser_shifted = lesser_m >> shift;
      sticky        = |(lesser_m & ((27'd1 << shift) - 27'd1));
      lesser_shifted[0] = lesser_shifted[0] | sticky;
    end
    exponent = $signed({2'b0, greater[30:23]});
    leading_zeros = 5'd0;
    if (greater[31] == lesser[31]) begin
      sum = {1'b0, greater_m} + {1'b0, lesser_shifted};
      if (sum[27]) begin
        mantissa = {sum[27:2], sum[1] | sum[0]};
        exponent = exponent + 10'sd1;
      end else begin
        mantissa = sum[26:0];
      end
    end else begin
      mantissa = greater_m - lesser_shifted;
      for (int b = 0; b < 27; b++) if (mantissa[b]) leading_zeros = 5'(26 - b);
      mantissa = mantissa << leading_zeros;
      exponent = exponent - $signed({5'd0, leading_zeros});
    end
    round_up = mantissa[2] & ((|mantissa[1:0]) | mantissa[3]);
    rounded  = {1'b0, mantissa[26:3]} + {24'd0, round_up};
    if (rounded[24]) exponent = exponent + 10'sd1;

    if (a_i[30:23] == 8'd0 && b_i[30:23] == 8'd0) result_o = {a_i[31] & b_i[31], 31'd0};
    else if (a_i[30:23] == 8'd0)                     result_o = b_i;
    else if (b_i[30:23] == 8'd0)                     result_o = a_i;
    else if (greater[31] != lesser[31] && greater[30:0] == lesser[30:0]) result_o = 32'd0;
    else if (exponent <= 0)                          result_o = {greater[31], 31'd0};
    else if (exponent >= 10'sd255)                   result_o = {greater[31], 8'hff, 23'd0};
    else                                             result_o = {greater[31], exponent[7:0], rounded[24] ? rounded[23:1] : rounded[22:0]};
  end
endmodule
