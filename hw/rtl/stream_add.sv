// stream_add: lane-wise saturating sum of two joined AXI streams (FINN AddStreams; with a narrow
// output range it is the residual add of a Bi-Real-Net block followed by a same-scale requantizer).
//
// Maths, per lane p:  y = clamp(a + b + Offset, OutMin, OutMax)
//   a: ABits, two's complement if ASigned else unsigned; b likewise (BBits, BSigned).
//   The sum is formed in SumW bits, wide enough for a + b + Offset and for OutMin/OutMax, so nothing
//   wraps before the clamp. y is written in OutBits bits: two's complement when OutMin < 0, else
//   unsigned. OutMin/OutMax at the full range of a + b gives FINN AddStreams (output INT(max+1));
//   OutMin = -128, OutMax = 127 gives "add, then requantize to int8 with the same scale".
//
// Streams (channels folded by PE, element 0 in the LSBs, FINN packing):
//   s0: beats of PE lanes, lane p at [p*ABits +: ABits];  s1: lane p at [p*BBits +: BBits];
//   m : beats of PE lanes, lane p at [p*OutBits +: OutBits]. Beat n of m = f(beat n of s0, s1).
//
// Handshake: join - a beat is taken from both inputs in the same cycle, only when both are valid
// and the output register has room. s0_axis_tready depends combinationally on s1_axis_tvalid (and
// vice versa) and on the output skid buffer's registered ready; never on m_axis_tready. Output
// through axis_skid (flip-flop outputs): latency 1 cycle, 1 beat/cycle.
module stream_add
  import shiftbnn_pkg::*;
#(
  parameter int unsigned PE      = 1,
  parameter int unsigned ABits   = 8,
  parameter bit          ASigned = 1,
  parameter int unsigned BBits   = 8,
  parameter bit          BSigned = 1,
  parameter int unsigned OutBits = 9,
  parameter int          Offset  = 0,
  parameter int          OutMin  = -256,
  parameter int          OutMax  = 255
) (
  input  logic                  clk_i,
  input  logic                  rst_ni,

  input  logic [PE*ABits-1:0]   s0_axis_tdata,
  input  logic                  s0_axis_tvalid,
  output logic                  s0_axis_tready,

  input  logic [PE*BBits-1:0]   s1_axis_tdata,
  input  logic                  s1_axis_tvalid,
  output logic                  s1_axis_tready,

  output logic [PE*OutBits-1:0] m_axis_tdata,
  output logic                  m_axis_tvalid,
  input  logic                  m_axis_tready
);

  // a and b as signed numbers; + 1 bit for a + b, then room for Offset, + 1 bit for the offset add.
  localparam int unsigned AW    = ABits + (ASigned ? 0 : 1);
  localparam int unsigned BW    = BBits + (BSigned ? 0 : 1);
  localparam int unsigned AddW  = umax(umax(AW, BW) + 1, sbits(longint'(Offset))) + 1;
  localparam int unsigned SumW  = sum_width(AddW, OutBits, OutMin, OutMax);

  if (PE < 1 || ABits < 1 || BBits < 1 || OutBits < 1) begin : gen_err_size
    $fatal(1, "stream_add: PE, ABits, BBits and OutBits must be >= 1");
  end
  if (OutMin > OutMax) begin : gen_err_range
    $fatal(1, "stream_add: OutMin (%0d) > OutMax (%0d)", OutMin, OutMax);
  end
  if (!range_fits(OutBits, OutMin, OutMax)) begin : gen_err_type
    $fatal(1, "stream_add: [%0d, %0d] does not fit %0d output bits", OutMin, OutMax, OutBits);
  end

  localparam logic signed [SumW-1:0] Off = SumW'(Offset);

  logic [PE*OutBits-1:0] y;
  logic                  both_valid, out_ready;

  for (genvar p = 0; p < PE; p++) begin : gen_lane
    logic signed [SumW-1:0] a, b, sum;
    if (ASigned) begin : gen_a_signed
      assign a = SumW'($signed(s0_axis_tdata[p*ABits +: ABits]));
    end else begin : gen_a_unsigned
      assign a = SumW'(s0_axis_tdata[p*ABits +: ABits]);
    end
    if (BSigned) begin : gen_b_signed
      assign b = SumW'($signed(s1_axis_tdata[p*BBits +: BBits]));
    end else begin : gen_b_unsigned
      assign b = SumW'(s1_axis_tdata[p*BBits +: BBits]);
    end
    assign sum = a + b + Off;
    assign y[p*OutBits +: OutBits] = OutBits'(clamp(longint'(sum), OutMin, OutMax));
  end

  // Join: take both input beats together.
  assign both_valid     = s0_axis_tvalid && s1_axis_tvalid;
  assign s0_axis_tready = s1_axis_tvalid && out_ready;
  assign s1_axis_tready = s0_axis_tvalid && out_ready;

  axis_skid #(
    .DataWidth (PE * OutBits)
  ) u_out_skid (
    .clk_i,
    .rst_ni,
    .s_axis_tdata  (y),
    .s_axis_tvalid (both_valid),
    .s_axis_tready (out_ready),
    .m_axis_tdata,
    .m_axis_tvalid,
    .m_axis_tready
  );

  // valid/ready never X/Z out of reset (simulation only)
  shiftbnn_assert_known #(
    .Width (3)
  ) u_assert_known (
    .clk_i,
    .rst_ni,
    .sig_i ({s0_axis_tvalid, s1_axis_tvalid, m_axis_tready})
  );

endmodule : stream_add
