// IEEE binary32 arithmetic for the dequantization stage (rtl/README.md, "Dequantization"): round to nearest even
// with guard, round and sticky bits. Zero and subnormal operands count as zero, subnormal results flush to zero,
// overflow gives infinity, NaN is never produced nor handled: partial sums are integers and scales positive normal
// numbers, far from either end of the range. The C++ reference rounds the same way (float arithmetic, no FMA).
//
// Functions rather than modules so a caller evaluates them only in the cycles that need them (a sum arriving, a
// token draining): the same hardware, and a simulation that skips idle units. Leading zeros are counted with a
// five-level shifter tree, the normalizer a synthesis tool would build anyway.
//
// Included inside the modules that use it.

function automatic logic [31:0] fp32_from_int(input logic signed [31:0] value);
  logic        sign;
  logic [31:0] m;
  logic [5:0]  leading_zeros;
  logic        round_up;
  logic [23:0] fraction;
  logic [7:0]  exponent;
  sign = value[31];
  m = sign ? 32'(-value) : 32'(value);  // -(-2^31) wraps to 0x80000000 = 2^31, as wanted
  leading_zeros = 6'd0;
  if (m[31:16] == 16'd0) begin m = m << 16; leading_zeros = leading_zeros + 6'd16; end
  if (m[31:24] == 8'd0)  begin m = m << 8;  leading_zeros = leading_zeros + 6'd8;  end
  if (m[31:28] == 4'd0)  begin m = m << 4;  leading_zeros = leading_zeros + 6'd4;  end
  if (m[31:30] == 2'd0)  begin m = m << 2;  leading_zeros = leading_zeros + 6'd2;  end
  if (!m[31])            begin m = m << 1;  leading_zeros = leading_zeros + 6'd1;  end
  round_up = m[7] & ((|m[6:0]) | m[8]);
  fraction = {1'b0, m[30:8]} + {23'd0, round_up};
  exponent = 8'(9'd158 - {3'd0, leading_zeros}) + {7'd0, fraction[23]};
  fp32_from_int = value == 32'sd0 ? 32'd0 : {sign, exponent, fraction[22:0]};
endfunction

function automatic logic [31:0] fp32_mul(input logic [31:0] a, input logic [31:0] b);
  logic              sign;
  logic [47:0]       product;
  logic signed [9:0] exponent;
  logic [22:0]       fraction;
  logic              guard, sticky, round_up;
  logic [23:0]       rounded;
  sign     = a[31] ^ b[31];
  product  = {1'b1, a[22:0]} * {1'b1, b[22:0]};
  exponent = $signed({2'b0, a[30:23]}) + $signed({2'b0, b[30:23]}) - 10'sd127;
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
  if (a[30:23] == 8'd0 || b[30:23] == 8'd0 || exponent <= 0) fp32_mul = {sign, 31'd0};
  else if (exponent >= 10'sd255)                              fp32_mul = {sign, 8'hff, 23'd0};
  else                                                        fp32_mul = {sign, exponent[7:0], rounded[22:0]};
endfunction

function automatic logic [31:0] fp32_add(input logic [31:0] a, input logic [31:0] b);
  logic [31:0]       greater, lesser;
  logic [7:0]        shift;
  logic [26:0]       greater_m, lesser_m, lesser_shifted;
  logic [27:0]       sum;
  logic [31:0]       m;
  logic [4:0]        leading_zeros;
  logic signed [9:0] exponent;
  logic              round_up;
  logic [24:0]       rounded;
  if (a[30:0] < b[30:0]) begin greater = b; lesser = a; end
  else                   begin greater = a; lesser = b; end
  shift     = greater[30:23] - lesser[30:23];
  greater_m = {1'b1, greater[22:0], 3'b000};
  lesser_m  = {1'b1, lesser[22:0], 3'b000};
  if (shift >= 8'd27) begin
    lesser_shifted = 27'd1;  // everything below the round bit: sticky only
  end else begin
    lesser_shifted    = lesser_m >> shift;
    lesser_shifted[0] = lesser_shifted[0] | (|(lesser_m & ((27'd1 << shift) - 27'd1)));
  end
  exponent = $signed({2'b0, greater[30:23]});
  if (greater[31] == lesser[31]) begin
    sum = {1'b0, greater_m} + {1'b0, lesser_shifted};
    if (sum[27]) begin
      m = {sum[27:2], sum[1] | sum[0], 5'd0};
      exponent = exponent + 10'sd1;
    end else begin
      m = {sum[26:0], 5'd0};
    end
  end else begin
    // 27-bit difference in the top of 32 bits; it is non-zero here (equal magnitudes are handled below).
    m = {greater_m - lesser_shifted, 5'd0};
    leading_zeros = 5'd0;
    if (m[31:16] == 16'd0) begin m = m << 16; leading_zeros = leading_zeros + 5'd16; end
    if (m[31:24] == 8'd0)  begin m = m << 8;  leading_zeros = leading_zeros + 5'd8;  end
    if (m[31:28] == 4'd0)  begin m = m << 4;  leading_zeros = leading_zeros + 5'd4;  end
    if (m[31:30] == 2'd0)  begin m = m << 2;  leading_zeros = leading_zeros + 5'd2;  end
    if (!m[31])            begin m = m << 1;  leading_zeros = leading_zeros + 5'd1;  end
    exponent = exponent - $signed({5'd0, leading_zeros});
  end
  // m[31:8] = 24-bit significand, m[7] guard, m[6:5] round and sticky.
  round_up = m[7] & ((|m[6:5]) | m[8]);
  rounded  = {1'b0, m[31:8]} + {24'd0, round_up};
  if (rounded[24]) exponent = exponent + 10'sd1;

  if (a[30:23] == 8'd0 && b[30:23] == 8'd0)                   fp32_add = {a[31] & b[31], 31'd0};
  else if (a[30:23] == 8'd0)                                   fp32_add = b;
  else if (b[30:23] == 8'd0)                                   fp32_add = a;
  else if (greater[31] != lesser[31] && greater[30:0] == lesser[30:0]) fp32_add = 32'd0;
  else if (exponent <= 0)                                      fp32_add = {greater[31], 31'd0};
  else if (exponent >= 10'sd255)                               fp32_add = {greater[31], 8'hff, 23'd0};
  else fp32_add = {greater[31], exponent[7:0], rounded[24] ? rounded[23:1] : rounded[22:0]};
endfunction

// An fp16 scale of the fold stream, widened to binary32 exactly (normal and subnormal fp16 values are all normal in
// binary32; infinities and NaN keep their class), as the C++ side's fp16_bits_to_float_exact.
function automatic logic [31:0] fp32_from_fp16(input logic [15:0] half);
  logic [10:0] m;
  logic [7:0]  exponent;
  m = {1'b0, half[9:0]};
  exponent = 8'd113;  // a subnormal's value is m * 2^-24: exponent 1 - 15 before normalizing
  if (m[10:3] == 8'd0) begin m = m << 8; exponent = exponent - 8'd8; end
  if (m[10:7] == 4'd0) begin m = m << 4; exponent = exponent - 8'd4; end
  if (m[10:9] == 2'd0) begin m = m << 2; exponent = exponent - 8'd2; end
  if (!m[10])          begin m = m << 1; exponent = exponent - 8'd1; end
  if (half[14:10] == 5'd31)      fp32_from_fp16 = {half[15], 8'hff, half[9:0], 13'd0};
  else if (half[14:10] != 5'd0)  fp32_from_fp16 = {half[15], 8'(half[14:10]) + 8'd112, half[9:0], 13'd0};
  else if (half[9:0] == 10'd0)   fp32_from_fp16 = {half[15], 31'd0};
  else                           fp32_from_fp16 = {half[15], exponent, m[9:0], 13'd0};
endfunction
