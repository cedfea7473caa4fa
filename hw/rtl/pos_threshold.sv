// pos_threshold: thresholds (or an offset) indexed by the border class of the output position, on the
// accumulator stream of a matrix-vector unit without activation (the zero-padding correction of a
// binary convolution: hw/golden/pos_threshold.py, flow/compiler/transforms/bipolar_pad.py).
//
// Maths, per position (y, x) of the OutH x OutW map and channel c, with k the border class:
//   NumThresholds > 0:  out = OutBias + #{n < NumThresholds : acc >= T[k][c][n]}
//   NumThresholds = 0:  out = AccScale * acc + O[k][c]                    (offset mode)
// acc is InBits wide (two's complement if InSigned), T / O are ThrBits-bit two's complement, out is
// the low OutBits bits of the result (two's complement where it is negative).
// Border classes: rows 0 .. RowTop-1 and the last RowBot rows are one class each, the rows between
// one class (RowTop + 1 + RowBot row classes, RowTop + RowBot < OutH); columns likewise with ColLeft
// and ColRight; k = row class * (ColLeft + 1 + ColRight) + column class.
//
// Streams (FINN order, channels folded by PE, element 0 in the LSBs):
//   in : OutH*OutW*Channels/PE beats per image, order (y, x, cf); beat holds channels cf*PE + p.
//   out: the same beats, OutBits per element.
//
// Table: Classes*CF words of PE*max(NumThresholds,1)*ThrBits bits in TableFile ($readmemh, one hex word
// per line), word k*CF + cf holds lane p's value n at [(p*NT + n)*ThrBits +: ThrBits]. It is read
// synchronously (the synthesis tool picks block RAM or a LUT ROM) while the beat waits in one register
// stage; one beat per cycle, the input stalls only when the output skid buffer is full.
module pos_threshold #(
  parameter int unsigned Channels      = 4,
  parameter int unsigned PE            = 2,
  parameter int unsigned OutH          = 3,
  parameter int unsigned OutW          = 3,
  parameter int unsigned RowTop        = 1,
  parameter int unsigned RowBot        = 1,
  parameter int unsigned ColLeft       = 1,
  parameter int unsigned ColRight      = 1,
  parameter int unsigned InBits        = 6,
  parameter bit          InSigned      = 1'b1,
  parameter int unsigned NumThresholds = 1,
  parameter int unsigned ThrBits       = 7,
  parameter int unsigned OutBits       = 1,
  parameter int          OutBias       = 0,
  parameter int unsigned AccScale      = 1,
  parameter string       TableFile     = ""
) (
  input  logic                    clk_i,
  input  logic                    rst_ni,

  input  logic [PE*InBits-1:0]    s_axis_tdata,
  input  logic                    s_axis_tvalid,
  output logic                    s_axis_tready,

  output logic [PE*OutBits-1:0]   m_axis_tdata,
  output logic                    m_axis_tvalid,
  input  logic                    m_axis_tready
);

  localparam int unsigned CF      = Channels / PE;
  localparam int unsigned NT      = NumThresholds > 0 ? NumThresholds : 1;
  localparam int unsigned RowCls  = RowTop + 1 + RowBot;
  localparam int unsigned ColCls  = ColLeft + 1 + ColRight;
  localparam int unsigned Depth   = RowCls * ColCls * CF;
  localparam int unsigned WordW   = PE * NT * ThrBits;
  localparam int unsigned AW      = Depth > 1 ? $clog2(Depth) : 1;
  localparam int unsigned CfW     = CF > 1 ? $clog2(CF) : 1;
  localparam int unsigned YW      = $clog2(OutH + 1);
  localparam int unsigned XW      = $clog2(OutW + 1);
  // comparison / sum width: both operands and the scaled accumulator fit, plus a sign bit
  localparam int unsigned CmpW    = (InBits > ThrBits ? InBits : ThrBits) + 3;

  if (Channels % PE != 0) begin : gen_err_pe
    $fatal(1, "pos_threshold: PE (%0d) must divide Channels (%0d)", PE, Channels);
  end
  if (RowTop + RowBot >= OutH || ColLeft + ColRight >= OutW) begin : gen_err_cls
    $fatal(1, "pos_threshold: the border classes leave no interior row / column");
  end
  if (AccScale < 1 || AccScale > 2) begin : gen_err_scale
    $fatal(1, "pos_threshold: AccScale must be 1 or 2");
  end

  // ---------------------------------------------------------------- position and class
  logic [CfW-1:0] cf_q;
  logic [XW-1:0]  x_q;
  logic [YW-1:0]  y_q;
  logic           out_ready, fire;

  assign s_axis_tready = out_ready;
  assign fire = s_axis_tvalid && out_ready;

  always_ff @(posedge clk_i) begin
    if (!rst_ni) begin
      cf_q <= '0;
      x_q  <= '0;
      y_q  <= '0;
    end else if (fire) begin
      cf_q <= (32'(cf_q) == CF - 1) ? '0 : cf_q + 1'b1;
      if (32'(cf_q) == CF - 1) begin
        x_q <= (32'(x_q) == OutW - 1) ? '0 : x_q + 1'b1;
        if (32'(x_q) == OutW - 1) y_q <= (32'(y_q) == OutH - 1) ? '0 : y_q + 1'b1;
      end
    end
  end

  // axis_class of hw/golden/pos_threshold.py
  function automatic int unsigned axis_class(int unsigned i, int unsigned size, int unsigned top,
                                             int unsigned bottom);
    if (i < top) return i;
    if (i >= size - bottom) return top + 1 + i - (size - bottom);
    return top;
  endfunction

  logic [AW-1:0] addr;
  assign addr = AW'((axis_class(32'(y_q), OutH, RowTop, RowBot) * ColCls
                     + axis_class(32'(x_q), OutW, ColLeft, ColRight)) * CF + 32'(cf_q));

  // ---------------------------------------------------------------- table and register stage
  logic [WordW-1:0] table_rom [Depth];
  initial begin
    if (TableFile != "") $readmemh(TableFile, table_rom);
  end

  logic [PE*InBits-1:0] data_q;
  logic [WordW-1:0]     word_q;
  logic                 valid_q;

  always_ff @(posedge clk_i) begin
    if (!rst_ni) valid_q <= 1'b0;
    else if (out_ready) valid_q <= s_axis_tvalid;
  end
  always_ff @(posedge clk_i) begin
    if (out_ready) begin
      data_q <= s_axis_tdata;
      word_q <= table_rom[addr];
    end
  end

  // ---------------------------------------------------------------- per lane
  logic [PE*OutBits-1:0] result;
  for (genvar p = 0; p < PE; p++) begin : gen_lane
    logic signed [CmpW-1:0] acc;
    logic        [InBits-1:0] raw;
    assign raw = data_q[p*InBits +: InBits];
    assign acc = InSigned ? CmpW'($signed(raw)) : CmpW'(raw);
    if (NumThresholds > 0) begin : gen_thr
      logic [$clog2(NT + 1)-1:0] count;
      always_comb begin
        count = '0;
        for (int n = 0; n < NT; n++) begin
          count += (acc >= CmpW'($signed(word_q[(p*NT + n)*ThrBits +: ThrBits])));
        end
      end
      assign result[p*OutBits +: OutBits] = OutBits'(OutBias + int'(count));
    end else begin : gen_off
      logic signed [CmpW-1:0] off;
      assign off = CmpW'($signed(word_q[p*ThrBits +: ThrBits]));
      assign result[p*OutBits +: OutBits] = OutBits'(CmpW'(AccScale) * acc + off);
    end
  end

  axis_skid #(
    .DataWidth (PE * OutBits)
  ) u_out_skid (
    .clk_i,
    .rst_ni,
    .s_axis_tdata  (result),
    .s_axis_tvalid (valid_q),
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

endmodule : pos_threshold
