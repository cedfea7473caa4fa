// mvau_fold: the fold sequencer and input-vector buffer that bnn_mvau and int_mvau share.
//
// FINN folding: a vector of SF = MW/SIMD input beats meets NF = MH/PE neuron folds; the tile of fold
// (nf, sf) reads weight word nf*SF + sf. The input stream is taken during neuron fold 0 only and the
// vector is replayed from a local SF-word buffer for folds 1..NF-1, so one tile issues per enabled cycle
// (s_axis_tready = en_i in fold 0; folds 1.. never wait for the input).
//
// Stage 0 (this cycle): the fold counters. The outputs arrive OperandStage stages later, all on en_i:
//   OperandStage = 2 (bnn_mvau): stage 1 registers the control and the weight address, stage 2 reads the
//     buffer (a LUTRAM written in stage 0 and read from the registered fold index: no multiplexer between
//     stream and buffer on the operand path). waddr_o is the stage-1 address.
//   OperandStage = 1 (int_mvau): the operand is the stream beat in fold 0, else the buffer word,
//     registered once. waddr_o is the stage-0 address.
// Either way a memory read synchronously from waddr_o on en_i delivers the weight word together with
// x_o; valid_o / first_o (sf = 0) / last_o (sf = SF-1) / nf_o describe that tile.
module mvau_fold #(
  parameter int unsigned SF           = 4,
  parameter int unsigned NF           = 4,
  parameter int unsigned InWidth      = 16,
  parameter int unsigned OperandStage = 2,
  // derived, do not override
  parameter int unsigned NfW          = NF > 1 ? $clog2(NF) : 1,
  parameter int unsigned WaW          = SF * NF > 1 ? $clog2(SF * NF) : 1
) (
  input  logic               clk_i,
  input  logic               rst_ni,
  input  logic               en_i,     // the unit's global pipeline enable

  input  logic [InWidth-1:0] s_axis_tdata,
  input  logic               s_axis_tvalid,
  output logic               s_axis_tready,

  output logic [WaW-1:0]     waddr_o,  // weight word of the tile, one stage before x_o
  output logic               valid_o,
  output logic               first_o,
  output logic               last_o,
  output logic [NfW-1:0]     nf_o,
  output logic [InWidth-1:0] x_o
);

  localparam int unsigned WMEM = SF * NF;
  localparam int unsigned SfW  = SF > 1 ? $clog2(SF) : 1;

  if (SF < 1 || NF < 1 || InWidth < 1) begin : gen_err_size
    $fatal(1, "mvau_fold: SF, NF and InWidth must be >= 1");
  end
  if (OperandStage != 1 && OperandStage != 2) begin : gen_err_stage
    $fatal(1, "mvau_fold: OperandStage must be 1 or 2");
  end

  // ---------------------------------------------------------------- stage 0: fold counters
  logic [SfW-1:0] sf_q;
  logic [NfW-1:0] nf_q;
  logic [WaW-1:0] wa_q;
  logic           nf0;    // neuron fold 0: take the input stream
  logic           fire0;  // a tile issues

  assign nf0           = (nf_q == '0);
  assign s_axis_tready = en_i && nf0;
  assign fire0         = en_i && (nf0 ? s_axis_tvalid : 1'b1);

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

  // ---------------------------------------------------------------- control, OperandStage stages on
  localparam int unsigned CtlBits = 3 + NfW;  // {valid, first, last, nf}
  logic [CtlBits-1:0] ctl_q [OperandStage];

  always_ff @(posedge clk_i) begin
    if (!rst_ni) begin
      for (int i = 0; i < int'(OperandStage); i++) ctl_q[i][CtlBits-1] <= 1'b0;
    end else if (en_i) begin
      ctl_q[0][CtlBits-1] <= fire0;
      for (int i = 1; i < int'(OperandStage); i++) ctl_q[i][CtlBits-1] <= ctl_q[i-1][CtlBits-1];
    end
  end
  always_ff @(posedge clk_i) begin
    if (en_i) begin
      ctl_q[0][CtlBits-2:0] <= {sf_q == '0, 32'(sf_q) == SF - 1, nf_q};
      for (int i = 1; i < int'(OperandStage); i++) ctl_q[i][CtlBits-2:0] <= ctl_q[i-1][CtlBits-2:0];
    end
  end
  assign {valid_o, first_o, last_o, nf_o} = ctl_q[OperandStage-1];

  // ---------------------------------------------------------------- operand: stream or buffer
  if (OperandStage == 2) begin : gen_stage2
    logic [SfW-1:0]     sf1_q;
    logic [WaW-1:0]     wa1_q;
    logic [InWidth-1:0] x2_d, x2_q;
    always_ff @(posedge clk_i) begin
      if (en_i) begin
        sf1_q <= sf_q;
        wa1_q <= wa_q;
      end
    end
    assign waddr_o = wa1_q;
    if (NF > 1 && SF > 1) begin : gen_ibuf
      // written in fold 0 (stage 0), read one stage later from the registered fold index
      logic [InWidth-1:0] ibuf_q [SF];
      always_ff @(posedge clk_i) begin
        if (fire0 && nf0) ibuf_q[sf_q] <= s_axis_tdata;
      end
      assign x2_d = ibuf_q[sf1_q];
    end else begin : gen_ibuf_reg
      // SF = 1: one register holds the vector for all neuron folds; NF = 1: no replay at all.
      logic [InWidth-1:0] x1_q;
      logic unused_sf1;
      assign unused_sf1 = ^sf1_q;
      always_ff @(posedge clk_i) begin
        if (NF == 1 ? en_i : (fire0 && nf0)) x1_q <= s_axis_tdata;
      end
      assign x2_d = x1_q;
    end
    always_ff @(posedge clk_i) begin
      if (en_i) x2_q <= x2_d;
    end
    assign x_o = x2_q;
  end else begin : gen_stage1
    logic [InWidth-1:0] x0, x1_q;
    assign waddr_o = wa_q;
    if (NF > 1) begin : gen_ibuf
      logic [InWidth-1:0] ibuf_q [SF];
      always_ff @(posedge clk_i) begin
        if (fire0 && nf0) ibuf_q[sf_q] <= s_axis_tdata;
      end
      assign x0 = nf0 ? s_axis_tdata : ibuf_q[sf_q];
    end else begin : gen_no_ibuf
      assign x0 = s_axis_tdata;
    end
    always_ff @(posedge clk_i) begin
      if (en_i) x1_q <= x0;
    end
    assign x_o = x1_q;
  end

endmodule : mvau_fold
