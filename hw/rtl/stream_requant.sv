// stream_requant: lane-wise re-quantizer, the RTL form of a FINN MultiThreshold on an integer stream.
//
// Two forms, chosen by Channels:
//
// Channels = 0, the clamp (a MultiThreshold whose thresholds are a unit staircase, e.g. int9 residual
// sum -> int8 with the same scale):   y = clamp(x + Offset, OutMin, OutMax)
//   Staircase identity: MultiThreshold with N thresholds t_i = t_0 + i (i = 0..N-1) and out_bias b
//   y = b + #{i : x >= t_i} = clamp(x + (b - t_0 + 1), b, b + N)
//   (x < t_0 gives b; x = t_0 + k, 0 <= k < N, gives b + k + 1; x >= t_0 + N - 1 gives b + N).
//   So Offset = b - t_0 + 1, OutMin = b, OutMax = b + N: one adder and two comparators per lane
//   instead of N comparators and a threshold memory. Latency 1 cycle.
//
// Channels > 0, multiply-add-shift per channel (any threshold table, e.g. the INT8 re-quantization
// acc * s + b of a BatchNorm, 255 thresholds per channel):
//   y = clamp((x * M[c] + A[c]) >>> (Shift + E[c]), OutMin, OutMax)    c = the element's channel
//   M[c] unsigned MulBits, A[c] two's complement AddBits, E[c] unsigned ShiftBits (0 bits: none),
//   >>> the arithmetic shift (floor). The parameters are chosen so that this equals the table on
//   every reachable x (hw/golden/requant_fit.py proves it per channel). Latency 4 cycles: parameter
//   read + x register, product (a DSP's M register: one DSP48E2 per lane while x and {0, M} fit
//   27 x 18 bits), + A (its P register), shift + clamp into the output skid.
//   Parameter memory ($readmemh, hex, one word per line, MSB first): Channels/PE words of
//   PE*(MulBits+AddBits+ShiftBits) bits; word f, field p holds channel f*PE + p as {E, A, M} (M in
//   the low MulBits bits). Writer: hw/golden/requant_fit.py.
//
// x: InBits, two's complement if InSigned else unsigned. y: OutBits bits, two's complement when
// OutMin < 0, else unsigned. Every sum is formed wide enough that nothing wraps before the clamp.
//
// Streams (channels folded by PE, element 0 in the LSBs, FINN packing):
//   in : lane p at [p*InBits +: InBits];  out: lane p at [p*OutBits +: OutBits]; beat n -> beat n.
//   With Channels > 0 beat n holds channels (n mod Channels/PE)*PE + p (pixels in order, channels
//   innermost, as every FINN stream).
//
// Output through axis_skid (flip-flop outputs, registered s_axis_tready, no combinational path from
// m_axis_tready): 1 beat/cycle. The pipeline advances on the skid's registered ready (global enable).
module stream_requant
  import shiftbnn_pkg::*;
#(
  parameter int unsigned PE       = 1,
  parameter int unsigned InBits   = 9,
  parameter bit          InSigned = 1,
  parameter int unsigned OutBits  = 8,
  parameter int          Offset   = 0,
  parameter int          OutMin   = -128,
  parameter int          OutMax   = 127,
  parameter int unsigned Channels = 0,
  parameter int unsigned MulBits  = 1,
  parameter int unsigned AddBits  = 2,
  parameter int unsigned Shift    = 0,
  parameter int unsigned ShiftBits = 0,
  parameter string       ParamFile = ""
) (
  input  logic                  clk_i,
  input  logic                  rst_ni,

  input  logic [PE*InBits-1:0]  s_axis_tdata,
  input  logic                  s_axis_tvalid,
  output logic                  s_axis_tready,

  output logic [PE*OutBits-1:0] m_axis_tdata,
  output logic                  m_axis_tvalid,
  input  logic                  m_axis_tready
);

  // x as a signed number
  localparam int unsigned XW = InBits + (InSigned ? 0 : 1);

  if (PE < 1 || InBits < 1 || OutBits < 1) begin : gen_err_size
    $fatal(1, "stream_requant: PE, InBits and OutBits must be >= 1");
  end
  if (OutMin > OutMax) begin : gen_err_range
    $fatal(1, "stream_requant: OutMin (%0d) > OutMax (%0d)", OutMin, OutMax);
  end
  if (!range_fits(OutBits, OutMin, OutMax)) begin : gen_err_type
    $fatal(1, "stream_requant: [%0d, %0d] does not fit %0d output bits", OutMin, OutMax, OutBits);
  end

  logic [PE*OutBits-1:0] y;
  logic                  y_valid, y_ready;

  if (Channels == 0) begin : gen_clamp
    // room for Offset, + 1 bit for the add; room for OutMin/OutMax
    localparam int unsigned AddW = umax(XW, sbits(longint'(Offset))) + 1;
    localparam int unsigned SumW = sum_width(AddW, OutBits, OutMin, OutMax);
    localparam logic signed [SumW-1:0] Off = SumW'(Offset);

    for (genvar p = 0; p < PE; p++) begin : gen_lane
      logic signed [SumW-1:0] x, sum;
      if (InSigned) begin : gen_signed
        assign x = SumW'($signed(s_axis_tdata[p*InBits +: InBits]));
      end else begin : gen_unsigned
        assign x = SumW'(s_axis_tdata[p*InBits +: InBits]);
      end
      assign sum = x + Off;
      assign y[p*OutBits +: OutBits] = OutBits'(clamp(longint'(sum), OutMin, OutMax));
    end
    assign y_valid       = s_axis_tvalid;
    assign s_axis_tready = y_ready;

  end else begin : gen_muladd
    localparam int unsigned NF    = Channels / PE;
    localparam int unsigned NfW   = NF > 1 ? $clog2(NF) : 1;
    localparam int unsigned ParW  = MulBits + AddBits + ShiftBits;
    localparam int unsigned ProdW = XW + MulBits + 1;                       // x * {0, M}
    localparam int unsigned SumW  = umax(ProdW, AddBits) + 1;               // + A
    localparam int unsigned EW    = ShiftBits > 0 ? ShiftBits : 1;

    if (Channels % PE != 0) begin : gen_err_pe
      $fatal(1, "stream_requant: PE (%0d) must divide Channels (%0d)", PE, Channels);
    end
    if (MulBits < 1 || AddBits < 2 || SumW > 64 || Shift + (1 << ShiftBits) - 1 >= SumW) begin : gen_err_bits
      $fatal(1, "stream_requant: need MulBits >= 1, AddBits >= 2, x * M + A within 64 bits, shifts below it");
    end
    if (ParamFile == "") begin : gen_err_file
      $fatal(1, "stream_requant: ParamFile must be set when Channels > 0");
    end

    logic en;
    assign en            = y_ready;
    assign s_axis_tready = en;

    // stage 1: x and the parameters of its channel fold (ROM read)
    logic [NfW-1:0]       nf_q;
    logic [PE*InBits-1:0] x1_q;
    logic [PE*ParW-1:0]   par1_q;
    logic                 v1_q, v2_q, v3_q;
    logic [PE*ParW-1:0]   pmem [NF];
    initial $readmemh(ParamFile, pmem);

    always_ff @(posedge clk_i) begin
      if (!rst_ni) begin
        nf_q <= '0;
        v1_q <= 1'b0;
        v2_q <= 1'b0;
        v3_q <= 1'b0;
      end else if (en) begin
        v1_q <= s_axis_tvalid;
        v2_q <= v1_q;
        v3_q <= v2_q;
        if (s_axis_tvalid) nf_q <= (32'(nf_q) == NF - 1) ? '0 : nf_q + 1'b1;
      end
    end
    always_ff @(posedge clk_i) begin
      if (en) begin
        x1_q   <= s_axis_tdata;
        par1_q <= pmem[nf_q];
      end
    end

    // stage 2: x * M (registered: a DSP's M register); stage 3: + A (its P register); then the shift
    // (Shift + the channel's extra) and the clamp into the skid
    for (genvar p = 0; p < PE; p++) begin : gen_lane
      logic signed [XW-1:0]      x;
      logic signed [MulBits:0]   m;
      logic signed [AddBits-1:0] a, a2_q;
      logic [EW-1:0]             e, e2_q, e3_q;
      logic signed [SumW-1:0]    prod2_q, sum3_q, shifted;
      if (InSigned) begin : gen_signed
        assign x = $signed(x1_q[p*InBits +: InBits]);
      end else begin : gen_unsigned
        assign x = $signed({1'b0, x1_q[p*InBits +: InBits]});
      end
      assign m = $signed({1'b0, par1_q[p*ParW +: MulBits]});
      assign a = $signed(par1_q[p*ParW + MulBits +: AddBits]);
      if (ShiftBits > 0) begin : gen_extra
        assign e = par1_q[p*ParW + MulBits + AddBits +: EW];
      end else begin : gen_no_extra
        assign e = '0;
      end
      always_ff @(posedge clk_i) begin
        if (en) begin
          prod2_q <= SumW'(x * m);
          a2_q    <= a;
          e2_q    <= e;
          sum3_q  <= prod2_q + SumW'(a2_q);
          e3_q    <= e2_q;
        end
      end
      assign shifted = (sum3_q >>> Shift) >>> e3_q;
      assign y[p*OutBits +: OutBits] = OutBits'(clamp(longint'(shifted), OutMin, OutMax));
    end
    assign y_valid = v3_q;
  end

  axis_skid #(
    .DataWidth (PE * OutBits)
  ) u_out_skid (
    .clk_i,
    .rst_ni,
    .s_axis_tdata  (y),
    .s_axis_tvalid (y_valid),
    .s_axis_tready (y_ready),
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

endmodule : stream_requant
