// bnn_popcount: the dot product of one MVAU lane through a compressor tree sized to the LUT6 and its
// carry chain.
//   Xnor = 1: y = popcount(xnor(a, b)) of N bit pairs (unsigned, 0..N).
//   Xnor = 0: y = sum_i (b[i] ? +x_i : -x_i), x_i = a[i*InputBits +: InputBits] signed or unsigned
//             (InputSigned), y in two's complement (OutBits, which holds every reachable sum).
//
// Bit heap (column c = weight 2^c, sums mod 2^OutBits). Integer mode writes each term as bits: with
// BX = InputBits (+1 for unsigned x, a zero top bit) and y = x xnor b bitwise, -x = ~x + 1 gives
//   term = sum_{k < BX-1} 2^k (x[k] xnor b) + 2^(BX-1) (x[BX-1] xor b) + !b - 2^(BX-1),
// so the heap holds N bit pairs in each of the columns 0..BX-1, N single bits !b[i] in column 0 and the
// constant -N * 2^(BX-1) as constant bits. XNOR mode: N pairs in column 0, nothing else.
//   level 0   : each group of G pairs of one column (G = GroupSize <= 3, 2G <= 6 inputs) -> its count
//               in clog2(G+1) bits, one LUT6 per output bit: the XNOR costs no LUT of its own.
//   levels 1+ : while some column holds more than 6 bits, each column's bits go 7 at a time (then a
//               rest of 6) through a carry-chain counter (bnn_gpc: 2 LUT6_2 remove 4 bits), the rest
//               pass; after that, from the lowest column up, a column whose bits plus what lands in it
//               from below exceed 3 gets one such counter (5-6 bits) or a full adder (3-4 bits, one
//               LUT6_2: 3 bits -> 2), until no column holds more than 3 bits. Outputs land in columns
//               c, c+1, c+2 (above OutBits-1 they are dropped: mod 2^OutBits).
//   final     : y = row0 + row1 + row2 in one LUT6_2 per bit on the carry chain (bnn_add3).
// Cost ~0.67 LUT per pair (level 0) + ~0.5 per removed heap bit + OutBits: ~1.01-1.08 LUT per XNOR pair
// for N = 27..1024 (hw/golden/bnn_popcount.py `schedule`, the same heap computed independently).
// Pipelining: a register after every LevelsPerStage levels (level 0 counts as one) and after the final
// adder, all on en_i; Latency cycles from a/b to y. tag_i travels alongside (control bits). Logic depth
// between registers: LevelsPerStage x (one LUT + two carry positions), or the final LUT pair + chain.
(* keep_hierarchy *)  // one lane = one module: synthesis maps each lane on its own (see the synth docs)
module bnn_popcount #(
  parameter int unsigned N              = 64,
  parameter bit          Xnor           = 1'b1,
  parameter int unsigned InputBits      = 1,
  parameter bit          InputSigned    = 1'b0,
  parameter int unsigned GroupSize      = 3,
  parameter int unsigned LevelsPerStage = 1,
  parameter int unsigned TagBits        = 1,
  // derived, do not override
  parameter int unsigned OutBits        = Xnor ? $clog2(N + 1) : InputBits + $clog2(N + 1) + 1
) (
  input  logic                   clk_i,
  input  logic                   rst_ni,  // clears the tag pipeline only (the data needs no reset)
  input  logic                   en_i,
  input  logic [N*InputBits-1:0] a_i,
  input  logic [N-1:0]           b_i,
  input  logic [TagBits-1:0]     tag_i,
  output logic [OutBits-1:0]     y_o,
  output logic [TagBits-1:0]     tag_o
);

  localparam int unsigned BX      = Xnor ? 1 : (InputSigned ? InputBits : InputBits + 1);  // pair columns
  localparam int unsigned NG      = (N + GroupSize - 1) / GroupSize;  // level-0 groups per pair column
  localparam int unsigned B0      = $clog2(GroupSize + 1);           // bits per group count
  localparam int unsigned Cols    = OutBits;                         // heap columns (mod 2^OutBits)
  localparam int unsigned Singles = Xnor ? 0 : N;                    // !b[i] in column 0
  localparam logic [Cols-1:0] KBits = Xnor ? '0 : Cols'(-(longint'(N) <<< (BX - 1)));  // constant bits
  localparam int unsigned MaxLv   = 24;
  localparam int unsigned HW      = 16;

  if (N < 1 || N > 4096 || GroupSize < 1 || GroupSize > 3 || LevelsPerStage < 1 || TagBits < 1) begin : gen_err
    $fatal(1, "bnn_popcount: need N in 1..4096, GroupSize in 1..3, LevelsPerStage >= 1, TagBits >= 1");
  end
  if (Xnor ? InputBits != 1 : (InputBits < 1 || InputBits > 16)) begin : gen_err_bits
    $fatal(1, "bnn_popcount: InputBits must be 1 in XNOR mode, 1..16 in integer mode");
  end

  // ---------------------------------------------------------------- heap schedule (elaboration time)
  // Level-0 height of column c: the group counts of the pair columns b with b <= c < b + B0, the singles
  // (column 0) and a constant bit.
  function automatic int pcol_first(int c);  // the lowest pair column whose group counts reach column c
    return c >= int'(B0) ? c - int'(B0) + 1 : 0;
  endfunction
  function automatic int n_pcols(int c);  // pair columns b with b <= c < b + B0
    int last = c < int'(BX) - 1 ? c : int'(BX) - 1;
    return last >= pcol_first(c) ? last - pcol_first(c) + 1 : 0;
  endfunction
  function automatic int h0(int c);
    return n_pcols(c) * int'(NG) + (c == 0 ? int'(Singles) : 0) + int'(KBits[c]);
  endfunction

  // Units of a column. While some column holds more than 6 bits (the main phase), a column's units
  // follow from its height h alone (CodeMain); after that, columns are decided from the lowest up,
  // knowing how many counter outputs land in them from below (incoming): pass all (CodePass) when
  // h + incoming <= 3, else one counter on all h bits (CodeSeg, h >= 5) or a full adder (CodeFa, h = 3..4).
  typedef enum logic [1:0] {CodePass = 2'd0, CodeSeg = 2'd1, CodeFa = 2'd2, CodeMain = 2'd3} code_e;

  function automatic code_e decide(int h, int hmax, int incoming);
    if (hmax > 6) return CodeMain;
    if (h + incoming <= 3 || h < 3) return CodePass;
    return h >= 5 ? CodeSeg : CodeFa;
  endfunction
  function automatic int seg_of(int h, code_e code);  // carry-chain counters
    return code == CodeMain ? h / 7 + (h % 7 == 6 ? 1 : 0) : (code == CodeSeg ? 1 : 0);
  endfunction
  function automatic int seg_in_of(int h, code_e code, int u);  // inputs of counter u
    return code == CodeMain ? (u < h / 7 ? 7 : 6) : h;
  endfunction
  function automatic int fa_of(code_e code);
    return code == CodeFa ? 1 : 0;
  endfunction
  function automatic int pass_of(int h, code_e code);
    case (code)
      CodeMain:    return h % 7 == 6 ? 0 : h % 7;
      CodeSeg:     return 0;
      CodeFa:      return h - 3;
      default: return h;
    endcase
  endfunction

  // HT: per level and column {code, height} (2 + 14 bits): the height of the column and the decision
  // taken on it to make the next level (one table, so that the generate loops below look units up
  // instead of re-running the schedule)
  function automatic logic [MaxLv*Cols*HW-1:0] heap_table();
    logic [MaxLv*Cols*HW-1:0] t = '0;
    int h [Cols + 2];
    int nh [Cols + 2];
    int inc [Cols + 2];
    for (int c = 0; c < int'(Cols) + 2; c++) h[c] = c < int'(Cols) ? h0(c) : 0;
    for (int l = 0; l < int'(MaxLv); l++) begin
      automatic int hmax = 0;
      for (int c = 0; c < int'(Cols); c++) if (h[c] > hmax) hmax = h[c];
      for (int c = 0; c < int'(Cols) + 2; c++) begin
        nh[c]  = 0;
        inc[c] = 0;
      end
      for (int c = 0; c < int'(Cols); c++) begin
        automatic code_e code = decide(h[c], hmax, inc[c]);
        automatic int units = seg_of(h[c], code) + fa_of(code);
        t[(l * Cols + c) * HW +: HW] = {code, 14'(h[c])};
        nh[c]      += units + pass_of(h[c], code);
        nh[c + 1]  += units;
        inc[c + 1] += units;
        nh[c + 2]  += seg_of(h[c], code);
        inc[c + 2] += seg_of(h[c], code);
      end
      for (int c = 0; c < int'(Cols) + 2; c++) h[c] = c < int'(Cols) ? nh[c] : 0;  // above: mod 2^Cols
    end
    return t;
  endfunction

  localparam logic [MaxLv*Cols*HW-1:0] HT = heap_table();

  function automatic int ht(int lv, int col);  // height; 0 outside the table
    if (lv < 0 || lv >= int'(MaxLv) || col < 0 || col >= int'(Cols)) return 0;
    return int'(HT[(lv * Cols + col) * HW +: 14]);
  endfunction
  function automatic code_e code_at(int lv, int col);
    if (lv < 0 || lv >= int'(MaxLv) || col < 0 || col >= int'(Cols)) return CodePass;
    return code_e'(HT[(lv * Cols + col) * HW + 14 +: 2]);
  endfunction
  function automatic int n_seg(int lv, int col);
    return seg_of(ht(lv, col), code_at(lv, col));
  endfunction
  function automatic int n_units(int lv, int col);
    return n_seg(lv, col) + fa_of(code_at(lv, col));
  endfunction

  function automatic int hmax_of(int lv);
    int m = 0;
    for (int c = 0; c < int'(Cols); c++) if (ht(lv, c) > m) m = ht(lv, c);
    return m;
  endfunction

  function automatic int heap_levels();  // index of the first level with every column <= 3
    for (int l = 0; l < int'(MaxLv); l++) if (hmax_of(l) <= 3) return l;
    return MaxLv;
  endfunction

  function automatic int col_off(int lv, int col);  // first bit of column col in the flat level vector
    int o = 0;
    for (int c = 0; c < col; c++) o += ht(lv, c);
    return o;
  endfunction

  function automatic int heap_bits();  // the widest level (+1: never a zero-width vector)
    int m = 1;
    for (int l = 0; l < int'(MaxLv); l++) if (col_off(l, Cols) > m) m = col_off(l, Cols);
    return m;
  endfunction

  function automatic bit is_reg(int lv);  // level lv's output goes through a register
    return ((lv + 1) % int'(LevelsPerStage)) == 0;
  endfunction

  function automatic int count_regs(int upto);  // registered levels among 0..upto
    int n = 0;
    for (int l = 0; l <= upto; l++) if (is_reg(l)) n++;
    return n;
  endfunction

  // Truth table of bit `bit_i` of the count of k pairs {a, b} (a in the upper half of the index) that
  // are equal (inv = 0: xnor) or differ (inv = 1: xor): a counter is a constant indexed by its inputs.
  function automatic logic [63:0] count_tt(int k, int bit_i, bit inv);
    logic [63:0] t = '0;
    for (int i = 0; i < 64; i++) begin
      automatic int n = 0;
      for (int j = 0; j < k; j++) n += ((((i >> j) & 1) == ((i >> (j + k)) & 1)) ^ inv) ? 1 : 0;
      t[i] = 1'((n >> bit_i) & 1);
    end
    return t;
  endfunction

  localparam int unsigned Levels   = heap_levels();           // levels 0..Levels
  localparam int unsigned HeapBits = heap_bits();
  localparam int unsigned Latency  = count_regs(Levels) + 1;  // + the final adder's register

  if (Levels >= MaxLv) begin : gen_err_lv
    $fatal(1, "bnn_popcount: heap did not converge");
  end

  // Simulation model (whole-network Verilator builds define SHIFTBNN_SIM_POPCOUNT): the same value
  // and latency from a plain sum, ~100x faster to simulate than the tree's thousands of one-bit LUT
  // functions. Synthesis, lint and the unit tests (hw/tb/bnn_popcount, hw/tb/bnn_mvau) use the tree;
  // bench/sim_speed.py --rtl checks a whole network gives identical outputs either way.
`ifdef SHIFTBNN_SIM_POPCOUNT
  localparam bit SimModel = 1'b1;
`else
  localparam bit SimModel = 1'b0;
`endif

  if (SimModel) begin : gen_model
    logic [OutBits-1:0] pipe_q [Latency];
    logic [OutBits-1:0] sum;
    always_comb begin
      if (Xnor) begin
        sum = OutBits'($countones(~(a_i ^ b_i)));
      end else begin
        sum = '0;
        for (int i = 0; i < int'(N); i++) begin
          logic [OutBits-1:0] x;
          if (InputSigned) x = OutBits'($signed(a_i[i*InputBits +: InputBits]));
          else             x = OutBits'($unsigned(a_i[i*InputBits +: InputBits]));
          sum = b_i[i] ? sum + x : sum - x;
        end
      end
    end
    always_ff @(posedge clk_i) begin
      if (en_i) begin
        pipe_q[0] <= sum;
        for (int i = 1; i < int'(Latency); i++) pipe_q[i] <= pipe_q[i - 1];
      end
    end
    assign y_o = pipe_q[Latency - 1];
  end else begin : gen_tree
    // gen_lv[l].d: heap level l as computed; gen_lv[l].v: as level l+1 sees it (registered or not)
    for (genvar l = 0; l <= Levels; l++) begin : gen_lv
      // keep: every level-0 heap bit is a LUT output, so synthesis maps each group count bit to exactly
      // one LUT6 (left to itself, abc re-decomposes the shared XNOR inputs of several lanes)
      (* keep *) logic [HeapBits-1:0] d;
      logic [HeapBits-1:0] v;

      if (l == 0) begin : gen_l0
        // ---------------------------------------------------------- level 0: pair groups, singles, constant
        for (genvar c = 0; c < Cols; c++) begin : gen_col
          for (genvar b = 0; b < BX; b++) begin : gen_pcol
            if (c >= b && c < b + B0) begin : gen_here
              // this pair column's groups land at [col_off(0, c) + NG * (pair columns before b here)]
              localparam int unsigned At = col_off(0, c) + NG * (b - pcol_first(c));
              for (genvar g = 0; g < NG; g++) begin : gen_grp
                localparam int unsigned Lo = g * GroupSize;
                localparam int unsigned Sz = (Lo + GroupSize <= N) ? GroupSize : N - Lo;
                localparam logic [63:0] TT = count_tt(Sz, c - b, !Xnor && b == BX - 1);
                logic [Sz-1:0]   xs;
                logic [2*Sz-1:0] idx;
                for (genvar j = 0; j < Sz; j++) begin : gen_x
                  if (b < InputBits) begin : gen_bit
                    assign xs[j] = a_i[(Lo + j) * InputBits + b];
                  end else begin : gen_zero  // the zero top bit of an unsigned x
                    assign xs[j] = 1'b0;
                  end
                end
                assign idx = {xs, b_i[Lo +: Sz]};
                assign d[At + g] = TT[6'(idx)];
              end
            end
          end
          localparam int unsigned Rest = col_off(0, c) + NG * n_pcols(c);  // after the group counts
          if (c == 0 && Singles > 0) begin : gen_singles
            assign d[Rest +: Singles] = ~b_i;
          end
          if (KBits[c]) begin : gen_const
            assign d[Rest + (c == 0 ? Singles : 0)] = 1'b1;
          end
        end
        if (col_off(0, Cols) < HeapBits) begin : gen_pad
          assign d[HeapBits-1:col_off(0, Cols)] = '0;
        end
      end else begin : gen_cnt
        // ---------------------------------------------------------- level l: counters on level l-1
        localparam int unsigned Used = col_off(l, Cols);
        /* verilator lint_off UNUSEDSIGNAL */
        logic [HeapBits-1:0] prev;  // its bits above the level's height are the constant pad
        /* verilator lint_on UNUSEDSIGNAL */
        assign prev = gen_lv[l - 1].v;
        for (genvar c = 0; c < Cols; c++) begin : gen_col
          localparam int unsigned H      = ht(l - 1, c);
          localparam code_e       Code   = code_at(l - 1, c);
          localparam int unsigned NSeg   = seg_of(H, Code);
          localparam int unsigned NFa    = fa_of(Code);
          localparam int unsigned Pass   = pass_of(H, Code);
          localparam int unsigned InOff  = col_off(l - 1, c);
          // destinations in level l: column c holds [own units' bit 0][bit 1 of column c-1's units]
          // [bit 2 of column c-2's counters][pass-through bits]
          localparam int unsigned Out0   = col_off(l, c);
          localparam int unsigned Out1   = col_off(l, c + 1) + n_units(l - 1, c + 1);
          localparam int unsigned Out2   = col_off(l, c + 2) + n_units(l - 1, c + 2) + n_units(l - 1, c + 1);
          localparam int unsigned PassAt = Out0 + NSeg + NFa + n_units(l - 1, c - 1) + n_seg(l - 1, c - 2);
          for (genvar u = 0; u < NSeg + NFa; u++) begin : gen_unit
            localparam int unsigned K  = u < NSeg ? seg_in_of(H, Code, u) : 3;
            localparam int unsigned At = u < NSeg ? 7 * u : 0;  // first input bit (a full adder: alone)
            logic [2:0] y;
            bnn_gpc #(
              .Inputs (K)
            ) u_gpc (
              .x_i (prev[InOff + At +: K]),
              .y_o (y)
            );
            assign d[Out0 + u] = y[0];
            if (c + 1 < Cols) begin : gen_y1
              assign d[Out1 + u] = y[1];
            end
            if (u < NSeg && c + 2 < Cols) begin : gen_y2
              assign d[Out2 + u] = y[2];
            end
            logic unused_y;  // carries above the top column (mod 2^OutBits), a full adder's y[2] = 0
            assign unused_y = ^y;
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

    // ---------------------------------------------------------------- final add of <= 3 rows
    logic [Cols-1:0] row [3];
    for (genvar c = 0; c < Cols; c++) begin : gen_rows
      localparam int unsigned H   = ht(Levels, c);
      localparam int unsigned Off = col_off(Levels, c);
      for (genvar j = 0; j < 3; j++) begin : gen_row
        if (H > j) begin : gen_bit
          assign row[j][c] = gen_lv[Levels].v[Off + j];
        end else begin : gen_zero
          assign row[j][c] = 1'b0;
        end
      end
    end

    logic [Cols-1:0] sum;
    bnn_add3 #(
      .Width (Cols)
    ) u_add (
      .a_i (row[0]),
      .b_i (row[1]),
      .c_i (row[2]),
      .y_o (sum)
    );
    always_ff @(posedge clk_i) begin
      if (en_i) y_o <= sum;
    end
  end

  // ---------------------------------------------------------------- tag alongside
  logic [TagBits-1:0] tag_q [Latency];
  always_ff @(posedge clk_i) begin
    if (!rst_ni) begin
      for (int i = 0; i < int'(Latency); i++) tag_q[i] <= '0;
    end else if (en_i) begin
      tag_q[0] <= tag_i;
      for (int i = 1; i < int'(Latency); i++) tag_q[i] <= tag_q[i - 1];
    end
  end
  assign tag_o = tag_q[Latency - 1];

endmodule : bnn_popcount
