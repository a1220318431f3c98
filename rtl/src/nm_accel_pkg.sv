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
  // A weight code has at most 8 bits (2..8 at run time), so has its zero point.
  localparam int unsigned CodeW /*verilator public*/ = 8;
  // Scales and outputs are IEEE binary32.
  localparam int unsigned ScaleW /*verilator public*/ = 32;

  // A slot's position inside its group.
  localparam int unsigned IdxW /*verilator public*/ = $clog2(MaxM);
  // A group vector: the MaxM activations a PE selects from.
  localparam int unsigned VecW /*verilator public*/ = MaxM * ActW;
  // The memory port (rtl/README.md, "Memory port"): at most one beat of PortBytes bytes per cycle; 512 bits, the
  // width of an FPGA DDR4 / HBM controller's AXI data bus.
  localparam int unsigned PortBytes /*verilator public*/ = 64;
  localparam int unsigned BeatW /*verilator public*/ = PortBytes * 8;
  // A weight field of the fold stream: a code (2..8 bits) and its position (0..IdxW bits), packed.
  localparam int unsigned FieldW /*verilator public*/ = CodeW + IdxW;
  // A header lane of the fold stream: the channel's fp16 scale and, asymmetric only, its zero point.
  localparam int unsigned HeaderLaneW /*verilator public*/ = 16 + CodeW;

endpackage
