// A stand-in for the generated shiftbnn_top, for the DMA wrapper test: per image 3 input beats of
// 16 bits -> 2 output beats of 8 bits (sum of the 6 input bytes mod 256, then the image index mod
// 256), through a 4-image result queue so the input runs ahead of the output.
/* verilator lint_off DECLFILENAME */
module shiftbnn_top (
  input  logic        ap_clk,
  input  logic        ap_rst_n,
  input  logic [15:0] s_axis_tdata,
  input  logic        s_axis_tvalid,
  output logic        s_axis_tready,
  output logic [7:0]  m_axis_tdata,
  output logic        m_axis_tvalid,
`ifdef SHIFTBNN_WEIGHT_PORT  // a top with run-time weights: the stand-in takes every beat and ignores it
  /* verilator lint_off UNUSEDSIGNAL */
  input  logic [31:0] s_axis_wgt_tdata,
  input  logic        s_axis_wgt_tvalid,
  /* verilator lint_on UNUSEDSIGNAL */
  output logic        s_axis_wgt_tready,
`endif
  input  logic        m_axis_tready
);
`ifdef SHIFTBNN_WEIGHT_PORT
  assign s_axis_wgt_tready = 1'b1;
`endif
  logic [1:0]  beat_q;
  logic [7:0]  sum_q, idx_q, sum_d;
  logic [15:0] queue_q [4];
  logic [2:0]  wr_q, rd_q;
  logic        obeat_q;

  always_comb begin
    s_axis_tready = (wr_q - rd_q) != 3'd4;
    sum_d         = sum_q + s_axis_tdata[7:0] + s_axis_tdata[15:8];
    m_axis_tvalid = wr_q != rd_q;
    m_axis_tdata  = obeat_q ? queue_q[rd_q[1:0]][15:8] : queue_q[rd_q[1:0]][7:0];
  end

  always_ff @(posedge ap_clk) begin
    if (!ap_rst_n) begin
      beat_q <= '0; sum_q <= '0; idx_q <= '0; wr_q <= '0; rd_q <= '0; obeat_q <= 1'b0;
    end else begin
      if (s_axis_tvalid && s_axis_tready) begin
        if (beat_q == 2'd2) begin
          queue_q[wr_q[1:0]] <= {idx_q, sum_d};
          wr_q   <= wr_q + 3'd1;
          idx_q  <= idx_q + 8'd1;
          sum_q  <= '0;
          beat_q <= '0;
        end else begin
          sum_q  <= sum_d;
          beat_q <= beat_q + 2'd1;
        end
      end
      if (m_axis_tvalid && m_axis_tready) begin
        obeat_q <= ~obeat_q;
        if (obeat_q) rd_q <= rd_q + 3'd1;
      end
    end
  end
endmodule
