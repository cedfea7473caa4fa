// axis_skid: two-entry AXI-stream skid buffer (pipeline register with registered ready).
//
// Cuts the combinational path of both tvalid/tdata (forward) and tready (backward): s_axis_tready is
// a flip-flop output, m_axis_* are flip-flop outputs. Full throughput (one beat per cycle) under
// continuous flow; holds at most two beats.
//
// Upstream logic that uses s_axis_tready as a pipeline enable may issue a beat in every cycle in
// which s_axis_tready was high; the second entry (skid register) absorbs the beat that is already
// in flight when m_axis_tready falls.
//
// FINN's finn-rtllib/skid uses an active-high reset and hard SRL16E primitives outside simulation,
// so shiftbnn keeps this small inferred version (synchronous active-low reset, lowRISC naming).
module axis_skid #(
  parameter int unsigned DataWidth = 8
) (
  input  logic                 clk_i,
  input  logic                 rst_ni,

  input  logic [DataWidth-1:0] s_axis_tdata,
  input  logic                 s_axis_tvalid,
  output logic                 s_axis_tready,

  output logic [DataWidth-1:0] m_axis_tdata,
  output logic                 m_axis_tvalid,
  input  logic                 m_axis_tready
);

  if (DataWidth < 1) begin : gen_err_width
    $fatal(1, "axis_skid: DataWidth must be >= 1");
  end

  logic [DataWidth-1:0] out_data_q, skid_data_q;
  logic                 out_valid_q, skid_valid_q;

  // Output register is free (or frees up this cycle).
  logic out_load;
  assign out_load = !out_valid_q || m_axis_tready;

  always_ff @(posedge clk_i) begin
    if (!rst_ni) begin
      out_valid_q  <= 1'b0;
      skid_valid_q <= 1'b0;
    end else begin
      if (out_load) begin
        // Refill the output register: skid entry first (it is older), else the input.
        out_valid_q  <= skid_valid_q || (s_axis_tvalid && s_axis_tready);
        skid_valid_q <= 1'b0;
      end else if (s_axis_tvalid && s_axis_tready) begin
        // Output stalled while a beat arrives: park it in the skid register.
        skid_valid_q <= 1'b1;
      end
    end
  end

  always_ff @(posedge clk_i) begin
    if (out_load) begin
      out_data_q <= skid_valid_q ? skid_data_q : s_axis_tdata;
    end
    if (!out_load && s_axis_tready) begin
      skid_data_q <= s_axis_tdata;
    end
  end

  assign s_axis_tready = !skid_valid_q;
  assign m_axis_tdata  = out_data_q;
  assign m_axis_tvalid = out_valid_q;

endmodule : axis_skid
