// axis_tlast_gen: TLAST for an output stream that has none, derived from the input stream's TLAST.
//
// The generated top (shiftbnn_top) has no TLAST, but AXI DMA S2MM ends a transfer only on TLAST.
// A DMA transfer of B images arrives as B * InBeatsPerImage input beats, the last with TLAST; the
// accelerator returns OutBeatsPerImage beats per image, in order. So:
//   input side : count whole images; at an input beat with TLAST queue the count B (if B > 0).
//   output side: count whole images; raise out_last_o on the beat that completes the queued B-th
//                image, then pop.
// Causality makes out_last_o stable while a beat is valid: an image's last output beat cannot appear
// before its last input beat was accepted (the push registers on that handshake). Up to Depth
// transfers may be in flight; with the queue full the TLAST beat is held (in_hold_o).
// A TLAST in the middle of an image counts only the whole images so far (the driver never does it).
module axis_tlast_gen #(
  parameter int unsigned InBeatsPerImage  = 1,
  parameter int unsigned OutBeatsPerImage = 1,
  parameter int unsigned Depth            = 4,
  parameter int unsigned CountWidth       = 32
) (
  input  logic clk_i,
  input  logic rst_ni,       // synchronous, active low
  input  logic in_fire_i,    // an input beat is accepted (tvalid & tready)
  input  logic in_last_i,    // ... and it carries TLAST
  output logic in_hold_o,    // queue full: do not accept a beat with TLAST
  input  logic out_fire_i,   // an output beat is accepted
  output logic out_last_o    // TLAST of the current output beat
);
  localparam int unsigned InBeatW  = InBeatsPerImage  > 1 ? $clog2(InBeatsPerImage)  : 1;
  localparam int unsigned OutBeatW = OutBeatsPerImage > 1 ? $clog2(OutBeatsPerImage) : 1;
  localparam int unsigned PtrW     = Depth > 1 ? $clog2(Depth) : 1;

  initial begin
    if (InBeatsPerImage < 1 || OutBeatsPerImage < 1) $error("beats per image must be at least 1");
    if (Depth < 2 || (Depth & (Depth - 1)) != 0) $error("Depth must be a power of two, at least 2");
  end

  logic [InBeatW-1:0]    in_beat_q;
  logic [OutBeatW-1:0]   out_beat_q;
  logic [CountWidth-1:0] in_img_q, out_img_q;
  logic [CountWidth-1:0] queue_q [Depth];
  logic [PtrW:0]         wr_q, rd_q;

  logic in_img_end, out_img_end, empty, full, push, pop;
  logic [CountWidth-1:0] in_img_next;

  always_comb begin
    in_img_end  = in_beat_q == InBeatW'(InBeatsPerImage - 1);
    out_img_end = out_beat_q == OutBeatW'(OutBeatsPerImage - 1);
    in_img_next = in_img_q + (in_img_end ? CountWidth'(1) : '0);
    empty       = wr_q == rd_q;
    full        = wr_q == {~rd_q[PtrW], rd_q[PtrW-1:0]};
    in_hold_o   = full;
    push        = in_fire_i && in_last_i && in_img_next != '0;
    out_last_o  = !empty && out_img_end && (out_img_q + CountWidth'(1)) == queue_q[rd_q[PtrW-1:0]];
    pop         = out_fire_i && out_last_o;
  end

  always_ff @(posedge clk_i) begin
    if (!rst_ni) begin
      in_beat_q  <= '0;
      out_beat_q <= '0;
      in_img_q   <= '0;
      out_img_q  <= '0;
      wr_q       <= '0;
      rd_q       <= '0;
    end else begin
      if (in_fire_i) begin
        in_beat_q <= in_img_end ? '0 : in_beat_q + InBeatW'(1);
        in_img_q  <= in_last_i ? '0 : in_img_next;
      end
      if (push) begin
        queue_q[wr_q[PtrW-1:0]] <= in_img_next;
        wr_q <= wr_q + 1'b1;
      end
      if (out_fire_i) begin
        out_beat_q <= out_img_end ? '0 : out_beat_q + OutBeatW'(1);
        if (out_img_end) out_img_q <= pop ? '0 : out_img_q + CountWidth'(1);
      end
      if (pop) rd_q <= rd_q + 1'b1;
    end
  end
endmodule
