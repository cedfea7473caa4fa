// shiftbnn_pkg: constant-width helpers and the lane clamp shared by stream_add and stream_requant.
//
// The clamp blocks form y = clamp(s, OutMin, OutMax) with s a signed sum in SumW bits and write y in
// OutBits bits: two's complement when OutMin < 0, else unsigned.
package shiftbnn_pkg;

  // Bits of a two's-complement number holding the constant v.
  function automatic int unsigned sbits(longint v);
    return (v >= 0) ? $clog2(v + 1) + 1 : $clog2(-v) + 1;
  endfunction

  function automatic int unsigned umax(int unsigned x, int unsigned y);
    return (x > y) ? x : y;
  endfunction

  // Width of the signed sum: the adder's width add_w, the output bits, and room for OutMin/OutMax.
  function automatic int unsigned sum_width(int unsigned add_w, int unsigned out_bits, int out_min,
                                            int out_max);
    return umax(umax(add_w, out_bits), umax(sbits(longint'(out_min)), sbits(longint'(out_max))));
  endfunction

  // Range of the OutBits output type (signed iff out_min < 0).
  function automatic longint type_lo(int unsigned out_bits, int out_min);
    return (out_min < 0) ? -(longint'(1) <<< (out_bits - 1)) : 0;
  endfunction
  function automatic longint type_hi(int unsigned out_bits, int out_min);
    return (out_min < 0) ? (longint'(1) <<< (out_bits - 1)) - 1 : (longint'(1) <<< out_bits) - 1;
  endfunction

  // [out_min, out_max] fits the OutBits output type.
  function automatic bit range_fits(int unsigned out_bits, int out_min, int out_max);
    return longint'(out_min) >= type_lo(out_bits, out_min) && longint'(out_max) <= type_hi(out_bits, out_min);
  endfunction

  // Lane clamp: clamp(s, lo, hi) for a sign-extended sum s; the caller keeps the low OutBits bits,
  // which is exact because every value in [OutMin, OutMax] fits OutBits.
  function automatic longint clamp(longint s, longint lo, longint hi);
    return (s < lo) ? lo : (s > hi) ? hi : s;
  endfunction

endpackage : shiftbnn_pkg
