// bnn_globalaccpool: streaming global sum pool over all pixels of an image (FINN GlobalAccPool, the
// global average pool of Bi-Real-Net before its classifier, with the 1/Pixels folded downstream).
//
// Maths: y[c] = sum_{n < Pixels} x[n, c], per image.
//   x: InBits, two's complement if InSigned else unsigned, extended to OutBits. y: the OutBits-bit
//   two's complement of the sum (computed modulo 2^OutBits). FINN's output type is the smallest one
//   holding Pixels*min(x) (signed input: an INT) or Pixels*max(x) (unsigned input: a UINT, same bits);
//   elaboration stops unless OutBits holds that range, so the modulo never wraps a reachable sum.
//
// Streams (channels folded by PE, element 0 in the LSBs, FINN packing):
//   in : Pixels*Channels/PE beats per image, order (pixel n, fold cf); beat holds channels
//        cf*PE + p at [p*InBits +: InBits].
//   out: Channels/PE beats per image, beat cf holds y[cf*PE + p] at [p*OutBits +: OutBits].
//
// Accumulator: Channels/PE words of PE*OutBits bits (LUTRAM, asynchronous read), word cf. The first
// pixel overwrites it; the last pixel's beat is added and emitted instead of written, so the output
// beats leave while the last pixel streams in. One input beat per cycle; the input stalls only when
// the output skid buffer is full (registered s_axis_tready, no combinational path from
// m_axis_tready). Output latency 1 cycle after the last pixel's beat of each fold.
module bnn_globalaccpool #(
  parameter int unsigned Channels = 4,
  parameter int unsigned PE       = 1,
  parameter int unsigned Pixels   = 4,
  parameter int unsigned InBits   = 8,
  parameter bit          InSigned = 1,
  parameter int unsigned OutBits  = 11
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

  localparam int unsigned CF    = Channels / PE;
  localparam int unsigned Width = PE * OutBits;
  localparam int unsigned CfW   = CF > 1 ? $clog2(CF) : 1;
  localparam int unsigned PixW  = Pixels > 1 ? $clog2(Pixels) : 1;
  // Extreme sum FINN sizes the output for, and the range of the OutBits output type.
  localparam longint      Extreme = InSigned ? longint'(Pixels) * (longint'(1) <<< (InBits - 1))
                                             : longint'(Pixels) * ((longint'(1) <<< InBits) - 1);
  localparam longint      TypeMax = InSigned ? (longint'(1) <<< (OutBits - 1))
                                             : (longint'(1) <<< OutBits) - 1;

  if (Channels < 1 || PE < 1 || Channels % PE != 0) begin : gen_err_pe
    $fatal(1, "bnn_globalaccpool: PE (%0d) must divide Channels (%0d)", PE, Channels);
  end
  if (Pixels < 1 || InBits < 1 || InBits > 32) begin : gen_err_size
    $fatal(1, "bnn_globalaccpool: need Pixels >= 1 and 1 <= InBits <= 32");
  end
  if (OutBits < InBits || OutBits > 62 || Extreme > TypeMax) begin : gen_err_out
    $fatal(1, "bnn_globalaccpool: OutBits (%0d) cannot hold %0d pixels of %0d bits",
           OutBits, Pixels, InBits);
  end

  // ---------------------------------------------------------------- position counters
  logic [CfW-1:0]  cf_q;
  logic [PixW-1:0] pix_q;
  logic            fire, first, last, out_ready;

  assign s_axis_tready = out_ready;
  assign fire  = s_axis_tvalid && out_ready;
  assign first = pix_q == '0;
  assign last  = 32'(pix_q) == Pixels - 1;

  always_ff @(posedge clk_i) begin
    if (!rst_ni) begin
      cf_q  <= '0;
      pix_q <= '0;
    end else if (fire) begin
      cf_q <= (32'(cf_q) == CF - 1) ? '0 : cf_q + 1'b1;
      if (32'(cf_q) == CF - 1) begin
        pix_q <= last ? '0 : pix_q + 1'b1;
      end
    end
  end

  // ---------------------------------------------------------------- accumulator
  logic [Width-1:0] acc [CF];
  logic [Width-1:0] prev, sum;

  assign prev = acc[cf_q];

  for (genvar p = 0; p < PE; p++) begin : gen_lane
    logic [OutBits-1:0] x, a;
    if (InSigned) begin : gen_signed
      assign x = OutBits'($signed(s_axis_tdata[p*InBits +: InBits]));
    end else begin : gen_unsigned
      assign x = OutBits'(s_axis_tdata[p*InBits +: InBits]);
    end
    assign a = first ? '0 : prev[p*OutBits +: OutBits];
    assign sum[p*OutBits +: OutBits] = a + x;   // modulo 2^OutBits, exact by the check above
  end

  always_ff @(posedge clk_i) begin
    if (fire && !last) acc[cf_q] <= sum;
  end

  axis_skid #(
    .DataWidth (Width)
  ) u_out_skid (
    .clk_i,
    .rst_ni,
    .s_axis_tdata  (sum),
    .s_axis_tvalid (s_axis_tvalid && last),
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

endmodule : bnn_globalaccpool
