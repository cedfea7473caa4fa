// bnn_add3: y = a + b + c (mod 2^Width), the final adder of a compressor tree, in one LUT6_2 per bit on
// the carry chain (the Xilinx ternary adder): bit k's LUT sees a[k], b[k], c[k] and m[k-1], the
// majority of bit k-1 that the LUT below passes up on its O5; O6 = a ^ b ^ c ^ m[k-1] drives the chain
// and DI = m[k-1]: the chain adds (a ^ b ^ c)[k] + m[k-1] at bit k, and the sum over k of
// 2^k ((a ^ b ^ c)[k] + 2 m[k]) is a + b + c. A two-row add (c = 0) costs the same one LUT per bit.
module bnn_add3 #(
  parameter int unsigned Width = 8
) (
  input  logic [Width-1:0] a_i,
  input  logic [Width-1:0] b_i,
  input  logic [Width-1:0] c_i,
  output logic [Width-1:0] y_o
);

  localparam int unsigned Quads = (Width + 3) / 4;

  if (Width < 1) begin : gen_err
    $fatal(1, "bnn_add3: Width must be >= 1");
  end

  function automatic logic [63:0] init();  // lower: maj(I2..I0) (O5); upper: I0 ^ I1 ^ I2 ^ I3 (I5 = 1)
    logic [63:0] t = '0;
    for (int i = 0; i < 32; i++) begin
      t[i]      = 1'($countones(3'(i)) >= 2);
      t[32 + i] = 1'($countones(4'(i)) % 2);
    end
    return t;
  endfunction

  logic [4*Quads-1:0] s, di, o;

  // one signal per bit and per CARRY4 for the chains (m, carry), so that a simulator sees no loop
  for (genvar k = 0; k < 4 * Quads; k++) begin : gen_bit
    if (k < Width) begin : gen_lut
      logic m;  // the majority of bit k, passed to bit k+1
      logic m_below;
      if (k == 0) begin : gen_first
        assign m_below = 1'b0;
      end else begin : gen_next
        assign m_below = gen_bit[k-1].gen_lut.m;
      end
      shiftbnn_lut6_2 #(
        .Init (init())
      ) u_lut (
        .i_i  ({2'b10, m_below, c_i[k], b_i[k], a_i[k]}),
        .o5_o (m),
        .o6_o (s[k])
      );
      assign di[k] = m_below;
    end else begin : gen_pad
      assign s[k]  = 1'b0;
      assign di[k] = 1'b0;
    end
  end
  for (genvar q = 0; q < Quads; q++) begin : gen_quad
    logic [3:0] co;
    logic       ci;
    if (q == 0) begin : gen_first
      assign ci = 1'b0;
    end else begin : gen_next
      assign ci = gen_quad[q-1].co[3];
    end
    logic unused_co;
    assign unused_co = ^co[2:0];
    shiftbnn_carry4 #(
      .Chained (q > 0)
    ) u_carry (
      .ci_i (ci),
      .di_i (di[4*q +: 4]),
      .s_i  (s[4*q +: 4]),
      .o_o  (o[4*q +: 4]),
      .co_o (co)
    );
  end
  assign y_o = o[Width-1:0];

  logic unused;  // the chain's top carry (mod 2^Width) and the padding positions
  assign unused = ^{o, gen_bit[Width-1].gen_lut.m, gen_quad[Quads-1].co[3]};

endmodule : bnn_add3
