// stream_requant: lane-wise offset-and-clamp requantizer, the RTL form of a FINN MultiThreshold whose
// thresholds are a unit staircase (e.g. int9 residual sum -> int8 with the same scale).
//
// Maths, per lane:  y = clamp(x + Offset, OutMin, OutMax)
//   x: InBits, two's complement if InSigned else unsigned. y: OutBits bits, two's complement when
//   OutMin < 0, else unsigned. x + Offset is formed wide enough that nothing wraps before the clamp.
//
// Staircase identity: MultiThreshold with N thresholds t_i = t_0 + i (i = 0..N-1) and out_bias b
//   y = b + #{i : x >= t_i} = clamp(x + (b - t_0 + 1), b, b + N)
//   (x < t_0 gives b; x = t_0 + k, 0 <= k < N, gives b + k + 1; x >= t_0 + N - 1 gives b + N).
//   So Offset = b - t_0 + 1, OutMin = b, OutMax = b + N: one adder and two comparators per lane
//   instead of N comparators and a threshold memory.
//
// Streams (channels folded by PE, element 0 in the LSBs, FINN packing):
//   in : lane p at [p*InBits +: InBits];  out: lane p at [p*OutBits +: OutBits]; beat n -> beat n.
//
// Output through axis_skid (flip-flop outputs, registered s_axis_tready, no combinational path from
// m_axis_tready): latency 1 cycle, 1 beat/cycle.
module stream_requant
  import shiftbnn_pkg::*;
#(
  parameter int unsigned PE       = 1,
  parameter int unsigned InBits   = 9,
  parameter bit          InSigned = 1,
  parameter int unsigned OutBits  = 8,
  parameter int          Offset   = 0,
  parameter int          OutMin   = -128,
  parameter int          OutMax   = 127
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

  // x as a signed number, then room for Offset, + 1 bit for the add; room for OutMin/OutMax.
  localparam int unsigned XW     = InBits + (InSigned ? 0 : 1);
  localparam int unsigned AddW   = umax(XW, sbits(longint'(Offset))) + 1;
  localparam int unsigned SumW   = sum_width(AddW, OutBits, OutMin, OutMax);

  if (PE < 1 || InBits < 1 || OutBits < 1) begin : gen_err_size
    $fatal(1, "stream_requant: PE, InBits and OutBits must be >= 1");
  end
  if (OutMin > OutMax) begin : gen_err_range
    $fatal(1, "stream_requant: OutMin (%0d) > OutMax (%0d)", OutMin, OutMax);
  end
  if (!range_fits(OutBits, OutMin, OutMax)) begin : gen_err_type
    $fatal(1, "stream_requant: [%0d, %0d] does not fit %0d output bits", OutMin, OutMax, OutBits);
  end

  localparam logic signed [SumW-1:0] Off = SumW'(Offset);

  logic [PE*OutBits-1:0] y;

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

  axis_skid #(
    .DataWidth (PE * OutBits)
  ) u_out_skid (
    .clk_i,
    .rst_ni,
    .s_axis_tdata  (y),
    .s_axis_tvalid,
    .s_axis_tready,
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
