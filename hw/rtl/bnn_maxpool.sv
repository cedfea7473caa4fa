// bnn_maxpool: streaming non-overlapping max pool (Kernel x Kernel window, stride Kernel) on an NHWC
// feature-map stream, with its own row buffer.
//
// Maths: y[oy, ox, c] = max_{ky,kx < Kernel} x[oy*Kernel + ky, ox*Kernel + kx, c].
//   Bipolar maps are stored as bits (+1 -> 1, -1 -> 0); the max of bipolar values is the OR of the
//   bits, which is the unsigned max for ElemBits = 1. ElemBits > 1 compares unsigned or signed.
//
// Streams (FINN StreamingMaxPool / Pool stream order, channels folded, element 0 in the LSBs):
//   in : ImgDim*ImgDim*Channels/PE beats per image, order (y, x, cf); beat holds channels
//        cf*PE + p at bits [p*ElemBits +: ElemBits].
//   out: (ImgDim/Kernel)^2 * Channels/PE beats in the same (oy, ox, cf) order and packing.
//
// Row buffer: (ImgDim/Kernel) * (Channels/PE) words of PE*ElemBits bits, address ox*CF + cf. It holds
// the running max of the output row being built; the first pixel of a window overwrites, the last
// one is emitted instead of written. One input beat per cycle; asynchronous buffer read (LUTRAM).
module bnn_maxpool #(
  parameter int unsigned ImgDim   = 4,
  parameter int unsigned Channels = 4,
  parameter int unsigned PE       = 2,
  parameter int unsigned Kernel   = 2,
  parameter int unsigned ElemBits = 1,
  parameter bit          Signed   = 1'b0
) (
  input  logic                     clk_i,
  input  logic                     rst_ni,

  input  logic [PE*ElemBits-1:0]   s_axis_tdata,
  input  logic                     s_axis_tvalid,
  output logic                     s_axis_tready,

  output logic [PE*ElemBits-1:0]   m_axis_tdata,
  output logic                     m_axis_tvalid,
  input  logic                     m_axis_tready
);

  localparam int unsigned CF    = Channels / PE;
  localparam int unsigned OD    = ImgDim / Kernel;
  localparam int unsigned Width = PE * ElemBits;
  localparam int unsigned Depth = OD * CF;
  localparam int unsigned CfW   = CF > 1 ? $clog2(CF) : 1;
  localparam int unsigned KW    = Kernel > 1 ? $clog2(Kernel) : 1;
  localparam int unsigned OdW   = OD > 1 ? $clog2(OD) : 1;
  localparam int unsigned AW    = Depth > 1 ? $clog2(Depth) : 1;

  if (Channels % PE != 0) begin : gen_err_pe
    $fatal(1, "bnn_maxpool: PE (%0d) must divide Channels (%0d)", PE, Channels);
  end
  if (Kernel < 1 || ImgDim % Kernel != 0) begin : gen_err_k
    $fatal(1, "bnn_maxpool: Kernel (%0d) must divide ImgDim (%0d)", Kernel, ImgDim);
  end
  if (ElemBits < 1) begin : gen_err_eb
    $fatal(1, "bnn_maxpool: ElemBits must be >= 1");
  end

  // ---------------------------------------------------------------- position counters
  logic [CfW-1:0] cf_q;
  logic [KW-1:0]  kx_q, ky_q;
  logic [OdW-1:0] ox_q;
  logic [AW-1:0]  base_q;       // ox*CF
  logic           fire, first, last, out_ready;

  assign s_axis_tready = out_ready;
  assign fire  = s_axis_tvalid && out_ready;
  assign first = (kx_q == '0) && (ky_q == '0);
  assign last  = (32'(kx_q) == Kernel - 1) && (32'(ky_q) == Kernel - 1);

  always_ff @(posedge clk_i) begin
    if (!rst_ni) begin
      cf_q   <= '0;
      kx_q   <= '0;
      ky_q   <= '0;
      ox_q   <= '0;
      base_q <= '0;
    end else if (fire) begin
      cf_q <= (32'(cf_q) == CF - 1) ? '0 : cf_q + 1'b1;
      if (32'(cf_q) == CF - 1) begin
        kx_q <= (32'(kx_q) == Kernel - 1) ? '0 : kx_q + 1'b1;
        if (32'(kx_q) == Kernel - 1) begin
          if (32'(ox_q) == OD - 1) begin
            ox_q   <= '0;
            base_q <= '0;
            ky_q   <= (32'(ky_q) == Kernel - 1) ? '0 : ky_q + 1'b1;
          end else begin
            ox_q   <= ox_q + 1'b1;
            base_q <= base_q + AW'(CF);
          end
        end
      end
    end
  end

  // ---------------------------------------------------------------- row buffer and max
  logic [AW-1:0]    addr;
  logic [Width-1:0] rowbuf [Depth];
  logic [Width-1:0] prev, maxed;

  assign addr = base_q + AW'(cf_q);
  assign prev = rowbuf[addr];

  for (genvar p = 0; p < PE; p++) begin : gen_max
    logic [ElemBits-1:0] a, b;
    logic                a_ge_b;
    assign a = s_axis_tdata[p*ElemBits +: ElemBits];
    assign b = prev[p*ElemBits +: ElemBits];
    if (Signed) begin : gen_signed
      assign a_ge_b = $signed(a) >= $signed(b);
    end else begin : gen_unsigned
      assign a_ge_b = a >= b;
    end
    assign maxed[p*ElemBits +: ElemBits] = (first || a_ge_b) ? a : b;
  end

  always_ff @(posedge clk_i) begin
    if (fire && !last) rowbuf[addr] <= maxed;
  end

  axis_skid #(
    .DataWidth (Width)
  ) u_out_skid (
    .clk_i,
    .rst_ni,
    .s_axis_tdata  (maxed),
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

endmodule : bnn_maxpool
