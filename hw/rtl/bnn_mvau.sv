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
//                  complement. Writers: hw/golden/mem_files.py.
//
// Pipeline: fetch (weight ROM read) -> partial dot product -> accumulate (threshold ROM read)
// -> compare -> axis_skid. Every stage advances on the skid's registered ready (global enable).
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
  input  logic                        m_axis_tready
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
  localparam int unsigned CntBits   = $clog2(NT + 1) + 1;
  localparam int unsigned SfW       = SF > 1 ? $clog2(SF) : 1;
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
  if (WeightRamStyle != "block" && WeightRamStyle != "distributed" && WeightRamStyle != "auto")
  begin : gen_err_style
    $fatal(1, "bnn_mvau: WeightRamStyle must be block, distributed or auto");
  end
  if (WeightFile == "") begin : gen_err_wfile
    $fatal(1, "bnn_mvau: WeightFile must be set");
  end
  if (NumThresholds > 0 && ThresholdFile == "") begin : gen_err_tfile
    $fatal(1, "bnn_mvau: ThresholdFile must be set when NumThresholds > 0");
  end

  // ---------------------------------------------------------------- global enable
  logic en;            // all stages advance; = registered ready of the output skid buffer
  logic out_ready;
  assign en = out_ready;

  // ---------------------------------------------------------------- stage 0: fetch
  logic [SfW-1:0] sf_q;
  logic [NfW-1:0] nf_q;
  logic [WaW-1:0] wa_q;
  logic           nf0;          // neuron fold 0: take the input stream
  logic           fire0;
  logic [InWidth-1:0] x0;

  assign nf0           = (nf_q == '0);
  assign s_axis_tready = en && nf0;
  assign fire0         = en && (nf0 ? s_axis_tvalid : 1'b1);

  always_ff @(posedge clk_i) begin
    if (!rst_ni) begin
      sf_q <= '0;
      nf_q <= '0;
      wa_q <= '0;
    end else if (fire0) begin
      if (32'(sf_q) == SF - 1) begin
        sf_q <= '0;
        nf_q <= (32'(nf_q) == NF - 1) ? '0 : nf_q + 1'b1;
      end else begin
        sf_q <= sf_q + 1'b1;
      end
      wa_q <= (32'(wa_q) == WMEM - 1) ? '0 : wa_q + 1'b1;
    end
  end

  logic [InWidth-1:0] x1_q;

  if (NF > 1 && SF > 1) begin : gen_ibuf
    // Input vector buffer: written in neuron fold 0, replayed in folds 1..NF-1.
    logic [InWidth-1:0] ibuf_q [SF];
    always_ff @(posedge clk_i) begin
      if (fire0 && nf0) ibuf_q[sf_q] <= s_axis_tdata;
    end
    assign x0 = nf0 ? s_axis_tdata : ibuf_q[sf_q];
    always_ff @(posedge clk_i) begin
      if (en) x1_q <= x0;
    end
  end else if (NF > 1) begin : gen_ibuf_reg
    // SF = 1: the operand register itself holds the vector for all neuron folds (no buffer, no mux).
    assign x0 = s_axis_tdata;
    always_ff @(posedge clk_i) begin
      if (fire0 && nf0) x1_q <= x0;
    end
  end else begin : gen_no_ibuf
    assign x0 = s_axis_tdata;
    always_ff @(posedge clk_i) begin
      if (en) x1_q <= x0;
    end
  end


  // ---------------------------------------------------------------- stage 1: operands
  logic [WWidth-1:0]  w1_q;
  logic               v1_q, first1_q, last1_q;
  logic [NfW-1:0]     nf1_q;

  always_ff @(posedge clk_i) begin
    if (!rst_ni) v1_q <= 1'b0;
    else if (en) v1_q <= fire0;
  end
  always_ff @(posedge clk_i) begin
    if (en) begin
      first1_q <= (sf_q == '0);
      last1_q  <= (32'(sf_q) == SF - 1);
      nf1_q    <= nf_q;
    end
  end

  // Weight ROM, synchronous read on the pipeline enable. WeightRamStyle is passed to synthesis as the
  // ram_style attribute ("block": RAMB18/36, as FINN's default internal_decoupled memstream;
  // "distributed": LUTRAM/LUT ROM, as FINN's internal_embedded for small WMEM; "auto": tool choice).
  if (WeightRamStyle == "block") begin : gen_wmem_block
    (* ram_style = "block" *) logic [WWidth-1:0] wmem [WMEM];
    initial $readmemh(WeightFile, wmem);
    always_ff @(posedge clk_i) begin
      if (en) w1_q <= wmem[wa_q];
    end
  end else if (WeightRamStyle == "distributed") begin : gen_wmem_dist
    (* ram_style = "distributed" *) logic [WWidth-1:0] wmem [WMEM];
    initial $readmemh(WeightFile, wmem);
    always_ff @(posedge clk_i) begin
      if (en) w1_q <= wmem[wa_q];
    end
  end else begin : gen_wmem_auto
    logic [WWidth-1:0] wmem [WMEM];
    initial $readmemh(WeightFile, wmem);
    always_ff @(posedge clk_i) begin
      if (en) w1_q <= wmem[wa_q];
    end
  end

  // ---------------------------------------------------------------- stage 2: partial dot products
  logic signed [PartBits-1:0] part_d [PE];
  for (genvar p = 0; p < PE; p++) begin : gen_part
    logic [SIMD-1:0] wp;
    assign wp = w1_q[p*SIMD +: SIMD];
    if (XnorMode) begin : gen_xnor
      assign part_d[p] = PartBits'($countones(~(x1_q ^ wp)));
    end else begin : gen_int
      always_comb begin
        part_d[p] = '0;
        for (int s = 0; s < SIMD; s++) begin
          logic signed [PartBits-1:0] xs;
          if (InputSigned) xs = PartBits'($signed(x1_q[s*InputBits +: InputBits]));
          else             xs = PartBits'($unsigned(x1_q[s*InputBits +: InputBits]));
          part_d[p] = wp[s] ? part_d[p] + xs : part_d[p] - xs;
        end
      end
    end
  end

  logic signed [PartBits-1:0] part2_q [PE];
  logic                       v2_q, first2_q, last2_q;
  logic [NfW-1:0]             nf2_q;

  always_ff @(posedge clk_i) begin
    if (!rst_ni) v2_q <= 1'b0;
    else if (en) v2_q <= v1_q;
  end
  always_ff @(posedge clk_i) begin
    if (en) begin
      part2_q  <= part_d;
      first2_q <= first1_q;
      last2_q  <= last1_q;
      nf2_q    <= nf1_q;
    end
  end

  // ---------------------------------------------------------------- stage 3: accumulate
  logic signed [AccBits-1:0] acc3_q [PE];
  logic                      v3_q;

  always_ff @(posedge clk_i) begin
    if (!rst_ni) v3_q <= 1'b0;
    else if (en) v3_q <= v2_q && last2_q;
  end
  for (genvar p = 0; p < PE; p++) begin : gen_acc
    always_ff @(posedge clk_i) begin
      if (en && v2_q) begin
        acc3_q[p] <= (first2_q ? AccBits'(0) : acc3_q[p]) + AccBits'(part2_q[p]);
      end
    end
  end

  // ---------------------------------------------------------------- stage 4: activation
  logic [OutWidth-1:0] out_d;

  if (NumThresholds > 0) begin : gen_thr
    // Threshold ROM, synchronous read addressed by the neuron fold (aligned with acc3_q).
    logic [TWidth-1:0] tmem [NF];
    logic [TWidth-1:0] thr3_q;
    initial $readmemh(ThresholdFile, tmem);
    always_ff @(posedge clk_i) begin
      if (en) thr3_q <= tmem[nf2_q];
    end
    for (genvar p = 0; p < PE; p++) begin : gen_pe
      logic [CntBits-1:0] cnt;
      always_comb begin
        cnt = '0;
        for (int t = 0; t < NumThresholds; t++) begin
          if (CmpBits'(acc3_q[p]) >= CmpBits'($signed(thr3_q[(p*NT + t)*ThresholdBits +: ThresholdBits]))) begin
            cnt = cnt + 1'b1;
          end
        end
      end
      assign out_d[p*OutElemBits +: OutElemBits] = OutElemBits'(32'(cnt) + OutBias);
    end
  end else begin : gen_noact
    logic unused_nf2;  // the neuron fold only addresses the threshold ROM
    assign unused_nf2 = ^nf2_q;
    for (genvar p = 0; p < PE; p++) begin : gen_pe
      assign out_d[p*OutElemBits +: OutElemBits] = acc3_q[p];
    end
  end

  axis_skid #(
    .DataWidth (OutWidth)
  ) u_out_skid (
    .clk_i,
    .rst_ni,
    .s_axis_tdata  (out_d),
    .s_axis_tvalid (v3_q),
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
