// stream_dwc: AXI-stream data-width converter (gearbox) from InBits-bit to OutBits-bit beats, for any
// pair of widths (FINN StreamingDataWidthConverter between two blocks of different folding).
//
// Maths: the stream is a bit string; input beat n holds bits [n*InBits +: InBits] of it, output beat m
//   bits [m*OutBits +: OutBits] (element 0 in the LSBs, FINN packing, so whole elements stay whole
//   whenever both widths are multiples of the element width). A frame of F bits is F/InBits input and
//   F/OutBits output beats; when both divide F, so does L = lcm(InBits, OutBits), and no beat ever
//   straddles two frames: the converter needs no frame counter.
//   Data moves in lanes of G = gcd(InBits, OutBits) bits: an input beat is PI = InBits/G lanes, an output
//   beat PO = OutBits/G lanes (PI, PO coprime).
//
// Deserializer (PI = 1: OutBits a multiple of InBits, equal widths included): input beats shift into a
//   PO-beat register with one shared enable (no logic per lane); the full register is the output beat.
//   While it waits for m_axis_tready, one more input beat parks in a side register and enters first
//   after it. PO input beats per output beat at one per cycle.
//
// Gearbox (any other pair): a lane buffer buf[0..C-1] holding `cnt` lanes, oldest in lane 0; its
//   occupancy is a thermometer code occ (occ[j] = j < cnt), so every test below is one flip-flop or one
//   LUT per lane.
//   - output: lanes [0, PO) whenever cnt >= PO (m_axis_tvalid = occ[PO-1]); a taken beat shifts the
//     buffer down by PO lanes (a fixed shift: a 2:1 choice per lane).
//   - input: accepted while cnt <= C - PI (s_axis_tready = !occ[C-PI]); written at lanes
//     [wpos, wpos + PI), wpos = cnt - (output taken ? PO : 0). Lane j receives input lane j - wpos,
//     i.e. lane j mod PI of the input rotated left by wpos mod PI: one shared PI-lane rotator (log2 PI
//     mux levels) instead of a PI-way mux per buffer lane. `rot_q` = cnt mod PI (it changes only by
//     -PO mod PI, on an output beat).
//   Capacity: with registered ready/valid (no combinational path from m_axis_tready to s_axis_tready)
//   the converter never throttles the faster side if C = PI + PO + min(PI, PO) - 1 lanes:
//   - PI < PO (input is the slow side, it must flow every cycle): without an output cnt grows by PI and
//     reaches at most PO - 1 + PI; the next cycle takes an output beat, and the input needs
//     cnt <= C - PI there: C >= PO + 2*PI - 1.
//   - PI > PO (output is the slow side, it must flow every cycle): without an input cnt falls by PO from
//     at least C - PI + 1 and must stay >= PO: C >= PI + 2*PO - 1.
//
// Throughput: a frame takes max(in beats, out beats) cycles at full rate (flow/analysis/cycles.py), plus
// a latency of one cycle. Timing: m_axis_tdata/tvalid and s_axis_tready are flip-flop outputs; no
// combinational path from any input to an output. Cost: deserializer (PO + 1) * InBits flip-flops and a
// counter; gearbox C*G flip-flops, a PI*G-bit rotator and a 3:1 mux per buffer bit (docs/hw.md compares
// both with finn-rtllib's vpc).
module stream_dwc #(
  parameter int unsigned InBits  = 8,
  parameter int unsigned OutBits = 8
) (
  input  logic               clk_i,
  input  logic               rst_ni,

  input  logic [InBits-1:0]  s_axis_tdata,
  input  logic               s_axis_tvalid,
  output logic               s_axis_tready,

  output logic [OutBits-1:0] m_axis_tdata,
  output logic               m_axis_tvalid,
  input  logic               m_axis_tready
);

  function automatic int unsigned gcd(int unsigned a, int unsigned b);
    return (b == 0) ? a : gcd(b, a % b);
  endfunction

  localparam int unsigned G    = gcd(InBits, OutBits);  // lane width (bits)
  localparam int unsigned PI   = InBits / G;            // lanes per input beat
  localparam int unsigned PO   = OutBits / G;           // lanes per output beat
  localparam int unsigned C    = PI + PO + ((PI < PO) ? PI : PO) - 1;  // buffer lanes
  localparam int unsigned RotW = (PI > 1) ? $clog2(PI) : 1;  // gearbox only (PI > 1)
  localparam int unsigned PoModPi = PO % PI;

  if (InBits < 1 || OutBits < 1) begin : gen_err_width
    $fatal(1, "stream_dwc: InBits and OutBits must be >= 1");
  end

  logic in_fire, out_fire;
  assign in_fire  = s_axis_tvalid && s_axis_tready;
  assign out_fire = m_axis_tvalid && m_axis_tready;

  if (PI == 1) begin : gen_deser
    // ------------------------------------------------------------ deserializer (PI = 1)
    // OutBits is a multiple of InBits: input beats shift into a PO-beat register (one shared enable,
    // no logic per lane); the full register is the output beat. While it waits for m_axis_tready, one
    // more input beat parks in side_q (so s_axis_tready stays a flip-flop), and enters first after it.
    localparam int unsigned CntW = $clog2(PO + 1);
    logic [OutBits-1:0] sreg_q;
    logic [InBits-1:0]  side_q;
    logic               side_valid_q, full_q, shift, park;
    logic [CntW-1:0]    cnt_q, cnt_d;  // beats in sreg_q; full_q = (cnt_q == PO)

    assign s_axis_tready = !side_valid_q;
    assign m_axis_tvalid = full_q;
    assign m_axis_tdata  = sreg_q;

    // a beat enters the register while it is not full or its word leaves now (the parked beat first)
    assign shift = side_valid_q ? out_fire : in_fire && (!full_q || out_fire);
    assign park  = in_fire && full_q && !out_fire;
    assign cnt_d = out_fire ? CntW'(shift) : cnt_q + CntW'(shift);

    always_ff @(posedge clk_i) begin
      if (!rst_ni) begin
        cnt_q        <= '0;
        full_q       <= 1'b0;
        side_valid_q <= 1'b0;
      end else begin
        cnt_q        <= cnt_d;
        full_q       <= cnt_d == CntW'(PO);
        side_valid_q <= park || (side_valid_q && !out_fire);
      end
    end

    logic [InBits-1:0] next_beat;
    assign next_beat = side_valid_q ? side_q : s_axis_tdata;
    if (PO > 1) begin : gen_shift
      always_ff @(posedge clk_i) begin
        if (shift) sreg_q <= {next_beat, sreg_q[OutBits-1:InBits]};
      end
    end else begin : gen_load
      always_ff @(posedge clk_i) begin
        if (shift) sreg_q <= next_beat;
      end
    end
    always_ff @(posedge clk_i) begin
      if (park) side_q <= s_axis_tdata;
    end

  end else begin : gen_gearbox
    // ------------------------------------------------------------ any other pair (module header)
    logic [G-1:0] buf_q [C];
    logic [C-1:0] occ_q, occ_out, occ_d;  // thermometer occupancy: now, after an output beat, next
    assign s_axis_tready = !occ_q[C-PI];
    assign m_axis_tvalid = occ_q[PO-1];

    // occupancy
    assign occ_out = out_fire ? (occ_q >> PO) : occ_q;
    assign occ_d   = in_fire ? ((occ_out << PI) | C'({PI{1'b1}})) : occ_out;

    always_ff @(posedge clk_i) begin
      if (!rst_ni) occ_q <= '0;
      else         occ_q <= occ_d;
    end

    // input rotation: rot lane k = input lane (k - wpos) mod PI; rot_q = cnt mod PI, and
    // (rot_q - PO) mod PI without a divider: subtract PO mod PI, wrap once.
    logic [RotW-1:0]     rot_q, rot_d;
    logic [InBits-1:0]   rot;
    /* verilator lint_off UNUSEDSIGNAL */
    logic [2*InBits-1:0] doubled;  // its upper half is the input rotated left by wpos mod PI lanes
    /* verilator lint_on UNUSEDSIGNAL */
    assign rot_d = !out_fire ? rot_q
                 : (rot_q >= RotW'(PoModPi)) ? rot_q - RotW'(PoModPi)
                 : rot_q + RotW'(PI - PoModPi);
    always_ff @(posedge clk_i) begin
      if (!rst_ni) rot_q <= '0;
      else         rot_q <= rot_d;
    end
    assign doubled = {s_axis_tdata, s_axis_tdata} << (rot_d * G);
    assign rot     = doubled[2*InBits-1:InBits];

    // lane buffer
    for (genvar j = 0; j < C; j++) begin : gen_lane
      // lane j lies in the write window [wpos, wpos + PI): free after the output beat, and lane j - PI
      // (if any) occupied after it
      logic write;
      if (j >= PI) begin : gen_mid
        assign write = in_fire && !occ_out[j] && occ_out[j-PI];
      end else begin : gen_low
        assign write = in_fire && !occ_out[j];
      end
      always_ff @(posedge clk_i) begin
        if (write) begin
          buf_q[j] <= rot[(j % PI)*G +: G];
        end else if (out_fire) begin
          if (j + PO < C) buf_q[j] <= buf_q[j+PO];
        end
      end
    end

    for (genvar k = 0; k < PO; k++) begin : gen_out
      assign m_axis_tdata[k*G +: G] = buf_q[k];
    end
  end

  // valid/ready never X/Z out of reset (simulation only)
  shiftbnn_assert_known #(
    .Width (2)
  ) u_assert_known (
    .clk_i,
    .rst_ni,
    .sig_i ({s_axis_tvalid, m_axis_tready})
  );

endmodule : stream_dwc
