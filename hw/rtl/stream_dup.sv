// stream_dup: duplicates one AXI stream onto two outputs (FINN DuplicateStreams with 2 outputs), e.g.
// the fork of a Bi-Real-Net residual block into the conv branch and the shortcut.
//
// Maths: m0[n] = m1[n] = s[n] for every input beat n, in order; no beat lost or repeated.
//
// Streams: Width-bit beats on all three ports (the data is not interpreted; FINN packing is kept).
//
// Structure: a fork into one axis_skid per output. The input beat is offered to both skid buffers;
// `sent_q[i]` remembers that output i already took it, so each output accepts the beat in its own
// cycle and s_axis_tready rises once both have it. Each output thus stalls independently by up to
// the two beats its skid buffer holds; a longer stall on one output stops the input (and so the
// other output after its buffer drains) - a residual loop must put its own FIFO on the shortcut.
//
// Timing: s_axis_tready is a function of flip-flops only (sent_q and the skid buffers' registered
// ready): no combinational path from m0/m1_axis_tready (or s_axis_tvalid) to s_axis_tready.
// m*_axis_* are flip-flop outputs. Latency 1 cycle; 1 beat/cycle when neither output stalls.
module stream_dup #(
  parameter int unsigned Width = 8
) (
  input  logic             clk_i,
  input  logic             rst_ni,

  input  logic [Width-1:0] s_axis_tdata,
  input  logic             s_axis_tvalid,
  output logic             s_axis_tready,

  output logic [Width-1:0] m0_axis_tdata,
  output logic             m0_axis_tvalid,
  input  logic             m0_axis_tready,

  output logic [Width-1:0] m1_axis_tdata,
  output logic             m1_axis_tvalid,
  input  logic             m1_axis_tready
);

  if (Width < 1) begin : gen_err_width
    $fatal(1, "stream_dup: Width must be >= 1");
  end

  logic [1:0] sent_q, sent_d;   // output i already holds the current input beat
  logic [1:0] skid_valid, skid_ready;
  logic       fire;

  // The input beat is done when every output has it, or takes it in this cycle.
  assign s_axis_tready = &(sent_q | skid_ready);
  assign fire          = s_axis_tvalid && s_axis_tready;
  assign skid_valid    = {2{s_axis_tvalid}} & ~sent_q;

  always_comb begin
    sent_d = sent_q | (skid_valid & skid_ready);
    if (fire) sent_d = '0;
  end

  always_ff @(posedge clk_i) begin
    if (!rst_ni) sent_q <= '0;
    else         sent_q <= sent_d;
  end

  axis_skid #(
    .DataWidth (Width)
  ) u_skid0 (
    .clk_i,
    .rst_ni,
    .s_axis_tdata  (s_axis_tdata),
    .s_axis_tvalid (skid_valid[0]),
    .s_axis_tready (skid_ready[0]),
    .m_axis_tdata  (m0_axis_tdata),
    .m_axis_tvalid (m0_axis_tvalid),
    .m_axis_tready (m0_axis_tready)
  );

  axis_skid #(
    .DataWidth (Width)
  ) u_skid1 (
    .clk_i,
    .rst_ni,
    .s_axis_tdata  (s_axis_tdata),
    .s_axis_tvalid (skid_valid[1]),
    .s_axis_tready (skid_ready[1]),
    .m_axis_tdata  (m1_axis_tdata),
    .m_axis_tvalid (m1_axis_tvalid),
    .m_axis_tready (m1_axis_tready)
  );

  // valid/ready never X/Z out of reset (simulation only)
  shiftbnn_assert_known #(
    .Width (3)
  ) u_assert_known (
    .clk_i,
    .rst_ni,
    .sig_i ({s_axis_tvalid, m0_axis_tready, m1_axis_tready})
  );

endmodule : stream_dup
