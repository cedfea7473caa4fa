// stream_reorder: AXI-stream reorder of a frame's elements by a transpose (FINN's Shuffle, InnerShuffle
// and OuterShuffle: a Transpose that really changes the order of the stream), one element per beat.
//
// Maths: a frame is a tensor of N elements in row-major order of its input shape. The output walks the
//   transposed shape in row-major order; output element (c0, c1, c2, c3) (counters over the output
//   dims D0..D3, outermost first) is input element  a = c0*S0 + c1*S1 + c2*S2 + c3*S3  with S_k the input
//   stride of the input axis that output axis k is (hw/golden/stream_reorder.py ``walk_params`` merges
//   axes that stay adjacent and drops size-1 ones, so every transpose of any rank is <= 4 levels here
//   or is refused by the lowering). The address steps incrementally like an odometer: the innermost
//   counter that does not wrap adds its stride, every wrapping one below it subtracts (D_k - 1)*S_k;
//   after the last element every counter wraps and the address is back at 0.
//
// Structure: a frame memory of two banks of N elements (ping-pong): the writer fills one bank in
//   input order while the reader walks the other by the permuted address. `full_q[b]`: bank b holds a
//   whole frame not read out yet; the writer waits for its bank to be free, the reader for its bank
//   to be full. Double-buffered because any permutation may read the frame's last element first: with
//   one bank a frame is N cycles in, then N cycles out, 2N cycles per frame, half the rate of every
//   one-element-per-cycle block around it; two banks overlap them (N cycles per frame, the rate of
//   the stream) for 2N x ElemBits bits of memory (block RAM when large: synchronous read).
//   The read pipeline: a synchronous memory read into `rd_q` (held while the output stalls), then
//   axis_skid. A read is issued when the bank is full and `rd_q` is free or leaves in this cycle.
//
// Throughput: one element per cycle in and out; steady state N cycles per frame (the cycle model's
//   one beat per cycle); latency N + 3 cycles. Timing: s_axis_tready is a flip-flop; the read enable
//   depends on flip-flops only (the skid buffer's registered ready); m_axis_* are flip-flop outputs.
module stream_reorder #(
  parameter int unsigned ElemBits = 8,
  parameter int unsigned D0 = 1,  // output dims, outermost first (product = elements per frame)
  parameter int unsigned D1 = 1,
  parameter int unsigned D2 = 1,
  parameter int unsigned D3 = 4,
  parameter int unsigned S0 = 0,  // input stride of each output dim
  parameter int unsigned S1 = 0,
  parameter int unsigned S2 = 0,
  parameter int unsigned S3 = 1
) (
  input  logic                clk_i,
  input  logic                rst_ni,

  input  logic [ElemBits-1:0] s_axis_tdata,
  input  logic                s_axis_tvalid,
  output logic                s_axis_tready,

  output logic [ElemBits-1:0] m_axis_tdata,
  output logic                m_axis_tvalid,
  input  logic                m_axis_tready
);

  localparam int unsigned N  = D0 * D1 * D2 * D3;
  localparam int unsigned AW = (N > 1) ? $clog2(N) : 1;  // address within a bank
  localparam int unsigned Depth = (N > 1) ? N : 2;        // entries per bank (one frame)
  localparam int unsigned IW    = $clog2(2 * Depth);      // memory index: bank b at b * Depth
  localparam int unsigned Dim    [4] = '{D0, D1, D2, D3};
  localparam int unsigned Stride [4] = '{S0, S1, S2, S3};

  if (ElemBits < 1 || D0 < 1 || D1 < 1 || D2 < 1 || D3 < 1) begin : gen_err_param
    $fatal(1, "stream_reorder: ElemBits and D0..D3 must be >= 1");
  end

  // ------------------------------------------------------------ frame memory (two banks)
  logic [ElemBits-1:0] mem [2*Depth];
  logic [1:0]          full_q;
  logic                wbank_q, rbank_q;
  logic [AW-1:0]       waddr_q, raddr_q;

  function automatic logic [IW-1:0] index(logic bank, logic [AW-1:0] addr);
    return bank ? IW'(Depth) + IW'(addr) : IW'(addr);
  endfunction

  logic in_fire, wlast;
  assign s_axis_tready = !full_q[wbank_q];
  assign in_fire       = s_axis_tvalid && s_axis_tready;
  assign wlast         = waddr_q == AW'(N - 1);

  always_ff @(posedge clk_i) begin
    if (in_fire) mem[index(wbank_q, waddr_q)] <= s_axis_tdata;
  end

  // ------------------------------------------------------------ permuted read address (odometer)
  logic [AW-1:0] cnt_q [4];
  logic [AW-1:0] cnt_d [4];
  logic [AW-1:0] raddr_d;
  logic          rlast;  // every counter wraps: the frame's last element

  always_comb begin
    int addr;
    logic carry;
    addr  = int'(raddr_q);
    carry = 1'b1;
    for (int k = 3; k >= 0; k--) begin
      cnt_d[k] = cnt_q[k];
      if (carry) begin
        if (cnt_q[k] == AW'(Dim[k] - 1)) begin
          cnt_d[k] = '0;
          addr     = addr - int'((Dim[k] - 1) * Stride[k]);
        end else begin
          cnt_d[k] = cnt_q[k] + AW'(1);
          addr     = addr + int'(Stride[k]);
          carry    = 1'b0;
        end
      end
    end
    raddr_d = AW'(addr);
    rlast   = carry;
  end

  // ------------------------------------------------------------ read pipeline
  logic                rd_valid_q, skid_ready, advance, issue;
  logic [ElemBits-1:0] rd_q;
  assign advance = !rd_valid_q || skid_ready;
  assign issue   = advance && full_q[rbank_q];

  always_ff @(posedge clk_i) begin
    if (issue) rd_q <= mem[index(rbank_q, raddr_q)];
  end

  always_ff @(posedge clk_i) begin
    if (!rst_ni) begin
      full_q     <= '0;
      wbank_q    <= 1'b0;
      rbank_q    <= 1'b0;
      waddr_q    <= '0;
      raddr_q    <= '0;
      cnt_q      <= '{default: '0};
      rd_valid_q <= 1'b0;
    end else begin
      if (in_fire) begin
        waddr_q <= wlast ? '0 : waddr_q + AW'(1);
        if (wlast) wbank_q <= !wbank_q;
      end
      if (issue) begin
        raddr_q <= raddr_d;
        cnt_q   <= cnt_d;
        if (rlast) rbank_q <= !rbank_q;
      end
      // a bank fills on the writer's last element and empties on the reader's (never the same bank)
      for (int b = 0; b < 2; b++) begin
        if (in_fire && wlast && wbank_q == b[0]) full_q[b] <= 1'b1;
        if (issue && rlast && rbank_q == b[0]) full_q[b] <= 1'b0;
      end
      if (advance) rd_valid_q <= issue;
    end
  end

  axis_skid #(
    .DataWidth (ElemBits)
  ) u_skid (
    .clk_i,
    .rst_ni,
    .s_axis_tdata  (rd_q),
    .s_axis_tvalid (rd_valid_q),
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

endmodule : stream_reorder
