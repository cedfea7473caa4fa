// bnn_pool: streaming max / min / sum pool of any kernel, stride and padding on an NHWC feature-map
// stream, with its own line buffers (no sliding-window generator in front).
//
// Maths (hw/golden/bnn_pool.py): output (oy, ox, c) reduces the input positions
//   rows oy*SH - PadT + [0, KH), columns ox*SW - PadL + [0, KW), inside the InH x InW image;
// a pad position is no value (max: PyTorch's -inf padding; sum: a zero pad). Per channel the
// reduction is the max, or the min where MinMask[c] is set (SumMode = 0), or the sum (SumMode = 1).
//   Max / min compare the stored codes: signed if Signed, else unsigned; a bipolar map is stored as
//   bits (+1 -> 1), whose unsigned order is the bipolar order. The sum decodes each element
//   (Bipolar: bit b is 2b - 1; else signed / unsigned) and adds in OutBits-bit two's complement.
//
// Streams (FINN order, channels folded by PE, element 0 in the LSBs):
//   in : InH*InW*Channels/PE beats per image, order (y, x, cf); beat holds channels cf*PE + p.
//   out: OutH*OutW*Channels/PE beats in the same (oy, ox, cf) order; ElemBits (max) or OutBits (sum).
//
// Separable reduction: the block walks the padded grid of Rows x Cols positions, CF beats each (a pad
// position takes a cycle without reading the input); a position outside the image contributes the
// reduction's identity. Horizontally, NH = ceil(KW/SW) slots each hold the running reduction of one
// output column's window (slot j: columns ox = j mod NH) for every channel fold; the window's last
// column completes it, and at most one window completes per column (windows end at distinct columns).
// Vertically, NV = ceil(KH/SH) row buffers of OutW*CF words each hold the running reduction of one
// output row (slot i: rows oy = i mod NV); a completed horizontal value updates every active row
// buffer and completes at most one output, which is emitted instead of written. So one input
// position per cycle, at most one output beat per cycle: Rows * Cols * CF cycles per frame, where
//   Rows = max(PadT + InH, (OutH-1)*SH + KH), Cols = max(PadL + InW, (OutW-1)*SW + KW).
// Memories: NH x CF and NV x OutW*CF words of PE*AccW bits (LUTRAM, asynchronous read).
module bnn_pool #(
  parameter int unsigned          Channels = 4,
  parameter int unsigned          PE       = 2,
  parameter int unsigned          InH      = 4,
  parameter int unsigned          InW      = 4,
  parameter int unsigned          KH       = 2,
  parameter int unsigned          KW       = 2,
  parameter int unsigned          SH       = 2,
  parameter int unsigned          SW       = 2,
  parameter int unsigned          PadT     = 0,
  parameter int unsigned          PadL     = 0,
  parameter int unsigned          OutH     = 2,
  parameter int unsigned          OutW     = 2,
  parameter int unsigned          ElemBits = 1,
  parameter bit                   Signed   = 1'b0,
  parameter bit                   Bipolar  = 1'b0,
  parameter bit                   SumMode  = 1'b0,
  parameter int unsigned          OutBits  = ElemBits,
  parameter logic [Channels-1:0]  MinMask  = '0
) (
  input  logic                                      clk_i,
  input  logic                                      rst_ni,

  input  logic [PE*ElemBits-1:0]                    s_axis_tdata,
  input  logic                                      s_axis_tvalid,
  output logic                                      s_axis_tready,

  output logic [PE*(SumMode ? OutBits : ElemBits)-1:0] m_axis_tdata,
  output logic                                      m_axis_tvalid,
  input  logic                                      m_axis_tready
);

  localparam int unsigned CF    = Channels / PE;
  localparam int unsigned AccW  = SumMode ? OutBits : ElemBits;
  localparam int unsigned Width = PE * AccW;
  localparam int unsigned NH    = (KW + SW - 1) / SW;
  localparam int unsigned NV    = (KH + SH - 1) / SH;
  localparam int unsigned RowsA = PadT + InH;
  localparam int unsigned RowsB = (OutH - 1) * SH + KH;
  localparam int unsigned Rows  = RowsA > RowsB ? RowsA : RowsB;
  localparam int unsigned ColsA = PadL + InW;
  localparam int unsigned ColsB = (OutW - 1) * SW + KW;
  localparam int unsigned Cols  = ColsA > ColsB ? ColsA : ColsB;
  localparam int unsigned VDepth = OutW * CF;
  localparam int unsigned CfW   = CF > 1 ? $clog2(CF) : 1;
  localparam int unsigned RowW  = $clog2(Rows + 1);
  localparam int unsigned ColW  = $clog2(Cols + 1);
  localparam int unsigned VaW   = VDepth > 1 ? $clog2(VDepth) : 1;
  // slot counters: position inside the slot's window, from KW - NH*SW (waiting) to KW - 1
  localparam int unsigned HkW   = $clog2(NH * SW + KW + 1) + 1;
  localparam int unsigned VkW   = $clog2(NV * SH + KH + 1) + 1;
  localparam int unsigned OxW   = $clog2(OutW + NH + 1);
  localparam int unsigned OyW   = $clog2(OutH + NV + 1);

  if (Channels % PE != 0) begin : gen_err_pe
    $fatal(1, "bnn_pool: PE (%0d) must divide Channels (%0d)", PE, Channels);
  end
  if (KH < 1 || KW < 1 || SH < 1 || SW < 1 || OutH < 1 || OutW < 1) begin : gen_err_geom
    $fatal(1, "bnn_pool: kernel, stride and output sizes must be >= 1");
  end
  if (SumMode && OutBits < ElemBits + 1) begin : gen_err_out
    $fatal(1, "bnn_pool: OutBits (%0d) must exceed ElemBits (%0d) in SumMode", OutBits, ElemBits);
  end

  // ---------------------------------------------------------------- position in the padded grid
  logic [CfW-1:0]  cf_q;
  logic [RowW-1:0] py_q;
  logic [ColW-1:0] px_q;
  logic            real_pos, pos_valid, adv, out_ready, last_cf, last_col;

  logic past_top, past_left;  // no comparison with 0 (a constant one is a lint warning)
  if (PadT > 0) begin : gen_top
    assign past_top = 32'(py_q) >= PadT;
  end else begin : gen_no_top
    assign past_top = 1'b1;
  end
  if (PadL > 0) begin : gen_left
    assign past_left = 32'(px_q) >= PadL;
  end else begin : gen_no_left
    assign past_left = 1'b1;
  end
  assign real_pos  = past_top && 32'(py_q) < PadT + InH && past_left && 32'(px_q) < PadL + InW;
  assign pos_valid = real_pos ? s_axis_tvalid : 1'b1;
  assign adv       = pos_valid && out_ready;
  assign s_axis_tready = real_pos && out_ready;
  assign last_cf   = 32'(cf_q) == CF - 1;
  assign last_col  = 32'(px_q) == Cols - 1;

  always_ff @(posedge clk_i) begin
    if (!rst_ni) begin
      cf_q <= '0;
      px_q <= '0;
      py_q <= '0;
    end else if (adv) begin
      cf_q <= last_cf ? '0 : cf_q + 1'b1;
      if (last_cf) begin
        px_q <= last_col ? '0 : px_q + 1'b1;
        if (last_col) py_q <= (32'(py_q) == Rows - 1) ? '0 : py_q + 1'b1;
      end
    end
  end

  // ---------------------------------------------------------------- lane values
  logic [PE-1:0]    min_lane;   // lanes reducing with min (max mode)
  logic [Width-1:0] val;        // this position's values (identity at a pad position)
  assign min_lane = PE'(MinMask >> (32'(cf_q) * PE));

  for (genvar p = 0; p < PE; p++) begin : gen_val
    logic [ElemBits-1:0] code;
    logic [AccW-1:0]     ident, dec;
    assign code = s_axis_tdata[p*ElemBits +: ElemBits];
    if (SumMode) begin : gen_sum
      assign ident = '0;
      if (Bipolar) begin : gen_bip
        assign dec = code[0] ? AccW'(1) : '1;  // +1 / -1
      end else if (Signed) begin : gen_s
        assign dec = AccW'($signed(code));
      end else begin : gen_u
        assign dec = AccW'(code);
      end
    end else begin : gen_max
      // identity: the smallest code for a max, the largest for a min
      logic [AccW-1:0] lo, hi;
      assign lo = Signed ? AccW'(1) << (AccW - 1) : '0;
      assign hi = ~lo;
      assign ident = min_lane[p] ? hi : lo;
      assign dec = code;
    end
    assign val[p*AccW +: AccW] = real_pos ? dec : ident;
  end

  // op(a, b) per lane: a + b (sum), max or min (by lane)
  function automatic logic [Width-1:0] reduce(logic [Width-1:0] a, logic [Width-1:0] b, logic [PE-1:0] mn);
    logic [Width-1:0] r;
    for (int p = 0; p < PE; p++) begin
      logic [AccW-1:0] x, y;
      logic            x_ge;
      x = a[p*AccW +: AccW];
      y = b[p*AccW +: AccW];
      x_ge = Signed ? ($signed(x) >= $signed(y)) : (x >= y);
      if (SumMode) r[p*AccW +: AccW] = x + y;
      else r[p*AccW +: AccW] = (x_ge != mn[p]) ? x : y;
    end
    return r;
  endfunction

  // ---------------------------------------------------------------- horizontal windows
  logic signed [HkW-1:0] hk_q  [NH];
  logic [OxW-1:0]        hox_q [NH];
  logic [NH-1:0]         h_act, h_first, h_last;
  logic [Width-1:0]      h_new [NH];
  logic                  h_done;
  logic [Width-1:0]      h_val;

  for (genvar j = 0; j < NH; j++) begin : gen_h
    logic [Width-1:0] mem [CF];
    assign h_act[j]   = hk_q[j] >= 0 && 32'(hk_q[j]) < KW && 32'(hox_q[j]) < OutW;
    assign h_first[j] = hk_q[j] == 0;
    assign h_last[j]  = 32'(hk_q[j]) == KW - 1;
    assign h_new[j]   = h_first[j] ? val : reduce(mem[cf_q], val, min_lane);
    always_ff @(posedge clk_i) begin
      if (adv && h_act[j] && !h_last[j]) mem[cf_q] <= h_new[j];
    end
    // counters advance once per position (after its last channel fold), restart with each row
    always_ff @(posedge clk_i) begin
      if (!rst_ni || (adv && last_cf && last_col)) begin
        hk_q[j]  <= -HkW'(j * SW);
        hox_q[j] <= OxW'(j);
      end else if (adv && last_cf) begin
        if (h_act[j] && h_last[j]) begin
          hk_q[j]  <= HkW'(KW) - HkW'(NH * SW);
          hox_q[j] <= hox_q[j] + OxW'(NH);
        end else begin
          hk_q[j] <= hk_q[j] + 1'b1;
        end
      end
    end
  end

  always_comb begin
    h_done = 1'b0;
    h_val  = val;
    for (int j = 0; j < NH; j++) begin
      if (h_act[j] && h_last[j]) begin
        h_done = 1'b1;
        h_val  = h_new[j];
      end
    end
  end

  // column of the completed window in the row buffers: ox*CF + cf, counted per completed window
  logic [VaW-1:0] vbase_q, vaddr;
  assign vaddr = vbase_q + VaW'(cf_q);
  always_ff @(posedge clk_i) begin
    if (!rst_ni || (adv && last_cf && last_col)) vbase_q <= '0;
    else if (adv && last_cf && h_done) vbase_q <= vbase_q + VaW'(CF);
  end

  // ---------------------------------------------------------------- vertical windows
  logic signed [VkW-1:0] vk_q  [NV];
  logic [OyW-1:0]        voy_q [NV];
  logic [NV-1:0]         v_act, v_first, v_last;
  logic [Width-1:0]      v_new [NV];
  logic                  emit;
  logic [Width-1:0]      out_val;

  for (genvar i = 0; i < NV; i++) begin : gen_v
    logic [Width-1:0] mem [VDepth];
    assign v_act[i]   = vk_q[i] >= 0 && 32'(vk_q[i]) < KH && 32'(voy_q[i]) < OutH;
    assign v_first[i] = vk_q[i] == 0;
    assign v_last[i]  = 32'(vk_q[i]) == KH - 1;
    assign v_new[i]   = v_first[i] ? h_val : reduce(mem[vaddr], h_val, min_lane);
    always_ff @(posedge clk_i) begin
      if (adv && h_done && v_act[i] && !v_last[i]) mem[vaddr] <= v_new[i];
    end
    // counters advance once per row, restart with each frame
    always_ff @(posedge clk_i) begin
      if (!rst_ni || (adv && last_cf && last_col && 32'(py_q) == Rows - 1)) begin
        vk_q[i]  <= -VkW'(i * SH);
        voy_q[i] <= OyW'(i);
      end else if (adv && last_cf && last_col) begin
        if (v_act[i] && v_last[i]) begin
          vk_q[i]  <= VkW'(KH) - VkW'(NV * SH);
          voy_q[i] <= voy_q[i] + OyW'(NV);
        end else begin
          vk_q[i] <= vk_q[i] + 1'b1;
        end
      end
    end
  end

  always_comb begin
    emit    = 1'b0;
    out_val = h_val;
    for (int i = 0; i < NV; i++) begin
      if (h_done && v_act[i] && v_last[i]) begin
        emit    = 1'b1;
        out_val = v_new[i];
      end
    end
  end

  axis_skid #(
    .DataWidth (Width)
  ) u_out_skid (
    .clk_i,
    .rst_ni,
    .s_axis_tdata  (out_val),
    .s_axis_tvalid (pos_valid && emit),
    .s_axis_tready (out_ready),
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

endmodule : bnn_pool
