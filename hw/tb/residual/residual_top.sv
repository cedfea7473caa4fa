// residual_top: test harness for a Bi-Real-Net style residual loop (not part of hw/rtl):
//
//   s_axis -> stream_dup -+-> m0 -> branch A (tb_fifo with Lookahead K, lanes reversed) -> s0 -+
//                         +-> m1 -> shortcut (tb_fifo of ShortcutDepth)                  -> s1 -+-> stream_add -> m_axis
//
// Branch A stands in for a convolution branch: it must hold K = Lookahead beats before its first
// output (like a sliding-window buffer), then runs one in / one out, and drains at the end of each
// frame of FrameBeats beats. stream_add joins beat n of both branches, so the shortcut must hold the
// beats branch A is sitting on. With the shortcut full (ShortcutDepth + the 2 beats of stream_dup's
// m1 skid buffer), branch A has received one beat more (the fork hands a beat to m0 before m1 takes
// it): the loop deadlocks iff ShortcutDepth + 3 < K.
//
// tb_fifo is in tb_fifo.sv beside this file.
// Data: PE lanes of int8; y[p] = clamp(x[PE-1-p] + x[p], -128, 127) (int8 saturating residual add).
module residual_top #(
  parameter int unsigned PE            = 2,
  parameter int unsigned Lookahead     = 8,
  parameter int unsigned FrameBeats    = 24,
  parameter int unsigned ShortcutDepth = 8
) (
  input  logic            clk_i,
  input  logic            rst_ni,

  input  logic [PE*8-1:0] s_axis_tdata,
  input  logic            s_axis_tvalid,
  output logic            s_axis_tready,

  output logic [PE*8-1:0] m_axis_tdata,
  output logic            m_axis_tvalid,
  input  logic            m_axis_tready
);

  logic [PE*8-1:0] d0_data, d1_data, a_data, a_rev, sc_data;
  logic            d0_valid, d0_ready, d1_valid, d1_ready;
  logic            a_valid, a_ready, sc_valid, sc_ready;

  stream_dup #(
    .Width (PE * 8)
  ) u_dup (
    .clk_i, .rst_ni,
    .s_axis_tdata, .s_axis_tvalid, .s_axis_tready,
    .m0_axis_tdata (d0_data), .m0_axis_tvalid (d0_valid), .m0_axis_tready (d0_ready),
    .m1_axis_tdata (d1_data), .m1_axis_tvalid (d1_valid), .m1_axis_tready (d1_ready)
  );

  tb_fifo #(
    .Width (PE * 8), .Depth (Lookahead), .Lookahead (Lookahead), .FrameBeats (FrameBeats)
  ) u_branch_a (
    .clk_i, .rst_ni,
    .s_axis_tdata (d0_data), .s_axis_tvalid (d0_valid), .s_axis_tready (d0_ready),
    .m_axis_tdata (a_data), .m_axis_tvalid (a_valid), .m_axis_tready (a_ready)
  );

  for (genvar p = 0; p < PE; p++) begin : gen_rev
    assign a_rev[p*8 +: 8] = a_data[(PE-1-p)*8 +: 8];
  end

  tb_fifo #(
    .Width (PE * 8), .Depth (ShortcutDepth), .Lookahead (0), .FrameBeats (1)
  ) u_shortcut (
    .clk_i, .rst_ni,
    .s_axis_tdata (d1_data), .s_axis_tvalid (d1_valid), .s_axis_tready (d1_ready),
    .m_axis_tdata (sc_data), .m_axis_tvalid (sc_valid), .m_axis_tready (sc_ready)
  );

  stream_add #(
    .PE (PE), .ABits (8), .ASigned (1), .BBits (8), .BSigned (1),
    .OutBits (8), .Offset (0), .OutMin (-128), .OutMax (127)
  ) u_add (
    .clk_i, .rst_ni,
    .s0_axis_tdata (a_rev), .s0_axis_tvalid (a_valid), .s0_axis_tready (a_ready),
    .s1_axis_tdata (sc_data), .s1_axis_tvalid (sc_valid), .s1_axis_tready (sc_ready),
    .m_axis_tdata, .m_axis_tvalid, .m_axis_tready
  );

endmodule : residual_top
