// mvau_wmem: the weight memory of bnn_mvau and int_mvau (Depth words of Width bits, $readmemh InitFile).
//
// Style, the synthesis ram_style:
//   "block" (RAMB18/36, FINN's internal_decoupled), "distributed" (LUTRAM), "ultra" (URAM288 on
//   UltraScale+), "auto" (the tool's choice): read synchronously, data_o = mem[addr_i] one enabled
//   cycle after addr_i.
//   "logic": a ROM as LUT logic (FINN's internal_embedded for a shallow memory), read combinationally
//   from the address registered on en_i: the same one-cycle timing, but synthesis can fold each data
//   bit's function of the address into the logic that reads it (bnn_mvau: into the XNOR LUTs).
module mvau_wmem #(
  parameter int unsigned Width    = 8,
  parameter int unsigned Depth    = 4,
  parameter string       Style    = "block",
  parameter string       InitFile = "",
  // derived, do not override
  parameter int unsigned AddrBits = Depth > 1 ? $clog2(Depth) : 1
) (
  input  logic                clk_i,
  input  logic                en_i,
  input  logic [AddrBits-1:0] addr_i,
  output logic [Width-1:0]    data_o
);

  if (Style != "block" && Style != "distributed" && Style != "ultra" && Style != "auto" && Style != "logic")
  begin : gen_err_style
    $fatal(1, "mvau_wmem: Style must be block, distributed, ultra, auto or logic");
  end
  if (InitFile == "") begin : gen_err_file
    $fatal(1, "mvau_wmem: InitFile must be set");
  end

  if (Style == "logic") begin : gen_logic
    (* rom_style = "distributed", ram_style = "logic" *) logic [Width-1:0] mem [Depth];
    logic [AddrBits-1:0] addr_q;
    initial $readmemh(InitFile, mem);
    always_ff @(posedge clk_i) begin
      if (en_i) addr_q <= addr_i;
    end
    assign data_o = mem[addr_q];
  end else begin : gen_sync
    logic [Width-1:0] data_q;
    if (Style == "block") begin : gen_block
      (* ram_style = "block" *) logic [Width-1:0] mem [Depth];
      initial $readmemh(InitFile, mem);
      always_ff @(posedge clk_i) begin
        if (en_i) data_q <= mem[addr_i];
      end
    end else if (Style == "distributed") begin : gen_dist
      (* ram_style = "distributed" *) logic [Width-1:0] mem [Depth];
      initial $readmemh(InitFile, mem);
      always_ff @(posedge clk_i) begin
        if (en_i) data_q <= mem[addr_i];
      end
    end else if (Style == "ultra") begin : gen_ultra
      (* ram_style = "ultra" *) logic [Width-1:0] mem [Depth];
      initial $readmemh(InitFile, mem);
      always_ff @(posedge clk_i) begin
        if (en_i) data_q <= mem[addr_i];
      end
    end else begin : gen_auto
      logic [Width-1:0] mem [Depth];
      initial $readmemh(InitFile, mem);
      always_ff @(posedge clk_i) begin
        if (en_i) data_q <= mem[addr_i];
      end
    end
    assign data_o = data_q;
  end

endmodule : mvau_wmem
