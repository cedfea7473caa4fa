// Black boxes of the Xilinx primitives the shiftbnn RTL instantiates under SYNTHESIS (shiftbnn_lut6_2,
// shiftbnn_carry4), for yosys only: read_slang must know their ports and parameters, synth_xilinx then
// maps them to its own cell library. Vivado has them in unisim; never add this file to a Vivado project.
(* blackbox *)
module LUT6_2 #(
  parameter logic [63:0] INIT = 64'h0
) (
  output logic O5,
  output logic O6,
  input  logic I0,
  input  logic I1,
  input  logic I2,
  input  logic I3,
  input  logic I4,
  input  logic I5
);
endmodule

(* blackbox *)
module CARRY4 (
  output logic [3:0] CO,
  output logic [3:0] O,
  input  logic       CI,
  input  logic       CYINIT,
  input  logic [3:0] DI,
  input  logic [3:0] S
);
endmodule
