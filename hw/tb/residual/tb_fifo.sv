// tb_fifo: first-word-fall-through FIFO of Depth beats. Lookahead = 0: a plain FIFO. Lookahead = K:
// the output waits until K beats are held (or the frame of FrameBeats beats is complete; the input
// then pauses until the FIFO has drained), i.e. a block that consumes K beats before it emits.
module tb_fifo #(
  parameter int unsigned Width      = 8,
  parameter int unsigned Depth      = 4,
  parameter int unsigned Lookahead  = 0,
  parameter int unsigned FrameBeats = 1
) (
  input  logic             clk_i,
  input  logic             rst_ni,

  input  logic [Width-1:0] s_axis_tdata,
  input  logic             s_axis_tvalid,
  output logic             s_axis_tready,

  output logic [Width-1:0] m_axis_tdata,
  output logic             m_axis_tvalid,
  input  logic             m_axis_tready
);

  localparam int unsigned AW = Depth > 1 ? $clog2(Depth) : 1;
  localparam int unsigned CW = $clog2(Depth + 1);
  localparam int unsigned FW = FrameBeats > 1 ? $clog2(FrameBeats) : 1;

  logic [Width-1:0] mem [Depth];
  logic [AW-1:0]    wr_q, rd_q;
  logic [CW-1:0]    cnt_q;
  logic [FW-1:0]    pos_q;     // beat position in the frame
  logic             flush_q;   // frame complete: drain, take no input
  logic             push, pop;

  assign m_axis_tdata  = mem[rd_q];
  assign m_axis_tvalid = cnt_q != '0 && (Lookahead == 0 || 32'(cnt_q) >= Lookahead || flush_q);
  assign pop           = m_axis_tvalid && m_axis_tready;
  assign s_axis_tready = !flush_q && (32'(cnt_q) != Depth || pop);
  assign push          = s_axis_tvalid && s_axis_tready;

  always_ff @(posedge clk_i) begin
    if (!rst_ni) begin
      wr_q    <= '0;
      rd_q    <= '0;
      cnt_q   <= '0;
      pos_q   <= '0;
      flush_q <= 1'b0;
    end else begin
      if (push) wr_q <= (32'(wr_q) == Depth - 1) ? '0 : wr_q + 1'b1;
      if (pop)  rd_q <= (32'(rd_q) == Depth - 1) ? '0 : rd_q + 1'b1;
      cnt_q <= cnt_q + CW'(push) - CW'(pop);
      if (Lookahead != 0 && push) begin
        pos_q <= (32'(pos_q) == FrameBeats - 1) ? '0 : pos_q + 1'b1;
        if (32'(pos_q) == FrameBeats - 1) flush_q <= 1'b1;
      end
      if (flush_q && pop && cnt_q == CW'(1)) flush_q <= 1'b0;
    end
  end

  always_ff @(posedge clk_i) begin
    if (push) mem[wr_q] <= s_axis_tdata;
  end

endmodule : tb_fifo
