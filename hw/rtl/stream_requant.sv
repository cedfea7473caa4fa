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
module stream_requant #(
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

  // Bits of a two's-complement number holding the constant v.
  function automatic int unsigned sbits(longint v);
    return (v >= 0) ? $clog2(v + 1) + 1 : $clog2(-v) + 1;
  endfunction
  function automatic int unsigned umax(int unsigned x, int unsigned y);
    return (x > y) ? x : y;
  endfunction

  // x as a signed number, then room for Offset, + 1 bit for the add; room for OutMin/OutMax.
  localparam int unsigned XW     = InBits + (InSigned ? 0 : 1);
  localparam int unsigned AddW   = umax(XW, sbits(longint'(Offset))) + 1;
  localparam int unsigned SumW   = umax(umax(AddW, OutBits),
                                        umax(sbits(longint'(OutMin)), sbits(longint'(OutMax))));
  // Range of the OutBits output type.
  localparam longint      TypeLo = (OutMin < 0) ? -(longint'(1) <<< (OutBits - 1)) : 0;
  localparam longint      TypeHi = (OutMin < 0) ? (longint'(1) <<< (OutBits - 1)) - 1
                                                : (longint'(1) <<< OutBits) - 1;

  if (PE < 1 || InBits < 1 || OutBits < 1) begin : gen_err_size
    $fatal(1, "stream_requant: PE, InBits and OutBits must be >= 1");
  end
  if (OutMin > OutMax) begin : gen_err_range
    $fatal(1, "stream_requant: OutMin (%0d) > OutMax (%0d)", OutMin, OutMax);
  end
  if (longint'(OutMin) < TypeLo || longint'(OutMax) > TypeHi) begin : gen_err_type
    $fatal(1, "stream_requant: [%0d, %0d] does not fit %0d output bits", OutMin, OutMax, OutBits);
  end

  localparam logic signed [SumW-1:0] Off = SumW'(Offset);
  localparam logic signed [SumW-1:0] Lo  = SumW'(OutMin);
  localparam logic signed [SumW-1:0] Hi  = SumW'(OutMax);

  logic [PE*OutBits-1:0] y;

  for (genvar p = 0; p < PE; p++) begin : gen_lane
    logic signed [SumW-1:0] x, sum;
    if (InSigned) begin : gen_signed
      assign x = SumW'($signed(s_axis_tdata[p*InBits +: InBits]));
    end else begin : gen_unsigned
      assign x = SumW'(s_axis_tdata[p*InBits +: InBits]);
    end
    assign sum = x + Off;
    // Every value in [OutMin, OutMax] fits OutBits: keeping the low bits of the clamp is exact.
    assign y[p*OutBits +: OutBits] = (sum < Lo) ? Lo[OutBits-1:0]
                                   : (sum > Hi) ? Hi[OutBits-1:0] : sum[OutBits-1:0];
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

`ifndef SYNTHESIS
  // Simulation-only protocol check (4-state simulators; Verilator is 2-state and checks nothing here).
  always_ff @(posedge clk_i) begin
    if (rst_ni) begin
      assert (!$isunknown(s_axis_tvalid) && !$isunknown(m_axis_tready))
        else $error("%m: X/Z on s_axis_tvalid or m_axis_tready out of reset");
    end
  end
`endif

endmodule : stream_requant
