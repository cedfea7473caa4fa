// int_mvau: integer-weight matrix-vector unit (no activation), folded PE x SIMD exactly as FINN's MVAU.
//
// Maths (one input vector x of MW integers, weights W of MW x MH signed WeightBits-bit integers):
//   acc[o] = sum_i W[i, o] * x[i]                 x signed or unsigned (InputSigned), InputBits wide
//   y[o]   = acc[o]                               signed, AccBits wide (FINN noActivation = 1)
// Activations that follow (FINN MultiThreshold) run in a separate Thresholding unit (FINN's
// Thresholding_rtl: a binary search over the sorted thresholds, log2(N) comparators per PE instead of
// N). AccBits defaults to ProdBits + ceil(log2(MW)), which holds every reachable sum; all arithmetic is
// two's complement, so a smaller AccBits is still exact whenever the final sums fit in it.
//
// Streams (FINN folding, element 0 in the least significant bits of a beat):
//   in : SF = MW/SIMD beats per vector; beat sf holds x[sf*SIMD + s] at bits [s*InputBits +: InputBits].
//   out: NF = MH/PE beats per vector; beat nf holds y[nf*PE + p] at bits [p*AccBits +: AccBits].
//   Channel o is computed by PE (o % PE) in neuron fold (o / PE). The input vector is consumed during
//   neuron fold 0 and replayed from a local buffer for folds 1..NF-1 (as bnn_mvau).
//   Throughput: one SIMD x PE tile per cycle, MW*MH/(SIMD*PE) cycles per vector.
//
// Weight memory ($readmemh, hex, one word per line, MSB first): WMEM = NF*SF words of
//   PE*SIMD*WeightBits bits; word (nf*SF + sf), field (p*SIMD + s) is W[sf*SIMD + s, nf*PE + p] in two's
//   complement (writer: hw/golden/int_mvau.py). RamStyle is the synthesis ram_style attribute:
//   "block" (RAMB18/36), "distributed" (LUTRAM), "ultra" (URAM288 on UltraScale+; URAM has no
//   bitstream initialisation, so that style needs the weights written at run time) or "auto".
//   RuntimeWeights = 1: the words are loaded after reset from s_axis_wgt (32-bit beats, each word's
//   ceil(WeightBits*PE*SIMD/32) slices least significant first; later beats pass on to m_axis_wgt).
//
// Pipeline: fetch (mvau_fold, shared with bnn_mvau; weight read) -> multiply (DSP-friendly: registered products) -> SIMD adder tree ->
// accumulate -> axis_skid. Every stage advances on the skid's registered ready (global enable).
module int_mvau #(
  parameter int unsigned MW          = 27,
  parameter int unsigned MH          = 8,
  parameter int unsigned PE          = 2,
  parameter int unsigned SIMD        = 3,
  parameter int unsigned WeightBits  = 8,
  parameter int unsigned InputBits   = 8,
  parameter bit          InputSigned = 1'b0,
  parameter int unsigned AccBits     = WeightBits + InputBits + (InputSigned ? 0 : 1) + $clog2(MW),
  parameter string       WeightFile  = "",
  parameter string       RamStyle    = "block",
  parameter bit          RuntimeWeights = 1'b0  // weights written at run time through s_axis_wgt
) (
  input  logic                       clk_i,
  input  logic                       rst_ni,

  input  logic [SIMD*InputBits-1:0]  s_axis_tdata,
  input  logic                       s_axis_tvalid,
  output logic                       s_axis_tready,

  output logic [PE*AccBits-1:0]      m_axis_tdata,
  output logic                       m_axis_tvalid,
  input  logic                       m_axis_tready,

  // run-time weight load (RuntimeWeights = 1; mvau_wload): a link of the top's weight-stream chain.
  // Otherwise s_axis_wgt is never ready and m_axis_wgt never valid.
  input  logic [31:0]                s_axis_wgt_tdata,
  input  logic                       s_axis_wgt_tvalid,
  output logic                       s_axis_wgt_tready,
  output logic [31:0]                m_axis_wgt_tdata,
  output logic                       m_axis_wgt_tvalid,
  input  logic                       m_axis_wgt_tready
);

  localparam int unsigned SF       = MW / SIMD;
  localparam int unsigned NF       = MH / PE;
  localparam int unsigned WMEM     = SF * NF;
  localparam int unsigned InWidth  = SIMD * InputBits;
  localparam int unsigned WWidth   = PE * SIMD * WeightBits;
  localparam int unsigned XBits    = InputBits + (InputSigned ? 0 : 1);  // x as a signed operand
  localparam int unsigned ProdBits = WeightBits + XBits;
  localparam int unsigned SumBits  = ProdBits + $clog2(SIMD + 1);
  localparam int unsigned NfW      = NF > 1 ? $clog2(NF) : 1;
  localparam int unsigned WaW      = WMEM > 1 ? $clog2(WMEM) : 1;

  // ---------------------------------------------------------------- parameter checks
  if (MW % SIMD != 0) begin : gen_err_simd
    $fatal(1, "int_mvau: SIMD (%0d) must divide MW (%0d)", SIMD, MW);
  end
  if (MH % PE != 0) begin : gen_err_pe
    $fatal(1, "int_mvau: PE (%0d) must divide MH (%0d)", PE, MH);
  end
  if (WeightBits < 2 || InputBits < 1 || AccBits < 2 || AccBits > 48) begin : gen_err_bits
    $fatal(1, "int_mvau: need WeightBits >= 2, InputBits >= 1 and AccBits in 2..48");
  end
  if (RamStyle != "block" && RamStyle != "distributed" && RamStyle != "ultra" && RamStyle != "auto")
  begin : gen_err_style
    $fatal(1, "int_mvau: RamStyle must be block, distributed, ultra or auto");
  end
  if (WeightFile == "" && !RuntimeWeights) begin : gen_err_wfile
    $fatal(1, "int_mvau: WeightFile must be set (or RuntimeWeights)");
  end

  // ---------------------------------------------------------------- global enable
  logic en, out_ready;
  assign en = out_ready;

  // ---------------------------------------------------------------- stages 0-1: folds, operand
  // mvau_fold: fold counters (stage 0); the operand (stream beat in fold 0, else the buffer) and the
  // tile's control at stage 1; the weight word is read from the stage-0 address.
  logic [WaW-1:0]     wa_q;
  logic [InWidth-1:0] x1_q;
  logic [WWidth-1:0]  w1_q;
  logic               v1_q, first1_q, last1_q;
  logic [NfW-1:0]     nf1;

  mvau_fold #(
    .SF           (SF),
    .NF           (NF),
    .InWidth      (InWidth),
    .OperandStage (1)
  ) u_fold (
    .clk_i,
    .rst_ni,
    .en_i    (en),
    .s_axis_tdata,
    .s_axis_tvalid,
    .s_axis_tready,
    .waddr_o (wa_q),
    .valid_o (v1_q),
    .first_o (first1_q),
    .last_o  (last1_q),
    .nf_o    (nf1),
    .x_o     (x1_q)
  );
  logic unused_nf1;  // no thresholds: the neuron fold addresses nothing here
  assign unused_nf1 = ^nf1;

  // Weight memory (mvau_wmem), read synchronously from the stage-0 address; RamStyle is its ram_style.
  mvau_wmem #(
    .Width        (WWidth),
    .Depth        (WMEM),
    .Style        (RamStyle),
    .InitFile     (WeightFile),
    .RuntimeWrite (RuntimeWeights)
  ) u_wmem (
    .clk_i,
    .rst_ni,
    .en_i   (en),
    .addr_i (wa_q),
    .data_o (w1_q),
    .s_axis_wgt_tdata,
    .s_axis_wgt_tvalid,
    .s_axis_wgt_tready,
    .m_axis_wgt_tdata,
    .m_axis_wgt_tvalid,
    .m_axis_wgt_tready
  );

  // ---------------------------------------------------------------- stage 2: products (registered)
  logic signed [ProdBits-1:0] prod2_q [PE][SIMD];
  logic                       v2_q, first2_q, last2_q;

  for (genvar p = 0; p < PE; p++) begin : gen_mul_pe
    for (genvar s = 0; s < SIMD; s++) begin : gen_mul_simd
      logic signed [WeightBits-1:0] w;
      logic signed [XBits-1:0]      x;
      assign w = w1_q[(p*SIMD + s)*WeightBits +: WeightBits];
      if (InputSigned) begin : gen_xs
        assign x = $signed(x1_q[s*InputBits +: InputBits]);
      end else begin : gen_xu
        assign x = $signed({1'b0, x1_q[s*InputBits +: InputBits]});
      end
      always_ff @(posedge clk_i) begin
        if (en) prod2_q[p][s] <= ProdBits'(w * x);
      end
    end
  end
  always_ff @(posedge clk_i) begin
    if (!rst_ni) v2_q <= 1'b0;
    else if (en) v2_q <= v1_q;
  end
  always_ff @(posedge clk_i) begin
    if (en) begin
      first2_q <= first1_q;
      last2_q  <= last1_q;
    end
  end

  // ---------------------------------------------------------------- stage 3: SIMD sums
  logic signed [SumBits-1:0] sum3_q [PE];
  logic                      v3_q, first3_q, last3_q;

  for (genvar p = 0; p < PE; p++) begin : gen_sum
    logic signed [SumBits-1:0] sum_d;
    always_comb begin
      sum_d = '0;
      for (int s = 0; s < SIMD; s++) sum_d = sum_d + SumBits'(prod2_q[p][s]);
    end
    always_ff @(posedge clk_i) begin
      if (en) sum3_q[p] <= sum_d;
    end
  end
  always_ff @(posedge clk_i) begin
    if (!rst_ni) v3_q <= 1'b0;
    else if (en) v3_q <= v2_q;
  end
  always_ff @(posedge clk_i) begin
    if (en) begin
      first3_q <= first2_q;
      last3_q  <= last2_q;
    end
  end

  // ---------------------------------------------------------------- stage 4: accumulate
  logic signed [AccBits-1:0] acc4_q [PE];
  logic                      v4_q;
  logic [PE*AccBits-1:0]     out_d;

  always_ff @(posedge clk_i) begin
    if (!rst_ni) v4_q <= 1'b0;
    else if (en) v4_q <= v3_q && last3_q;
  end
  for (genvar p = 0; p < PE; p++) begin : gen_acc
    always_ff @(posedge clk_i) begin
      if (en && v3_q) acc4_q[p] <= (first3_q ? AccBits'(0) : acc4_q[p]) + AccBits'(sum3_q[p]);
    end
    assign out_d[p*AccBits +: AccBits] = acc4_q[p];
  end

  axis_skid #(
    .DataWidth (PE * AccBits)
  ) u_out_skid (
    .clk_i,
    .rst_ni,
    .s_axis_tdata  (out_d),
    .s_axis_tvalid (v4_q),
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

endmodule : int_mvau
