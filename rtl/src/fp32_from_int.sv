// Signed 32-bit integer -> IEEE binary32, round to nearest even: exactly what C++ float(int32_t) gives.
// Used by the dequantization stage (rtl/README.md, "Dequantization"); partial sums of one fold stay below 2^24,
// so in practice the conversion is exact, but rounding is implemented for any input.
module fp32_from_int (
  input  logic signed [31:0] value_i,
  output logic [31:0]        result_o
);
  logic        sign;
  logic [31:0] magnitude;
  logic [5:0]  leading_zeros;
  /* verilator lint_off UNUSEDSIGNAL */  // bit 31 is the implicit leading one
  logic [31:0] normalized;
  /* verilator lint_on UNUSEDSIGNAL */
  logic        round_up;
  logic [23:0] fraction;   // one carry bit + 23 fraction bits
  logic [7:0]  exponent;

  always_comb begin
    sign      = value_i[31];
    magnitude = sign ? 32'(-value_i) : 32'(value_i);  // -(-2^31) wraps to 0x80000000 = 2^31, as wanted
    leading_zeros = 6'd32;
    for (int b = 0; b < 32; b++) if (magnitude[b]) leading_zeros = 6'(31 - b);
    normalized = magnitude << leading_zeros;
    round_up   = normalized[7] & ((|normalized[6:0]) | normalized[8]);
    fraction   = {1'b0, normalized[30:8]} + {23'd0, round_up};
    exponent   = 8'(9'd158 - {3'd0, leading_zeros}) + {7'd0, fraction[23]};
    result_o   = magnitude == 0 ? 32'd0 : {sign, exponent, fraction[22:0]};
  end
endmodule
