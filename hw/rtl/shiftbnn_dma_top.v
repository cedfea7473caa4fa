// shiftbnn_dma_top: shiftbnn_top with the TLAST an AXI DMA needs (the IP the block design instantiates).
//
// s_axis_tlast (from the DMA's MM2S, on the last beat of a transfer) is tracked by axis_tlast_gen,
// which raises m_axis_tlast on the output beat that completes the same number of images, so each
// S2MM transfer ends exactly with its batch. The parameters are set per build from rtl/top.json
// (CONFIG.* on the block-design cell). Plain Verilog so Vivado's IP packager takes it as a top.
// SHIFTBNN_WEIGHT_PORT defined (flow/vivado/build_bitstream.py prepends it for a top with run-time
// weights, top.json runtime_weights): s_axis_wgt passes through to the top, fed by the weight DMA.
module shiftbnn_dma_top #(
  parameter IN_WIDTH  = 8,   // top.json in_width
  parameter OUT_WIDTH = 8,   // top.json out_width
  parameter IN_BEATS  = 1,   // top.json in_beats_per_image
  parameter OUT_BEATS = 1,   // top.json out_beats_per_image
  parameter DEPTH     = 4    // DMA transfers in flight (power of two)
) (
  input  wire                 ap_clk,
  input  wire                 ap_rst_n,
  input  wire [IN_WIDTH-1:0]  s_axis_tdata,
  input  wire                 s_axis_tvalid,
  output wire                 s_axis_tready,
  input  wire                 s_axis_tlast,
  output wire [OUT_WIDTH-1:0] m_axis_tdata,
  output wire                 m_axis_tvalid,
  input  wire                 m_axis_tready,
`ifdef SHIFTBNN_WEIGHT_PORT
  input  wire [31:0]          s_axis_wgt_tdata,
  input  wire                 s_axis_wgt_tvalid,
  output wire                 s_axis_wgt_tready,
`endif
  output wire                 m_axis_tlast
);
  wire hold;
  wire core_tready;
  wire gate = s_axis_tlast & hold;  // a TLAST beat waits while the batch queue is full

  shiftbnn_top core (
    .ap_clk        (ap_clk),
    .ap_rst_n      (ap_rst_n),
    .s_axis_tdata  (s_axis_tdata),
    .s_axis_tvalid (s_axis_tvalid & ~gate),
    .s_axis_tready (core_tready),
    .m_axis_tdata  (m_axis_tdata),
    .m_axis_tvalid (m_axis_tvalid),
`ifdef SHIFTBNN_WEIGHT_PORT
    .s_axis_wgt_tdata  (s_axis_wgt_tdata),
    .s_axis_wgt_tvalid (s_axis_wgt_tvalid),
    .s_axis_wgt_tready (s_axis_wgt_tready),
`endif
    .m_axis_tready (m_axis_tready)
  );
  assign s_axis_tready = core_tready & ~gate;

  axis_tlast_gen #(
    .InBeatsPerImage  (IN_BEATS),
    .OutBeatsPerImage (OUT_BEATS),
    .Depth            (DEPTH)
  ) tlast (
    .clk_i      (ap_clk),
    .rst_ni     (ap_rst_n),
    .in_fire_i  (s_axis_tvalid & s_axis_tready),
    .in_last_i  (s_axis_tlast),
    .in_hold_o  (hold),
    .out_fire_i (m_axis_tvalid & m_axis_tready),
    .out_last_o (m_axis_tlast)
  );
endmodule
