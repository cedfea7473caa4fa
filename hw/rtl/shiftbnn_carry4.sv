// shiftbnn_carry4: the 7-series carry chain element (CARRY4): per position k, o_o[k] = s_i[k] ^ c[k] and
// c[k+1] = s_i[k] ? c[k] : di_i[k], with c[0] = ci_i; co_o[k] = c[k+1]. A position adds the value
// s ? 1 : 2 * di (0, 1 or 2) to the chain. Synthesis instantiates the primitive (CI from the previous
// element when chained, else CYINIT); simulation uses the same equations. UltraScale tools retarget
// CARRY4 to CARRY8.
module shiftbnn_carry4 #(
  parameter bit Chained = 1'b0  // ci_i comes from the previous shiftbnn_carry4's co_o[3]
) (
  input  logic       ci_i,
  input  logic [3:0] di_i,
  input  logic [3:0] s_i,
  output logic [3:0] o_o,
  output logic [3:0] co_o
);

`ifdef SYNTHESIS
  CARRY4 u_carry (
    .CO     (co_o),
    .O      (o_o),
    .CI     (Chained ? ci_i : 1'b0),
    .CYINIT (Chained ? 1'b0 : ci_i),
    .DI     (di_i),
    .S      (s_i)
  );
`else
  always_comb begin  // one process: the chain is no combinational loop to a simulator
    logic c;
    c = ci_i;
    for (int k = 0; k < 4; k++) begin
      o_o[k]  = s_i[k] ^ c;
      c       = s_i[k] ? c : di_i[k];
      co_o[k] = c;
    end
  end
  logic unused_chained;
  assign unused_chained = Chained;
`endif

endmodule : shiftbnn_carry4
