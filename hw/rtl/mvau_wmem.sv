// mvau_wmem: the weight memory of bnn_mvau and int_mvau (Depth words of Width bits, $readmemh InitFile).
//
// Style, the synthesis ram_style:
//   "block" (RAMB18/36, FINN's internal_decoupled), "distributed" (LUTRAM), "ultra" (URAM288 on
//   UltraScale+), "auto" (the tool's choice): read synchronously, data_o = mem[addr_i] one enabled
//   cycle after addr_i.
//   "logic": a ROM as LUT logic (FINN's internal_embedded for a shallow memory), read combinationally
//   from the address registered on en_i: the same one-cycle timing, but synthesis can share or fold each
//   data bit's function of the address into the logic that reads it.
// RuntimeWrite = 1 loads the words at run time from s_axis_wgt (mvau_wload: the first Depth x
// ceil(Width/32) beats after reset, later beats pass on to m_axis_wgt), through a write port of 32-bit
// slices independent of en_i. URAM has no initial contents in a bitstream, so "ultra" needs it; InitFile
// may then be empty. "logic" cannot have it. RuntimeWrite = 0: s_axis_wgt is never ready, m_axis_wgt idle.
module mvau_wmem #(
  parameter int unsigned Width        = 8,
  parameter int unsigned Depth        = 4,
  parameter string       Style        = "block",
  parameter string       InitFile     = "",
  parameter bit          RuntimeWrite = 1'b0,
  // derived, do not override
  parameter int unsigned AddrBits     = Depth > 1 ? $clog2(Depth) : 1,
  parameter int unsigned Slices       = (Width + 31) / 32,
  parameter int unsigned SliceBits    = Slices > 1 ? $clog2(Slices) : 1
) (
  input  logic                 clk_i,
  input  logic                 rst_ni,  // the loader's only (the memory has no reset)
  input  logic                 en_i,
  input  logic [AddrBits-1:0]  addr_i,
  output logic [Width-1:0]     data_o,

  input  logic [31:0]          s_axis_wgt_tdata,
  input  logic                 s_axis_wgt_tvalid,
  output logic                 s_axis_wgt_tready,
  output logic [31:0]          m_axis_wgt_tdata,
  output logic                 m_axis_wgt_tvalid,
  input  logic                 m_axis_wgt_tready
);

  logic                 wr_en;
  logic [AddrBits-1:0]  wr_addr;
  logic [SliceBits-1:0] wr_slice;
  logic [31:0]          wr_data;
  if (RuntimeWrite) begin : gen_load
    mvau_wload #(
      .Width (Width),
      .Depth (Depth)
    ) u_load (
      .clk_i,
      .rst_ni,
      .s_axis_wgt_tdata,
      .s_axis_wgt_tvalid,
      .s_axis_wgt_tready,
      .m_axis_wgt_tdata,
      .m_axis_wgt_tvalid,
      .m_axis_wgt_tready,
      .wr_en_o    (wr_en),
      .wr_addr_o  (wr_addr),
      .wr_slice_o (wr_slice),
      .wr_data_o  (wr_data)
    );
  end else begin : gen_no_load
    assign {wr_en, wr_addr, wr_slice, wr_data} = '0;
    assign s_axis_wgt_tready = 1'b0;
    assign m_axis_wgt_tdata  = '0;
    assign m_axis_wgt_tvalid = 1'b0;
    logic unused_wgt;
    assign unused_wgt = ^{rst_ni, s_axis_wgt_tdata, s_axis_wgt_tvalid, m_axis_wgt_tready};
  end

  localparam int unsigned MemWidth = RuntimeWrite ? 32 * Slices : Width;

  if (Style != "block" && Style != "distributed" && Style != "ultra" && Style != "auto" && Style != "logic")
  begin : gen_err_style
    $fatal(1, "mvau_wmem: Style must be block, distributed, ultra, auto or logic");
  end
  if (InitFile == "" && !RuntimeWrite) begin : gen_err_file
    $fatal(1, "mvau_wmem: InitFile must be set (or RuntimeWrite)");
  end
  if (Style == "logic" && RuntimeWrite) begin : gen_err_logic
    $fatal(1, "mvau_wmem: a LUT-logic ROM has no write port (use distributed, block, ultra or auto)");
  end

  if (Style == "logic") begin : gen_logic
    (* rom_style = "distributed", ram_style = "logic" *) logic [Width-1:0] mem [Depth];
    logic [AddrBits-1:0] addr_q;
    initial $readmemh(InitFile, mem);
    always_ff @(posedge clk_i) begin
      if (en_i) addr_q <= addr_i;
    end
    assign data_o = mem[addr_q];
    logic unused_wr;  // RuntimeWrite = 0 here: the tied-off write port
    assign unused_wr = ^{wr_en, wr_addr, wr_slice, wr_data};
  end else begin : gen_sync
    (* ram_style = Style *) logic [MemWidth-1:0] mem [Depth];  // "auto": the tool's choice
    logic [MemWidth-1:0] data_q;
    if (InitFile != "") begin : gen_init
      initial $readmemh(InitFile, mem);
    end
    always_ff @(posedge clk_i) begin
      if (en_i) data_q <= mem[addr_i];
    end
    assign data_o = data_q[Width-1:0];
    if (RuntimeWrite) begin : gen_wr
      // one write port with a 32-bit enable per slice (block RAM byte enables, one LUTRAM column each)
      always_ff @(posedge clk_i) begin
        for (int s = 0; s < int'(Slices); s++) begin
          if (wr_en && 32'(wr_slice) == s) mem[wr_addr][32*s +: 32] <= wr_data;
        end
      end
      if (MemWidth > Width) begin : gen_pad
        logic unused_pad;  // the last slice's bits above Width
        assign unused_pad = ^data_q[MemWidth-1:Width];
      end
    end else begin : gen_no_wr
      logic unused_wr;
      assign unused_wr = ^{wr_en, wr_addr, wr_slice, wr_data};
    end
  end

endmodule : mvau_wmem
