// shiftbnn_assert_known: simulation-only check that sig_i carries no X/Z out of reset (every block
// applies it to its valid/ready inputs). 4-state simulators only: Verilator is 2-state and never fires
// it. The $error's %m names the instance, so the message needs no text of its own. Empty (no logic)
// under SYNTHESIS.
module shiftbnn_assert_known #(
  parameter int unsigned Width = 1
) (
  input logic             clk_i,
  input logic             rst_ni,
  input logic [Width-1:0] sig_i
);

`ifndef SYNTHESIS
  always_ff @(posedge clk_i) begin
    if (rst_ni) begin
      assert (!$isunknown(sig_i)) else $error("%m: X/Z on sig_i (%b) out of reset", sig_i);
    end
  end
`else
  logic unused_sig;  // no logic under SYNTHESIS (the dangling xor is removed); keeps lint quiet
  assign unused_sig = ^{clk_i, rst_ni, sig_i};
`endif

endmodule : shiftbnn_assert_known
