// bnn_mvau: binary-weight matrix-vector-threshold unit, folded PE x SIMD exactly as FINN's MVAU node.
//
// Maths (one input vector x of MW elements, weights W in {-1,+1}^(MW x MH), output channel o):
//   XnorMode=1 (FINN binaryXnorMode, x and W bipolar, bit 1 = +1, bit 0 = -1):
//       acc[o] = popcount(xnor(x_bits, W_bits[:, o]))            in 0..MW
//              = (dot(x, W[:, o]) + MW) / 2                      (each agreeing bit adds 1, each other 0)
//   XnorMode=0 (integer input, e.g. 8-bit pixels of the first layer, weight bit 1 = +1):
//       acc[o] = sum_i (W_bits[i, o] ? +x[i] : -x[i])            x signed or unsigned (InputSigned)
//   NumThresholds = N > 0 (FINN MultiThreshold, thresholds of one channel need not be sorted):
//       y[o] = OutBias + sum_{t<N} (acc[o] >= T[o, t])          (signed compare, OutBits wide output)
//     With N = 1, OutBits = 1, OutBias = 0 this is the bipolar sign activation (bit 1 = +1). The
//     shiftbnn threshold shift is a constant folded into T by the flow: nothing else to configure.
//   NumThresholds = 0 (FINN noActivation=1, last layer): y[o] = acc[o] (signed, AccBits wide).
//
// Streams (FINN folding, element 0 in the least significant bits of a beat):
//   in : SF = MW/SIMD beats per vector; beat sf holds x[sf*SIMD + s] at bits [s*InputBits +: InputBits].
//   out: NF = MH/PE beats per vector; beat nf holds y[nf*PE + p] at bits [p*OutElemBits +: OutElemBits].
//   Channel o is computed by PE (o % PE) in neuron fold (o / PE), as FINN's interleaving.
//   The input vector is consumed once (during neuron fold 0) and replayed from a local buffer for
//   neuron folds 1..NF-1. Throughput: one (SIMD x PE) tile per cycle, MW*MH/(SIMD*PE) cycles/vector.
//
// Memory init files ($readmemh: hex, one word per line, no address markers, MSB first):
//   WeightFile   : WMEM = NF*SF words of PE*SIMD bits; word (nf*SF + sf), bit (p*SIMD + s) is the
//                  weight bit (1 = +1) of input i = sf*SIMD + s for output o = nf*PE + p.
//                  Identical to FINN's "decoupled_verilog_dat" memstream file for binary weights.
//   ThresholdFile: NF words of PE*NumThresholds*ThresholdBits bits; word nf, bits
//                  [(p*NumThresholds + t)*ThresholdBits +: ThresholdBits] hold T[nf*PE + p, t] in two's
//                  complement (each in [acc_lo, acc_hi + 1], which the writer's clipping
//                  guarantees, keeps every comparison). Writers: hw/golden/mem_files.py.
//
// Pipeline (every stage advances on the output skid's registered ready, a global enable):
//   0 fetch (fold counters; neuron fold 0 writes the input beat into the SF-word vector buffer)
//   1 control + addresses registered          2 operand (buffer read) and weight word (ROM read)
//   (stages 0-2: mvau_fold, shared with int_mvau)
//   W (WeightOutReg = 1) the weight word, operand and control registered once more
//   3.. partial dot product: one bnn_popcount per PE (compressor tree on the LUT6 and carry chain,
//       LevelsPerStage levels per stage; XNOR pairs, or in integer mode the bit columns of x with the
//       weight's sign folded in), latency ~ log(SIMD)
//   Q threshold ROM read by the neuron fold travelling with the partial sums
//   A accumulate; NumThresholds = 1: Q = acc - T (the accumulator starts at -T, its sign is acc < T:
//     no comparator) -> axis_skid; NumThresholds = 0: acc -> axis_skid
//   C (NumThresholds > 1) the comparisons acc >= T[t] registered, their count -> axis_skid.
// Every stage is a few LUT levels and a carry chain; the flow sets LevelsPerStage and WeightOutReg from the
// clock (flow/rtl_backend/emitters/mvau.py) so that each fits the period by flow/rtl_backend/timing.py.
module bnn_mvau #(
  parameter int unsigned MW            = 64,
  parameter int unsigned MH            = 16,
  parameter int unsigned PE            = 4,
  parameter int unsigned SIMD          = 16,
  parameter bit          XnorMode      = 1'b1,
  parameter int unsigned InputBits     = 1,
  parameter bit          InputSigned   = 1'b0,
  parameter int unsigned AccBits       = XnorMode ? $clog2(MW + 1) + 1 : InputBits + $clog2(MW + 1) + 1,
  parameter int unsigned NumThresholds = 1,
  parameter int unsigned ThresholdBits = AccBits + 1,
  parameter int unsigned OutBits       = 1,
  parameter int          OutBias       = 0,
  parameter string       WeightFile    = "",
  parameter string       ThresholdFile = "",
  parameter string       WeightRamStyle = "block",
  parameter bit          RuntimeWeights = 1'b0,  // weights written at run time through s_axis_wgt
  parameter int unsigned LevelsPerStage = 2,  // compressor levels between registers (bnn_popcount)
  // register the weight word once more, the operand and control alongside (stage W): a deep block-RAM
  // weight memory reads through a LUT multiplexer after its RAMs, too slow before a compressor stage
  parameter bit          WeightOutReg   = 1'b0,
  // derived, do not override
  parameter int unsigned OutElemBits   = NumThresholds > 0 ? OutBits : AccBits
) (
  input  logic                        clk_i,
  input  logic                        rst_ni,

  input  logic [SIMD*InputBits-1:0]   s_axis_tdata,
  input  logic                        s_axis_tvalid,
  output logic                        s_axis_tready,

  output logic [PE*OutElemBits-1:0]   m_axis_tdata,
  output logic                        m_axis_tvalid,
  input  logic                        m_axis_tready,

  // run-time weight load (RuntimeWeights = 1; mvau_wload): a link of the top's weight-stream chain.
  // Otherwise s_axis_wgt is never ready and m_axis_wgt never valid.
  input  logic [31:0]                 s_axis_wgt_tdata,
  input  logic                        s_axis_wgt_tvalid,
  output logic                        s_axis_wgt_tready,
  output logic [31:0]                 m_axis_wgt_tdata,
  output logic                        m_axis_wgt_tvalid,
  input  logic                        m_axis_wgt_tready
);

  localparam int unsigned SF        = MW / SIMD;
  localparam int unsigned NF        = MH / PE;
  localparam int unsigned WMEM      = SF * NF;
  localparam int unsigned InWidth   = SIMD * InputBits;
  localparam int unsigned WWidth    = PE * SIMD;
  localparam int unsigned PartBits  = XnorMode ? $clog2(SIMD + 1) + 1 : InputBits + $clog2(SIMD + 1) + 1;
  localparam int unsigned NT        = NumThresholds > 0 ? NumThresholds : 1;
  localparam int unsigned TWidth    = PE * NT * ThresholdBits;
  localparam int unsigned CmpBits   = AccBits > ThresholdBits ? AccBits : ThresholdBits;
  localparam int unsigned NfW       = NF > 1 ? $clog2(NF) : 1;
  localparam int unsigned WaW       = WMEM > 1 ? $clog2(WMEM) : 1;
  localparam int unsigned OutWidth  = PE * OutElemBits;

  // ---------------------------------------------------------------- parameter checks
  if (MW % SIMD != 0) begin : gen_err_simd
    $fatal(1, "bnn_mvau: SIMD (%0d) must divide MW (%0d)", SIMD, MW);
  end
  if (MH % PE != 0) begin : gen_err_pe
    $fatal(1, "bnn_mvau: PE (%0d) must divide MH (%0d)", PE, MH);
  end
  if (XnorMode && InputBits != 1) begin : gen_err_xnor
    $fatal(1, "bnn_mvau: XnorMode needs InputBits == 1");
  end
  if (InputBits < 1 || AccBits < PartBits - 1 || AccBits > 32) begin : gen_err_acc
    $fatal(1, "bnn_mvau: AccBits (%0d) out of range for InputBits/SIMD", AccBits);
  end
  if (NumThresholds > 0 && (ThresholdBits < 2 || ThresholdBits > 33)) begin : gen_err_thr
    $fatal(1, "bnn_mvau: ThresholdBits (%0d) must be in 2..33", ThresholdBits);
  end
  if (NumThresholds > 0 && (OutBits < 1 || OutBits > 32)) begin : gen_err_out
    $fatal(1, "bnn_mvau: OutBits (%0d) must be in 1..32", OutBits);
  end
  if (WeightRamStyle != "block" && WeightRamStyle != "distributed" && WeightRamStyle != "auto" &&
      !(WeightRamStyle == "ultra" && RuntimeWeights)) begin : gen_err_style
    $fatal(1, "bnn_mvau: WeightRamStyle must be block, distributed or auto (ultra with RuntimeWeights)");
  end
  if (WeightFile == "" && !RuntimeWeights) begin : gen_err_wfile
    $fatal(1, "bnn_mvau: WeightFile must be set (or RuntimeWeights)");
  end
  if (NumThresholds > 0 && ThresholdFile == "") begin : gen_err_tfile
    $fatal(1, "bnn_mvau: ThresholdFile must be set when NumThresholds > 0");
  end

  // ---------------------------------------------------------------- global enable
  logic en;            // all stages advance; = registered ready of the output skid buffer
  logic out_ready;
  assign en = out_ready;

  // ---------------------------------------------------------------- stages 0-2: folds, operand
  // mvau_fold: fold counters (stage 0), control and weight address (stage 1), the operand read from the
  // input-vector buffer (stage 2); ctl2 = {valid, first, last, nf} of the tile at stage 2.
  localparam int unsigned CtlBits = 3 + NfW;
  logic [CtlBits-1:0] ctl2_q;
  logic [WaW-1:0]     wa1_q;
  logic [InWidth-1:0] x2_q;

  mvau_fold #(
    .SF           (SF),
    .NF           (NF),
    .InWidth      (InWidth),
    .OperandStage (2)
  ) u_fold (
    .clk_i,
    .rst_ni,
    .en_i    (en),
    .s_axis_tdata,
    .s_axis_tvalid,
    .s_axis_tready,
    .waddr_o (wa1_q),
    .valid_o (ctl2_q[CtlBits-1]),
    .first_o (ctl2_q[CtlBits-2]),
    .last_o  (ctl2_q[CtlBits-3]),
    .nf_o    (ctl2_q[NfW-1:0]),
    .x_o     (x2_q)
  );

  // ---------------------------------------------------------------- stage 2: weight word
  // "block": RAMB18/36 (FINN's internal_decoupled), "auto": the tool's choice, both read synchronously;
  // "distributed": LUT logic (FINN's internal_embedded for a shallow memory; mvau_wmem "logic"), read
  // from a registered address: with <= 8 words every weight bit is one of <= 256 functions of the
  // address, which synthesis shares between all lanes (with RuntimeWeights: LUTRAM).
  logic [WWidth-1:0] w2;
  mvau_wmem #(
    .Width        (WWidth),
    .Depth        (WMEM),
    .Style        (WeightRamStyle == "distributed" && !RuntimeWeights ? "logic" : WeightRamStyle),
    .InitFile     (WeightFile),
    .RuntimeWrite (RuntimeWeights)
  ) u_wmem (
    .clk_i,
    .rst_ni,
    .en_i   (en),
    .addr_i (wa1_q),
    .data_o (w2),
    .s_axis_wgt_tdata,
    .s_axis_wgt_tvalid,
    .s_axis_wgt_tready,
    .m_axis_wgt_tdata,
    .m_axis_wgt_tvalid,
    .m_axis_wgt_tready
  );

  // ---------------------------------------------------------------- stage W (WeightOutReg): one more register
  logic [WWidth-1:0]  w3;
  logic [InWidth-1:0] x3;
  logic [CtlBits-1:0] ctl3;
  if (WeightOutReg) begin : gen_wreg
    logic [WWidth-1:0]  w3_q;
    logic [InWidth-1:0] x3_q;
    logic [CtlBits-1:0] ctl3_q;
    always_ff @(posedge clk_i) begin
      if (!rst_ni) ctl3_q[CtlBits-1] <= 1'b0;
      else if (en) ctl3_q[CtlBits-1] <= ctl2_q[CtlBits-1];
    end
    always_ff @(posedge clk_i) begin
      if (en) begin
        w3_q                <= w2;
        x3_q                <= x2_q;
        ctl3_q[CtlBits-2:0] <= ctl2_q[CtlBits-2:0];
      end
    end
    assign {w3, x3, ctl3} = {w3_q, x3_q, ctl3_q};
  end else begin : gen_no_wreg
    assign {w3, x3, ctl3} = {w2, x2_q, ctl2_q};
  end

  // ---------------------------------------------------------------- stage 3..: partial dot products
  // One bnn_popcount per PE (compressor tree: XNOR pairs, or the integer mode's bit columns of x with
  // the weight's sign folded in), Latency stages; lane 0 carries the control alongside.
  logic [PartBits-1:0] part_p [PE];
  logic [CtlBits-1:0]  ctl_p;

  for (genvar p = 0; p < PE; p++) begin : gen_part
    localparam int unsigned LaneBits = XnorMode ? $clog2(SIMD + 1) : PartBits;
    logic [LaneBits-1:0] y;
    logic [CtlBits-1:0]  ctl;
    bnn_popcount #(
      .N              (SIMD),
      .Xnor           (XnorMode),
      .InputBits      (InputBits),
      .InputSigned    (InputSigned),
      .LevelsPerStage (LevelsPerStage),
      .TagBits        (CtlBits)
    ) u_popcount (
      .clk_i,
      .rst_ni,
      .en_i  (en),
      .a_i   (x3),
      .b_i   (w3[p*SIMD +: SIMD]),
      .tag_i (p == 0 ? ctl3 : '0),  // lane 0 carries the control; the others' tags are removed
      .y_o   (y),
      .tag_o (ctl)
    );
    assign part_p[p] = PartBits'(y);  // XNOR: 0..SIMD, zero-extended; integer mode: already signed
    if (p == 0) begin : gen_ctl
      assign ctl_p = ctl;
    end else begin : gen_no_ctl
      logic unused_ctl;
      assign unused_ctl = ^ctl;
    end
  end

  // ---------------------------------------------------------------- stage Q: threshold ROM read
  // The ROM is addressed by the neuron fold travelling with the partial sums; part_q waits a cycle. Up
  // to 64 folds it is LUT logic read from the registered fold (mvau_wmem "logic"): with <= 8 folds each
  // threshold bit is a function of 3 fold bits that synthesis merges into the accumulator's LUT.
  logic [PartBits-1:0] part_q [PE];
  logic                vq_q, firstq_q, lastq_q;
  logic [TWidth-1:0]   thrq;

  always_ff @(posedge clk_i) begin
    if (!rst_ni) vq_q <= 1'b0;
    else if (en) vq_q <= ctl_p[CtlBits-1];
  end
  always_ff @(posedge clk_i) begin
    if (en) begin
      part_q   <= part_p;
      firstq_q <= ctl_p[CtlBits-2];
      lastq_q  <= ctl_p[CtlBits-3];
    end
  end
  if (NumThresholds > 0) begin : gen_tmem
    logic        unused_ready, unused_valid;  // the threshold memory loads no words at run time
    logic [31:0] unused_data;
    mvau_wmem #(
      .Width    (TWidth),
      .Depth    (NF),
      .Style    (NF <= 64 ? "logic" : "auto"),
      .InitFile (ThresholdFile)
    ) u_tmem (
      .clk_i,
      .rst_ni,
      .en_i              (en),
      .addr_i            (ctl_p[NfW-1:0]),
      .data_o            (thrq),
      .s_axis_wgt_tdata  ('0),
      .s_axis_wgt_tvalid (1'b0),
      .s_axis_wgt_tready (unused_ready),
      .m_axis_wgt_tdata  (unused_data),
      .m_axis_wgt_tvalid (unused_valid),
      .m_axis_wgt_tready (1'b1)
    );
    logic unused_tmem_wgt;
    assign unused_tmem_wgt = ^{unused_ready, unused_valid, unused_data};
  end else begin : gen_no_tmem
    logic unused_nf;  // the neuron fold only addresses the threshold ROM
    assign unused_nf = ^ctl_p[NfW-1:0];
    assign thrq = '0;
  end

  // ---------------------------------------------------------------- stage A: accumulate, activate
  logic                va_q;
  logic [OutWidth-1:0] out_d;
  logic                out_v;

  always_ff @(posedge clk_i) begin
    if (!rst_ni) va_q <= 1'b0;
    else if (en) va_q <= vq_q && lastq_q;
  end

  if (NumThresholds == 1) begin : gen_thr1
    // One threshold: no comparator. The accumulator starts at -T and adds: the first fold adds
    // part + ~T + 1 (the carry in is the first flag), the others part + Q, so after the last fold
    // Q = acc - T and acc >= T  <=>  Q >= 0: the sign bit is the comparison. Per bit one LUT: the
    // chain's DI is the registered part bit (yosys takes the first operand for it) and S = part ^
    // (first ? ~T : Q), whose T is a function of <= 3 fold bits when the ROM is logic with <= 8 words.
    // DiffBits holds acc - T for every T, acc in range.
    localparam int unsigned DiffBits = CmpBits + 1;
    for (genvar p = 0; p < PE; p++) begin : gen_pe
      logic [DiffBits-1:0] q_q;
      logic [DiffBits-1:0] start;
      logic [DiffBits:0]   sum;
      assign start = firstq_q ? ~DiffBits'($signed(thrq[p*ThresholdBits +: ThresholdBits])) : q_q;
      // {a, c} + {b, 1} = {a + b + c, *}: the carry in through one extra LSB
      assign sum = {DiffBits'($signed(part_q[p])), firstq_q} + {start, 1'b1};
      always_ff @(posedge clk_i) begin
        if (en && vq_q) q_q <= sum[DiffBits:1];
      end
      assign out_d[p*OutElemBits +: OutElemBits] = OutElemBits'(32'(!q_q[DiffBits-1]) + OutBias);
      logic unused_lsb;  // the carry-in position
      assign unused_lsb = sum[0];
    end
    assign out_v = va_q;
  end else begin : gen_acc
    logic signed [AccBits-1:0] acc_q [PE];
    logic [TWidth-1:0]         thra_q;
    always_ff @(posedge clk_i) begin
      if (en) thra_q <= thrq;
    end
    for (genvar p = 0; p < PE; p++) begin : gen_pe
      always_ff @(posedge clk_i) begin
        if (en && vq_q) acc_q[p] <= (firstq_q ? AccBits'(0) : acc_q[p]) + AccBits'($signed(part_q[p]));
      end
    end
    if (NumThresholds > 0) begin : gen_thr
      // stage C: the comparisons registered, then counted (their own stage: N carry chains in parallel,
      // then an N-input count)
      logic [NT-1:0] ge_q [PE];
      logic          vc_q;
      always_ff @(posedge clk_i) begin
        if (!rst_ni) vc_q <= 1'b0;
        else if (en) vc_q <= va_q;
      end
      for (genvar p = 0; p < PE; p++) begin : gen_pe
        always_ff @(posedge clk_i) begin
          if (en) begin
            for (int t = 0; t < int'(NT); t++) begin
              ge_q[p][t] <= $signed(CmpBits'(acc_q[p])) >=
                            $signed(CmpBits'(thra_q[(p*NT + t)*ThresholdBits +: ThresholdBits]));
            end
          end
        end
        assign out_d[p*OutElemBits +: OutElemBits] = OutElemBits'(32'($countones(ge_q[p])) + OutBias);
      end
      assign out_v = vc_q;
    end else begin : gen_noact
      logic unused_thr;
      assign unused_thr = ^thra_q;
      for (genvar p = 0; p < PE; p++) begin : gen_pe
        assign out_d[p*OutElemBits +: OutElemBits] = acc_q[p];
      end
      assign out_v = va_q;
    end
  end

  axis_skid #(
    .DataWidth (OutWidth)
  ) u_out_skid (
    .clk_i,
    .rst_ni,
    .s_axis_tdata  (out_d),
    .s_axis_tvalid (out_v),
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

endmodule : bnn_mvau
