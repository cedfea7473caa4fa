// mvau_wload: run-time weight loading for one MVAU, a link of the top's weight-stream daisy chain.
//
// After reset, the first Depth * Slices beats of s_axis_wgt (32 bits, Slices = ceil(Width / 32)) are
// this unit's weight memory, word by word from address 0, each word's 32-bit slices least significant
// first (the last slice zero-padded): beat k writes slice k % Slices of word k / Slices. Every later
// beat passes on to m_axis_wgt (the next MVAU's loader) through a skid buffer, so the chain has no
// combinational path from one unit to the next. The driver streams all layers' words in chain order
// once after reset (flow/deploy/driver.py); inference does not wait for it, the memories just hold
// whatever was last written. The write is registered (wr_*_o one cycle after the beat).
module mvau_wload #(
  parameter int unsigned Width     = 64,
  parameter int unsigned Depth     = 4,
  // derived, do not override
  parameter int unsigned AddrBits  = Depth > 1 ? $clog2(Depth) : 1,
  parameter int unsigned Slices    = (Width + 31) / 32,
  parameter int unsigned SliceBits = Slices > 1 ? $clog2(Slices) : 1
) (
  input  logic                 clk_i,
  input  logic                 rst_ni,

  input  logic [31:0]          s_axis_wgt_tdata,
  input  logic                 s_axis_wgt_tvalid,
  output logic                 s_axis_wgt_tready,

  output logic [31:0]          m_axis_wgt_tdata,
  output logic                 m_axis_wgt_tvalid,
  input  logic                 m_axis_wgt_tready,

  output logic                 wr_en_o,
  output logic [AddrBits-1:0]  wr_addr_o,
  output logic [SliceBits-1:0] wr_slice_o,
  output logic [31:0]          wr_data_o
);

  if (Width < 1 || Depth < 1) begin : gen_err
    $fatal(1, "mvau_wload: Width and Depth must be >= 1");
  end

  logic [AddrBits-1:0]  addr_q;
  logic [SliceBits-1:0] slice_q;
  logic                 done_q;   // every word of this unit written: pass beats on
  logic                 take;     // a beat for this unit's memory
  logic                 fwd_ready;

  assign take              = s_axis_wgt_tvalid && !done_q;
  assign s_axis_wgt_tready = done_q ? fwd_ready : 1'b1;

  always_ff @(posedge clk_i) begin
    if (!rst_ni) begin
      addr_q  <= '0;
      slice_q <= '0;
      done_q  <= 1'b0;
      wr_en_o <= 1'b0;
    end else begin
      wr_en_o <= take;
      if (take) begin
        if (32'(slice_q) == Slices - 1) begin
          slice_q <= '0;
          addr_q  <= addr_q + 1'b1;
          done_q  <= 32'(addr_q) == Depth - 1;
        end else begin
          slice_q <= slice_q + 1'b1;
        end
      end
    end
  end
  always_ff @(posedge clk_i) begin
    if (take) begin
      wr_addr_o  <= addr_q;
      wr_slice_o <= slice_q;
      wr_data_o  <= s_axis_wgt_tdata;
    end
  end

  axis_skid #(
    .DataWidth (32)
  ) u_fwd (
    .clk_i,
    .rst_ni,
    .s_axis_tdata  (s_axis_wgt_tdata),
    .s_axis_tvalid (s_axis_wgt_tvalid && done_q),
    .s_axis_tready (fwd_ready),
    .m_axis_tdata  (m_axis_wgt_tdata),
    .m_axis_tvalid (m_axis_wgt_tvalid),
    .m_axis_tready (m_axis_wgt_tready)
  );

endmodule : mvau_wload
