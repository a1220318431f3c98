// The fixed widths of the array's data formats (rtl/README.md, "Parameters and registers"), written down once.
// The modules derive their port and memory widths from these; rtl/CMakeLists.txt copies them into the C++ header
// nmscope/rtl/accel_layout.hpp for the harness and the DMA side (core/src/engines/fpga/systolic_run.cpp), and
// every Verilated model checks that copy against its own elaboration (`verilator public` exports them).
//
// rtl/CMakeLists.txt reads this file: one `localparam int unsigned Name = expression;` per line, the expression an
// integer, an earlier name, or +, *, $clog2 of those.
package nm_accel_pkg;

  // Largest group size M of an N:M pattern (why 8: rtl/README.md, "Why MaxM = 8").
  localparam int unsigned MaxM /*verilator public*/ = 8;
  // Activations are int8.
  localparam int unsigned ActW /*verilator public*/ = 8;
  // A weight code is stored in one byte whatever the bit width (2..8), so is its zero point.
  localparam int unsigned CodeW /*verilator public*/ = 8;
  // Scales and outputs are IEEE binary32.
  localparam int unsigned ScaleW /*verilator public*/ = 32;

  // A slot's position inside its group.
  localparam int unsigned IdxW /*verilator public*/ = $clog2(MaxM);
  // A group vector: the MaxM activations a PE selects from.
  localparam int unsigned VecW /*verilator public*/ = MaxM * ActW;
  // A weight lane, one per column of a weight word. Its widest use is the header's {zero point, scale}; a row's
  // {idx, code} fills its low CodeW + IdxW bits.
  localparam int unsigned LaneW /*verilator public*/ = CodeW + ScaleW;

endpackage
