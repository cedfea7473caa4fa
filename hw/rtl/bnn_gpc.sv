// bnn_gpc: one counter of a compressor tree: y = the number of ones among x_i[Inputs-1:0] (all of one
// weight), in 3 bits of weights 1, 2, 4 (bnn_popcount's heap columns c, c+1, c+2).
//
// Inputs = 3: a full adder in one LUT6_2 (O6 = parity, O5 = majority; y[2] = 0): 3 bits -> 2.
// Inputs = 5..7: a generalized parallel counter on the carry chain (Kumm & Zipf's (6;3) with the carry
// input as a 7th bit), two LUT6_2 and two CARRY4 positions: 7 bits -> 3 for 2 LUTs, twice the bits a
// LUT6 6:3 counter (3 LUTs for 3 bits) removes per LUT. With x0..x5 in the LUTs and x6 the carry in:
//   position 0: S = parity(x0..x5), DI = parity(x0..x4) (= x5 whenever S = 0); adds S ? 1 : 2*x5
//   position 1: with c5 = x0 + .. + x4, S = (c5 in {2, 3}), DI = (c5 >= 4); adds floor(c5 / 2)'s share
//   so that out0 + 2*out1 + 4*carry = x0 + .. + x6 for every input (checked exhaustively in the unit
//   tests through bnn_popcount, and by hw/golden/bnn_popcount.py on the same truth tables).
module bnn_gpc #(
  parameter int unsigned Inputs = 7
) (
  input  logic [Inputs-1:0] x_i,
  output logic [2:0]        y_o
);

  if (Inputs != 3 && (Inputs < 5 || Inputs > 7)) begin : gen_err
    $fatal(1, "bnn_gpc: Inputs must be 3 or 5..7");
  end

  // INIT of a LUT6_2: lower half (O5, and O6 while I5 = 0) = f5(I4..I0), upper half = f6(I4..I0) (I5 = 1)
  function automatic logic [63:0] init(int kind);
    logic [63:0] t = '0;
    for (int i = 0; i < 32; i++) begin
      automatic int c5 = $countones(5'(i));
      automatic int c3 = $countones(3'(i));
      case (kind)
        0: begin t[i] = 1'(c5 % 2);  t[32 + i] = 1'((c5 + 1) % 2);      end  // counter position 0 (I5 = x5)
        1: begin t[i] = 1'(c5 >= 4); t[32 + i] = 1'(c5 == 2 || c5 == 3); end  // counter position 1 (I5 = 1)
        default: begin t[i] = 1'(c3 >= 2); t[32 + i] = 1'(c3 % 2);     end  // full adder (I5 = 1)
      endcase
    end
    return t;
  endfunction

  if (Inputs == 3) begin : gen_fa
    shiftbnn_lut6_2 #(
      .Init (init(2))
    ) u_lut (
      .i_i  ({3'b100, x_i}),
      .o5_o (y_o[1]),
      .o6_o (y_o[0])
    );
    assign y_o[2] = 1'b0;
  end else begin : gen_seg
    logic [5:0] x;
    logic       ci, s0, s1, d0, d1;
    logic [3:0] o, co;
    assign x  = 6'(x_i[Inputs > 6 ? 5 : Inputs-1 : 0]);
    assign ci = Inputs > 6 ? x_i[Inputs-1] : 1'b0;
    shiftbnn_lut6_2 #(
      .Init (init(0))
    ) u_lut0 (
      .i_i  (x),
      .o5_o (d0),
      .o6_o (s0)
    );
    shiftbnn_lut6_2 #(
      .Init (init(1))
    ) u_lut1 (
      .i_i  ({1'b1, x[4:0]}),
      .o5_o (d1),
      .o6_o (s1)
    );
    shiftbnn_carry4 u_carry (
      .ci_i (ci),
      .di_i ({2'b00, d1, d0}),
      .s_i  ({2'b00, s1, s0}),
      .o_o  (o),
      .co_o (co)
    );
    assign y_o = {co[1], o[1:0]};
    logic unused;
    assign unused = ^{o[3:2], co[3:2], co[0]};
  end

endmodule : bnn_gpc
