// stream_subsample: AXI-stream subsample of an H x W map, the whole of a 1 x 1 sliding window (FINN's
// ConvolutionInputGenerator with ConvKernelDim [1, 1]); no line buffer.
//
// Maths: the frame streams row-major, Folds beats per pixel (a channel group of SIMD elements each,
//   SIMD any divisor of the channels: the beat is opaque here). Pixel (h, w) is kept iff
//     h % SH == 0,  w % SW == 0,  h / SH < OH,  w / SW < OW
//   (the window's output pixel (h / SH, w / SW)); a kept pixel's beats pass unchanged, the others are
//   dropped. Padding is FINN's FMPadding node before the window (the generator itself has none).
//   No divider: per axis a phase counter p (0 .. S - 1) and an output index o (h = o * S + p); the
//   column pair advances per pixel and restarts after column W - 1 (o, p) = ((W-1) / SW, (W-1) % SW);
//   the row pair advances there and restarts after the frame's last row (hw/golden/stream_subsample.py
//   ``phase_walk`` is the same walk, checked against the rule).
//
// Structure: the counters and the keep flag are flip-flops; a dropped beat is taken at once
//   (s_axis_tready = 1), a kept one when the output skid buffer has room (its registered ready).
//
// Throughput: one input beat per cycle whatever the output does with dropped beats: a frame takes its
//   H * W * Folds input beats (the cycle model's input beats). Latency 1 cycle (the skid buffer).
// Timing: s_axis_tready depends on flip-flops only; m_axis_* are flip-flop outputs.
module stream_subsample #(
  parameter int unsigned BeatBits = 8,  // SIMD x element bits
  parameter int unsigned Folds    = 1,  // beats per pixel (channels / SIMD)
  parameter int unsigned H        = 4,  // input map
  parameter int unsigned W        = 4,
  parameter int unsigned SH       = 2,  // strides
  parameter int unsigned SW       = 2,
  parameter int unsigned OH       = 2,  // output map
  parameter int unsigned OW       = 2
) (
  input  logic                clk_i,
  input  logic                rst_ni,

  input  logic [BeatBits-1:0] s_axis_tdata,
  input  logic                s_axis_tvalid,
  output logic                s_axis_tready,

  output logic [BeatBits-1:0] m_axis_tdata,
  output logic                m_axis_tvalid,
  input  logic                m_axis_tready
);

  localparam int unsigned LastPC = (W - 1) % SW;  // (o, p) of the last column and row
  localparam int unsigned LastOC = (W - 1) / SW;
  localparam int unsigned LastPR = (H - 1) % SH;
  localparam int unsigned LastOR = (H - 1) / SH;
  localparam int unsigned FW  = (Folds > 1) ? $clog2(Folds) : 1;
  localparam int unsigned PCW = (SW > 1) ? $clog2(SW) : 1;
  localparam int unsigned OCW = $clog2(LastOC + 2);  // holds LastOC and OW (<= LastOC + 1)
  localparam int unsigned PRW = (SH > 1) ? $clog2(SH) : 1;
  localparam int unsigned ORW = $clog2(LastOR + 2);

  if (BeatBits < 1 || Folds < 1 || H < 1 || W < 1 || SH < 1 || SW < 1 || OH < 1 || OW < 1) begin : gen_err_param
    $fatal(1, "stream_subsample: every parameter must be >= 1");
  end
  if ((OH - 1) * SH >= H || (OW - 1) * SW >= W) begin : gen_err_shape
    $fatal(1, "stream_subsample: the output map reads past the input map");
  end

  logic [FW-1:0]  fold_q;
  logic [PCW-1:0] pc_q;
  logic [OCW-1:0] oc_q;
  logic [PRW-1:0] pr_q;
  logic [ORW-1:0] or_q;
  logic           keep, skid_ready, in_fire, last_fold, last_col, last_row;

  assign keep          = pc_q == '0 && pr_q == '0 && oc_q < OCW'(OW) && or_q < ORW'(OH);
  assign s_axis_tready = !keep || skid_ready;
  assign in_fire       = s_axis_tvalid && s_axis_tready;
  assign last_fold     = fold_q == FW'(Folds - 1);
  assign last_col      = pc_q == PCW'(LastPC) && oc_q == OCW'(LastOC);
  assign last_row      = pr_q == PRW'(LastPR) && or_q == ORW'(LastOR);

  always_ff @(posedge clk_i) begin
    if (!rst_ni) begin
      fold_q <= '0;
      pc_q   <= '0;
      oc_q   <= '0;
      pr_q   <= '0;
      or_q   <= '0;
    end else if (in_fire) begin
      fold_q <= last_fold ? '0 : fold_q + FW'(1);
      if (last_fold) begin
        if (last_col) begin
          pc_q <= '0;
          oc_q <= '0;
          if (last_row) begin
            pr_q <= '0;
            or_q <= '0;
          end else if (pr_q == PRW'(SH - 1)) begin
            pr_q <= '0;
            or_q <= or_q + ORW'(1);
          end else begin
            pr_q <= pr_q + PRW'(1);
          end
        end else if (pc_q == PCW'(SW - 1)) begin
          pc_q <= '0;
          oc_q <= oc_q + OCW'(1);
        end else begin
          pc_q <= pc_q + PCW'(1);
        end
      end
    end
  end

  axis_skid #(
    .DataWidth (BeatBits)
  ) u_skid (
    .clk_i,
    .rst_ni,
    .s_axis_tdata,
    .s_axis_tvalid (s_axis_tvalid && keep),
    .s_axis_tready (skid_ready),
    .m_axis_tdata,
    .m_axis_tvalid,
    .m_axis_tready
  );

  // valid/ready never X/Z out of reset (simulation only)
  shiftbnn_assert_known #(
    .Width (2)
  ) u_assert_known (
    .clk_i,
    .rst_ni,
    .sig_i ({s_axis_tvalid, m_axis_tready})
  );

endmodule : stream_subsample
