// shiftbnn_lut6_2: one LUT6 with both outputs (Xilinx 7-series / UltraScale LUT6_2): O6 = INIT[I5..I0],
// O5 = INIT[I4..I0] (the lower half). Tie I5 high to get two independent functions of I0..I4.
// Synthesis (SYNTHESIS defined: Vivado, yosys) instantiates the primitive, so that a compressor keeps its
// two-output LUTs (yosys never maps to LUT6_2 itself); simulation uses the same truth table.
module shiftbnn_lut6_2 #(
  parameter logic [63:0] Init = 64'h0
) (
  input  logic [5:0] i_i,
  output logic       o5_o,
  output logic       o6_o
);

`ifdef SYNTHESIS
  LUT6_2 #(
    .INIT (Init)
  ) u_lut (
    .O5 (o5_o),
    .O6 (o6_o),
    .I0 (i_i[0]),
    .I1 (i_i[1]),
    .I2 (i_i[2]),
    .I3 (i_i[3]),
    .I4 (i_i[4]),
    .I5 (i_i[5])
  );
`else
  assign o6_o = Init[i_i];
  assign o5_o = Init[{1'b0, i_i[4:0]}];
`endif

endmodule : shiftbnn_lut6_2
