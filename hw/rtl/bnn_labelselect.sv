// bnn_labelselect: top-K label select on the last layer's accumulator stream (FINN LabelSelect).
//
// Maths (FINN executes LabelSelect as ONNX TopK(largest, sorted)): output the indices of the K largest
// of Labels values, in descending order of value; equal values keep ascending index order.
//
// Streams:
//   in : Labels/PE beats per frame; beat b holds value b*PE + p at bits [p*InputBits +: InputBits]
//        (two's complement if Signed), as the MVAU's PE-folded accumulator output.
//   out: K beats per frame, one index (unsigned, OutBits) per beat, best first; FINN's folded output
//        shape (K, 1).
//
// Implementation: a sorted insertion register of K (value, index) slots takes one value per cycle
// (a beat of PE values is consumed in PE cycles: Labels cycles per frame, negligible next to the MVAU
// that feeds it). New value v goes to the first slot i with v > slot[i] (strict: ties stay behind
// older, lower indices); the slots behind shift down. At the end of a frame the K indices move to an
// output shift register, so the next frame is accepted while the indices drain.
module bnn_labelselect #(
  parameter int unsigned Labels    = 10,
  parameter int unsigned PE        = 1,
  parameter int unsigned K         = 1,
  parameter int unsigned InputBits = 16,
  parameter bit          Signed    = 1'b1,
  parameter int unsigned OutBits   = 8
) (
  input  logic                     clk_i,
  input  logic                     rst_ni,

  input  logic [PE*InputBits-1:0]  s_axis_tdata,
  input  logic                     s_axis_tvalid,
  output logic                     s_axis_tready,

  output logic [OutBits-1:0]       m_axis_tdata,
  output logic                     m_axis_tvalid,
  input  logic                     m_axis_tready
);

  localparam int unsigned PeW  = PE > 1 ? $clog2(PE) : 1;
  localparam int unsigned LabW = Labels > 1 ? $clog2(Labels) : 1;
  localparam int unsigned CntW = $clog2(K + 1);

  if (Labels % PE != 0) begin : gen_err_pe
    $fatal(1, "bnn_labelselect: PE (%0d) must divide Labels (%0d)", PE, Labels);
  end
  if (K < 1 || K > Labels) begin : gen_err_k
    $fatal(1, "bnn_labelselect: K (%0d) must be in 1..Labels (%0d)", K, Labels);
  end
  if (OutBits < LabW || OutBits > 32) begin : gen_err_ob
    $fatal(1, "bnn_labelselect: OutBits (%0d) cannot hold index %0d", OutBits, Labels - 1);
  end

  // ---------------------------------------------------------------- input element select
  logic [PeW-1:0]        j_q;       // element within the current beat
  logic [LabW-1:0]       lab_q;     // label index of that element
  logic [InputBits-1:0]  v;
  logic                  last_lab, out_busy, accept, proc;
  logic [CntW-1:0]       out_cnt_q;

  assign v        = s_axis_tdata[j_q*InputBits +: InputBits];
  assign last_lab = (32'(lab_q) == Labels - 1);
  assign out_busy = (out_cnt_q != '0);
  assign accept   = !(last_lab && out_busy);  // the frame's last value needs a free output register
  assign proc     = s_axis_tvalid && accept;
  assign s_axis_tready = accept && (32'(j_q) == PE - 1);  // independent of s_axis_tvalid

  always_ff @(posedge clk_i) begin
    if (!rst_ni) begin
      j_q   <= '0;
      lab_q <= '0;
    end else if (proc) begin
      j_q   <= (32'(j_q) == PE - 1) ? '0 : j_q + 1'b1;
      lab_q <= last_lab ? '0 : lab_q + 1'b1;
    end
  end

  // ---------------------------------------------------------------- sorted insertion
  logic [InputBits-1:0] val_q [K];
  logic [LabW-1:0]      idx_q [K];
  logic [K-1:0]         vld_q;
  logic [InputBits-1:0] val_d [K];
  logic [LabW-1:0]      idx_d [K];
  logic [K-1:0]         gt;

  for (genvar i = 0; i < K; i++) begin : gen_slot
    if (Signed) begin : gen_s
      assign gt[i] = !vld_q[i] || ($signed(v) > $signed(val_q[i]));
    end else begin : gen_u
      assign gt[i] = !vld_q[i] || (v > val_q[i]);
    end
    if (i == 0) begin : gen_head
      assign val_d[i] = gt[i] ? v : val_q[i];
      assign idx_d[i] = gt[i] ? lab_q : idx_q[i];
    end else begin : gen_tail
      assign val_d[i] = !gt[i] ? val_q[i] : (gt[i-1] ? val_q[i-1] : v);
      assign idx_d[i] = !gt[i] ? idx_q[i] : (gt[i-1] ? idx_q[i-1] : lab_q);
    end
  end

  always_ff @(posedge clk_i) begin
    if (!rst_ni) begin
      vld_q <= '0;
    end else if (proc) begin
      vld_q <= last_lab ? '0 : K'({vld_q, 1'b1});  // slots fill from the front
    end
  end
  always_ff @(posedge clk_i) begin
    if (proc) begin
      val_q <= val_d;
      idx_q <= idx_d;
    end
  end

  // ---------------------------------------------------------------- output shift register
  logic [LabW-1:0] out_idx_q [K];

  always_ff @(posedge clk_i) begin
    if (!rst_ni) begin
      out_cnt_q <= '0;
    end else if (proc && last_lab) begin
      out_cnt_q <= CntW'(K);
    end else if (m_axis_tvalid && m_axis_tready) begin
      out_cnt_q <= out_cnt_q - 1'b1;
    end
  end
  always_ff @(posedge clk_i) begin
    if (proc && last_lab) begin
      out_idx_q <= idx_d;
    end else if (m_axis_tvalid && m_axis_tready) begin
      for (int unsigned i = 1; i < K; i++) out_idx_q[i-1] <= out_idx_q[i];
    end
  end

  assign m_axis_tvalid = out_busy;
  assign m_axis_tdata  = OutBits'(out_idx_q[0]);

  // valid/ready never X/Z out of reset (simulation only)
  shiftbnn_assert_known #(
    .Width (2)
  ) u_assert_known (
    .clk_i,
    .rst_ni,
    .sig_i ({s_axis_tvalid, m_axis_tready})
  );

endmodule : bnn_labelselect
