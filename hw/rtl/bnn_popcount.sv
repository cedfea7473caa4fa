// bnn_popcount: y = popcount(xnor(a, b)) of N bit pairs through a compressor tree sized to LUT6.
//
// Why not $countones(~(a ^ b)): yosys maps that to ~2.3 LUT per bit. A LUT6 sees 6 inputs, so
//   level 0   : each group of G pairs (G = GroupSize <= 3, 2G <= 6 inputs) -> its count in
//               B0 = clog2(G+1) bits, one LUT6 per output bit: the XNOR costs no LUT of its own.
//               G = 3: 2 LUT per 3 pairs (0.67 LUT/pair). A caller whose b is a LUT ROM of A <= 3
//               address bits may pick G = 3 - max(0, A - 3) so the ROM folds into these LUTs too.
//   levels 1+ : a bit heap (column c = weight 2^c). In every column, groups of 6 bits go through a
//               6:3 counter (3 LUT6, removes 3 bits); a remainder of 3..5 bits through a 3:2 / 4:3 /
//               5:3 counter; fewer bits pass. Counter outputs land in columns c, c+1, c+2.
//               Repeated until every column holds <= 2 bits (sum of the heap = y at every level).
//   final     : y = row0 + row1 (one carry chain, CARRY4).
// Cost ~ 0.67 N (level 0) + ~1 LUT per removed heap bit (~0.67 N) = ~1.35-1.55 LUT per pair.
// Pipelining: a register after every LevelsPerStage heap levels (level 0 counts as one) and after the
// final adder, all on en_i; Latency cycles from a/b to y. tag_i travels alongside (control bits).
// Logic depth between registers: LevelsPerStage LUTs, or that plus the final carry chain.
(* keep_hierarchy *)  // one lane = one module: synthesis maps each lane on its own (see the synth docs)
module bnn_popcount #(
  parameter int unsigned N              = 64,
  parameter int unsigned GroupSize      = 3,
  parameter int unsigned LevelsPerStage = 1,
  parameter int unsigned TagBits        = 1,
  // derived, do not override
  parameter int unsigned OutBits        = $clog2(N + 1)
) (
  input  logic               clk_i,
  input  logic               rst_ni,  // clears the tag pipeline only (the data needs no reset)
  input  logic               en_i,
  input  logic [N-1:0]       a_i,
  input  logic [N-1:0]       b_i,
  input  logic [TagBits-1:0] tag_i,
  output logic [OutBits-1:0] y_o,
  output logic [TagBits-1:0] tag_o
);

  localparam int unsigned NG       = (N + GroupSize - 1) / GroupSize;  // level-0 groups
  localparam int unsigned B0       = $clog2(GroupSize + 1);           // bits per group count
  localparam int unsigned Cols     = OutBits + 3;                     // heap columns (margin for carries)
  localparam int unsigned HeapBits = NG * B0;                         // bits never grow level to level
  localparam int unsigned MaxLv    = 24;

  if (N < 1 || GroupSize < 1 || GroupSize > 3 || LevelsPerStage < 1 || TagBits < 1) begin : gen_err
    $fatal(1, "bnn_popcount: need N >= 1, GroupSize in 1..3, LevelsPerStage >= 1, TagBits >= 1");
  end

  // ---------------------------------------------------------------- heap schedule (elaboration time)
  // HT: the height of every column at every heap level, HW bits each (one table, so that the
  // generate loops below look heights up instead of re-running the schedule).
  localparam int unsigned HW = 16;

  // A remainder of r bits (h % 6) gets its own counter when r >= rmin: 3 while the level is low
  // (<= 6 bits in every column, to converge), 5 above that (a 3:2 or 4:3 counter removes one bit for
  // 2-3 LUTs; passed on, the bits usually complete a 6:3 counter one level later).
  function automatic int n_part(int h, int rmin);    // inputs of the remainder counter (0: none)
    return (h % 6) >= rmin ? h % 6 : 0;
  endfunction
  function automatic int n_units(int h, int rmin);   // counters anchored in a column of height h
    return h / 6 + (n_part(h, rmin) > 0 ? 1 : 0);
  endfunction
  function automatic int n_units3(int h, int rmin);  // of them with 3 output bits (6:3, 5:3, 4:3)
    return h / 6 + (n_part(h, rmin) >= 4 ? 1 : 0);
  endfunction
  function automatic int n_pass(int h, int rmin);    // bits passed through unchanged
    return n_part(h, rmin) > 0 ? 0 : h % 6;
  endfunction

  function automatic logic [MaxLv*Cols*HW-1:0] heap_table();
    logic [MaxLv*Cols*HW-1:0] t = '0;
    int h [Cols + 2];
    int nh [Cols + 2];
    for (int c = 0; c < Cols + 2; c++) h[c] = (c < int'(B0)) ? int'(NG) : 0;
    for (int l = 0; l < MaxLv; l++) begin
      automatic int hmax = 0;
      automatic int rmin;
      for (int c = 0; c < Cols; c++) if (h[c] > hmax) hmax = h[c];
      rmin = hmax > 6 ? 5 : 3;
      for (int c = 0; c < Cols + 2; c++) nh[c] = 0;
      for (int c = 0; c < Cols; c++) begin
        t[(l * Cols + c) * HW +: HW] = HW'(h[c]);
        nh[c]     += n_units(h[c], rmin) + n_pass(h[c], rmin);
        nh[c + 1] += n_units(h[c], rmin);
        nh[c + 2] += n_units3(h[c], rmin);
      end
      for (int c = 0; c < Cols + 2; c++) h[c] = nh[c];
    end
    return t;
  endfunction

  localparam logic [MaxLv*Cols*HW-1:0] HT = heap_table();

  function automatic int ht(int lv, int col);  // height; 0 outside the table
    if (lv < 0 || lv >= MaxLv || col < 0 || col >= int'(Cols)) return 0;
    return int'(HT[(lv * Cols + col) * HW +: HW]);
  endfunction

  function automatic int rmin_of(int lv);  // remainder-counter threshold used on level lv
    int m = 0;
    for (int c = 0; c < Cols; c++) if (ht(lv, c) > m) m = ht(lv, c);
    return m > 6 ? 5 : 3;
  endfunction

  function automatic int heap_levels();  // index of the first heap level with every column <= 2
    for (int l = 0; l < MaxLv; l++) begin
      automatic int m = 0;
      for (int c = 0; c < Cols; c++) if (ht(l, c) > m) m = ht(l, c);
      if (m <= 2) return l;
    end
    return MaxLv;
  endfunction

  function automatic int col_off(int lv, int col);  // first bit of column col in the flat level vector
    int o = 0;
    for (int c = 0; c < col; c++) o += ht(lv, c);
    return o;
  endfunction

  function automatic bit is_reg(int lv);  // level lv's output goes through a register
    return ((lv + 1) % int'(LevelsPerStage)) == 0;
  endfunction

  function automatic int count_regs(int upto);  // registered levels among 0..upto
    int n = 0;
    for (int l = 0; l <= upto; l++) if (is_reg(l)) n++;
    return n;
  endfunction

  function automatic bit top_cols_empty();  // no counter output falls off the last column
    for (int l = 0; l < MaxLv; l++) if (ht(l, Cols - 2) != 0 || ht(l, Cols - 1) != 0) return 1'b0;
    return 1'b1;
  endfunction

  // Truth table of bit `bit_i` of popcount of k inputs (G0 = 1: of xnor pairs {a, b}, a in the upper
  // half of the index): a counter is a constant indexed by its inputs, i.e. exactly one LUT per output.
  function automatic logic [63:0] count_tt(int k, int bit_i, bit pairs);
    logic [63:0] t = '0;
    for (int i = 0; i < 64; i++) begin
      automatic int n = 0;
      for (int j = 0; j < k; j++) begin
        if (pairs) n += (((i >> j) & 1) == ((i >> (j + k)) & 1)) ? 1 : 0;
        else n += (i >> j) & 1;
      end
      t[i] = 1'((n >> bit_i) & 1);
    end
    return t;
  endfunction

  localparam int unsigned Levels  = heap_levels();              // heap levels 0..Levels
  localparam int unsigned Latency = count_regs(Levels) + 1;     // + the final adder's register

  if (Levels >= MaxLv || !top_cols_empty()) begin : gen_err_lv
    $fatal(1, "bnn_popcount: heap did not converge within its columns");
  end

  // Simulation model (whole-network Verilator builds define SHIFTBNN_SIM_POPCOUNT): the same value
  // and latency from $countones, ~100x faster to simulate than the tree's thousands of one-bit LUT
  // functions. Synthesis, lint and the unit tests (hw/tb/bnn_popcount, hw/tb/bnn_mvau) use the tree;
  // bench/sim_speed.py --rtl checks a whole network gives identical outputs either way.
`ifdef SHIFTBNN_SIM_POPCOUNT
  localparam bit SimModel = 1'b1;
`else
  localparam bit SimModel = 1'b0;
`endif

  if (SimModel) begin : gen_model
    logic [OutBits-1:0] pipe_q [Latency];
    always_ff @(posedge clk_i) begin
      if (en_i) begin
        pipe_q[0] <= OutBits'($countones(~(a_i ^ b_i)));
        for (int i = 1; i < Latency; i++) pipe_q[i] <= pipe_q[i - 1];
      end
    end
    assign y_o = pipe_q[Latency - 1];
  end else begin : gen_tree
    // gen_lv[l].d: heap level l as computed; gen_lv[l].v: as level l+1 sees it (registered or not)
    for (genvar l = 0; l <= Levels; l++) begin : gen_lv
      // keep: every heap bit is a LUT output, so synthesis maps each counter output to exactly one LUT6
      // (left to itself, abc re-decomposes the shared XNOR inputs of several lanes into more, smaller LUTs)
      (* keep *) logic [HeapBits-1:0] d;
      logic [HeapBits-1:0] v;

      if (l == 0) begin : gen_l0
        // ---------------------------------------------------------- level 0: XNOR + group count
        for (genvar g = 0; g < NG; g++) begin : gen_grp
          localparam int unsigned Lo = g * GroupSize;
          localparam int unsigned Sz = (Lo + GroupSize <= N) ? GroupSize : N - Lo;
          logic [2*Sz-1:0] idx;
          assign idx = {a_i[Lo +: Sz], b_i[Lo +: Sz]};
          for (genvar b = 0; b < B0; b++) begin : gen_bit
            localparam logic [63:0] TT = count_tt(Sz, b, 1'b1);
            assign d[col_off(0, b) + g] = TT[6'(idx)];
          end
        end
      end else begin : gen_cnt
        // ---------------------------------------------------------- level l: counters on level l-1
        localparam int unsigned Used = col_off(l, Cols);
        /* verilator lint_off UNUSEDSIGNAL */
        logic [HeapBits-1:0] prev;  // its bits above the level's height are the constant pad
        /* verilator lint_on UNUSEDSIGNAL */
        assign prev = gen_lv[l - 1].v;
        localparam int R = rmin_of(l - 1);
        for (genvar c = 0; c < Cols; c++) begin : gen_col
          localparam int unsigned H      = ht(l - 1, c);
          localparam int unsigned U      = n_units(ht(l - 1, c), R);
          localparam int unsigned Part   = n_part(ht(l - 1, c), R);
          localparam int unsigned Pass   = n_pass(ht(l - 1, c), R);
          localparam int unsigned InOff  = col_off(l - 1, c);
          // destinations in level l: column c holds [own units' bit 0][bit 1 of column c-1's units]
          // [bit 2 of column c-2's units][pass-through bits]
          localparam int unsigned Out0   = col_off(l, c);
          localparam int unsigned Out1   = col_off(l, c + 1) + n_units(ht(l - 1, c + 1), R);
          localparam int unsigned Out2   = col_off(l, c + 2) + n_units(ht(l - 1, c + 2), R) + n_units(ht(l - 1, c + 1), R);
          localparam int unsigned PassAt = Out0 + U + (c >= 1 ? n_units(ht(l - 1, c - 1), R) : 0)
                                           + (c >= 2 ? n_units3(ht(l - 1, c - 2), R) : 0);
          for (genvar u = 0; u < U; u++) begin : gen_unit
            localparam int unsigned K  = (u * 6 + 6 <= H - Pass) ? 6 : Part;
            localparam int unsigned OB = $clog2(K + 1);
            localparam logic [63:0] TT0 = count_tt(K, 0, 1'b0);
            localparam logic [63:0] TT1 = count_tt(K, 1, 1'b0);
            localparam logic [63:0] TT2 = count_tt(K, 2, 1'b0);
            logic [K-1:0] idx;
            assign idx = prev[InOff + u * 6 +: K];
            assign d[Out0 + u] = TT0[6'(idx)];
            assign d[Out1 + u] = TT1[6'(idx)];
            if (OB > 2) begin : gen_b2
              assign d[Out2 + u] = TT2[6'(idx)];
            end
          end
          for (genvar t = 0; t < Pass; t++) begin : gen_pass
            assign d[PassAt + t] = prev[InOff + H - Pass + t];
          end
        end
        if (Used < HeapBits) begin : gen_pad
          assign d[HeapBits-1:Used] = '0;
        end
      end

      if (is_reg(l)) begin : gen_reg
        always_ff @(posedge clk_i) begin
          if (en_i) v <= d;
        end
      end else begin : gen_wire
        assign v = d;
      end
    end

    // ---------------------------------------------------------------- final carry-chain add of <= 2 rows
    logic [Cols-1:0] row0, row1;
    for (genvar c = 0; c < Cols; c++) begin : gen_rows
      localparam int unsigned H   = ht(Levels, c);
      localparam int unsigned Off = col_off(Levels, c);
      assign row0[c] = (H >= 1) ? gen_lv[Levels].v[Off] : 1'b0;
      assign row1[c] = (H >= 2) ? gen_lv[Levels].v[Off + (H >= 2 ? 1 : 0)] : 1'b0;
    end

    logic [Cols-1:0] sum;
    assign sum = row0 + row1;
    always_ff @(posedge clk_i) begin
      if (en_i) y_o <= sum[OutBits-1:0];  // the heap sums to popcount <= N: no bit above OutBits is set
    end
    logic unused;
    assign unused = ^sum;

  end

  // ---------------------------------------------------------------- tag alongside
  logic [TagBits-1:0] tag_q [Latency];
  always_ff @(posedge clk_i) begin
    if (!rst_ni) begin
      for (int i = 0; i < Latency; i++) tag_q[i] <= '0;
    end else if (en_i) begin
      tag_q[0] <= tag_i;
      for (int i = 1; i < Latency; i++) tag_q[i] <= tag_q[i - 1];
    end
  end
  assign tag_o = tag_q[Latency - 1];


endmodule : bnn_popcount
