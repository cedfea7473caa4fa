// Cocotb-free Verilator harness: clocks bnn_mvau with an always-valid random input stream and an
// always-ready sink, checks the output beat count, prints cycles per second of wall time.
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>

#include "Vbnn_mvau.h"
#include "verilated.h"

template <typename T> static void set_word(T& sig, int, uint32_t v) { sig = static_cast<T>(v); }
template <std::size_t N> static void set_word(VlWide<N>& sig, int w, uint32_t v) { sig[w] = v; }

int main(int argc, char** argv) {
  Verilated::commandArgs(argc, argv);
  const long cycles = argc > 1 ? atol(argv[1]) : 2000000;
  auto* top = new Vbnn_mvau;
  top->m_axis_tready = 1;
  top->s_axis_tvalid = 0;
  top->rst_ni = 0;
  for (int i = 0; i < 4; i++) {
    top->clk_i = 0; top->eval();
    top->clk_i = 1; top->eval();
  }
  top->rst_ni = 1;
  uint64_t x = 0x9E3779B97F4A7C15ull;  // xorshift64 input data
  long in_beats = 0, out_beats = 0;
  const auto t0 = std::chrono::steady_clock::now();
  for (long c = 0; c < cycles; c++) {
    top->clk_i = 0;
    top->s_axis_tvalid = 1;
    for (int w = 0; w < IN_WORDS; w++) {
      x ^= x << 13; x ^= x >> 7; x ^= x << 17;
      set_word(top->s_axis_tdata, w, static_cast<uint32_t>(x));
    }
    top->eval();
    in_beats += top->s_axis_tready;
    out_beats += top->m_axis_tvalid;
    top->clk_i = 1;
    top->eval();
  }
  const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  printf("{\"cycles\": %ld, \"seconds\": %.4f, \"cycles_per_s\": %.0f, \"in_beats\": %ld, \"out_beats\": %ld}\n",
         cycles, s, cycles / s, in_beats, out_beats);
  top->final();
  delete top;
  return 0;
}
