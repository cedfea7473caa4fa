// shiftbnn_sim: compiled Verilator harness for the generated shiftbnn_top (docs/rtl_interface.md).
//
//   cd OUTPUT/rtl && ../rtlsim/shiftbnn_sim --input in.bin --output out.bin --images N
//       [--in-valid-prob P] [--out-ready-prob P] [--seed S] [--stats stats.json]
//       [--in-interval C] [--timeout CYCLES] [--weights weights.bin] [+progress_file=PATH]
//
// Streams N images of IN_BEATS beats (IN_BYTES bytes each, little endian) into s_axis and collects
// N * OUT_BEATS beats from m_axis. Optional seeded random input stalls (tvalid held low with
// probability 1 - P) and output backpressure (tready low with probability 1 - P); --in-interval paces
// image starts at least C cycles apart (FIFO sizing). Stats: total cycles, latency (first input beat
// -> first output beat of image 0), cycles_per_frame (steady state: mean interval between the ends of
// output frames over the second half of the run), per-image output cycle.
// --weights (a top built with run-time weights, -DWEIGHT_PORT): the uint32 little-endian beats streamed
// into s_axis_wgt after reset, before the first image, as the board's driver does.
// +progress_file=PATH (a plusarg, so older binaries ignore it): the number of images whose output is
// complete, rewritten every 65,536 cycles and at the end (the flow's progress line reads it).
// Exit status: 0 ok, 1 usage / file error, 3 deadlock: no beat moved on s_axis or m_axis for --timeout
// cycles (default 1e6) while output was still due, e.g. a fork/join whose shortcut FIFO is too shallow:
// the run stops with one line naming the stall instead of hanging.
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <ctime>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include "Vshiftbnn_top.h"
#include "verilated.h"
// The stream dimensions (IN_BYTES, OUT_BYTES, IN_BEATS, OUT_BEATS, WEIGHT_PORT) as #defines, written
// beside this file by flow/rtl_backend/sim.py: not -D flags, so that every design compiles the
// Verilator runtime library with the same command line (cached, hw/harness/objcache.sh).
#if __has_include("shiftbnn_sim_dims.h")
#include "shiftbnn_sim_dims.h"
#endif

#ifndef IN_BYTES
#error "IN_BYTES must be defined"
#endif
#ifndef OUT_BYTES
#error "OUT_BYTES must be defined"
#endif

namespace {

// Little-endian byte image <-> Verilator port types (CData/SData/IData/QData/VlWide).
template <typename T>
void set_port(T& port, const uint8_t* p) {
  uint64_t v = 0;
  for (size_t i = 0; i < sizeof(T) && i < IN_BYTES; ++i) v |= uint64_t(p[i]) << (8 * i);
  port = static_cast<T>(v);
}
template <std::size_t N>
void set_port(VlWide<N>& port, const uint8_t* p) {
  for (std::size_t w = 0; w < N; ++w) {
    uint32_t v = 0;
    for (std::size_t b = 0; b < 4; ++b) {
      std::size_t i = 4 * w + b;
      if (i < IN_BYTES) v |= uint32_t(p[i]) << (8 * b);
    }
    port[w] = v;
  }
}
template <typename T>
void get_port(const T& port, uint8_t* p) {
  uint64_t v = port;
  for (size_t i = 0; i < OUT_BYTES; ++i) p[i] = i < sizeof(T) ? uint8_t(v >> (8 * i)) : 0;
}
template <std::size_t N>
void get_port(const VlWide<N>& port, uint8_t* p) {
  for (std::size_t i = 0; i < OUT_BYTES; ++i) p[i] = uint8_t(port[i / 4] >> (8 * (i % 4)));
}

struct Rng {  // xorshift64*: seeded, reproducible stalls
  uint64_t s;
  explicit Rng(uint64_t seed) : s(seed * 2654435761ULL + 0x9E3779B97F4A7C15ULL) {}
  double next() {
    s ^= s >> 12;
    s ^= s << 25;
    s ^= s >> 27;
    return double((s * 2685821657736338717ULL) >> 11) / 9007199254740992.0;
  }
};

[[noreturn]] void die(int code, const std::string& msg) {
  std::fprintf(stderr, "shiftbnn_sim: %s\n", msg.c_str());
  std::exit(code);
}

void write_progress(const std::string& path, size_t frames) {
  if (FILE* p = std::fopen(path.c_str(), "w")) {
    std::fprintf(p, "%zu\n", frames);
    std::fclose(p);
  }
}

}  // namespace

int main(int argc, char** argv) {
  std::string in_path, out_path, stats_path, progress_path, weights_path;
  long images = -1, in_interval = 0;
  long long timeout = 1000000;
  double in_p = 1.0, out_p = 1.0;
  uint64_t seed = 1;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    auto val = [&]() -> std::string {
      if (i + 1 >= argc) die(1, "missing value for " + a);
      return argv[++i];
    };
    if (a == "--input") in_path = val();
    else if (a == "--output") out_path = val();
    else if (a == "--images") images = std::stol(val());
    else if (a == "--in-valid-prob") in_p = std::stod(val());
    else if (a == "--out-ready-prob") out_p = std::stod(val());
    else if (a == "--seed") seed = std::stoull(val());
    else if (a == "--stats") stats_path = val();
    else if (a == "--in-interval") in_interval = std::stol(val());
    else if (a == "--timeout") timeout = std::stoll(val());
    else if (a == "--weights") weights_path = val();
    else if (a.rfind("+progress_file=", 0) == 0) progress_path = a.substr(15);
    else if (a.rfind("+", 0) == 0) continue;  // Verilator plusargs
    else die(1, "unknown option " + a);
  }
  if (in_path.empty() || out_path.empty() || images < 1) die(1, "need --input, --output and --images N >= 1");
#ifdef WEIGHT_PORT
  if (weights_path.empty()) die(1, "this top loads its weights at run time: need --weights");
#else
  if (!weights_path.empty()) die(1, "--weights: this top has no run-time weight port");
#endif
  if (in_p <= 0 || in_p > 1 || out_p <= 0 || out_p > 1) die(1, "probabilities must be in (0, 1]");

  const size_t in_total = size_t(images) * IN_BEATS * IN_BYTES;
  std::vector<uint8_t> in(in_total);
  FILE* f = std::fopen(in_path.c_str(), "rb");
  if (!f) die(1, "cannot open " + in_path);
  size_t got = std::fread(in.data(), 1, in_total, f);
  std::fclose(f);
  if (got != in_total) die(1, "input file holds " + std::to_string(got) + " bytes, need " + std::to_string(in_total));

  VerilatedContext ctx;
  ctx.commandArgs(argc, argv);
  Vshiftbnn_top top(&ctx);
  Rng rng(seed);

  const size_t out_beats_total = size_t(images) * OUT_BEATS;
  std::vector<uint8_t> out(out_beats_total * OUT_BYTES);
  std::vector<long long> frame_end(images, -1);
  size_t in_beat = 0, out_beat = 0;
  long long cycle = 0, idle = 0, first_in = -1, first_out = -1, frame_start = -in_interval;

  auto tick = [&]() {
    top.ap_clk = 0;
    top.eval();
    top.ap_clk = 1;
    top.eval();
  };
  top.ap_rst_n = 0;
  top.s_axis_tvalid = 0;
  top.m_axis_tready = 0;
  for (int i = 0; i < 8; ++i) tick();
  top.ap_rst_n = 1;
#ifdef WEIGHT_PORT
  {  // the weights first: one beat per cycle while s_axis_wgt is ready
    std::vector<uint32_t> w;
    FILE* wf = std::fopen(weights_path.c_str(), "rb");
    if (!wf) die(1, "cannot open " + weights_path);
    uint32_t beat;
    while (std::fread(&beat, 4, 1, wf) == 1) w.push_back(beat);
    std::fclose(wf);
    top.s_axis_wgt_tvalid = 0;
    long long stall = 0;
    for (size_t k = 0; k < w.size();) {
      top.s_axis_wgt_tdata = w[k];
      top.s_axis_wgt_tvalid = 1;
      top.ap_clk = 0;
      top.eval();
      bool fire = top.s_axis_wgt_tready;
      top.ap_clk = 1;
      top.eval();
      k += fire;
      stall = fire ? 0 : stall + 1;
      if (stall > timeout) die(3, "deadlock: s_axis_wgt not ready for " + std::to_string(timeout) + " cycles");
    }
    top.s_axis_wgt_tvalid = 0;
  }
#endif

  const size_t in_beats_total = size_t(images) * IN_BEATS;
  // Timing of the simulation loop alone: wall clock, and the process CPU time (on a shared machine the
  // wall clock also counts other jobs' turns; with model threads the CPU time sums the threads).
  const auto wall0 = std::chrono::steady_clock::now();
  const std::clock_t cpu0 = std::clock();
  while (out_beat < out_beats_total) {
    // Drive inputs for this cycle (decided before the rising edge, sampled by it).
    bool at_frame_start = in_beat % IN_BEATS == 0;
    bool paced = !at_frame_start || cycle - frame_start >= in_interval;
    bool want_valid = in_beat < in_beats_total && paced && rng.next() < in_p;
    if (want_valid) set_port(top.s_axis_tdata, &in[in_beat * IN_BYTES]);
    top.s_axis_tvalid = want_valid;
    top.m_axis_tready = rng.next() < out_p;
    top.ap_clk = 0;
    top.eval();
    bool in_fire = top.s_axis_tvalid && top.s_axis_tready;
    bool out_fire = top.m_axis_tvalid && top.m_axis_tready;
    if (out_fire) get_port(top.m_axis_tdata, &out[out_beat * OUT_BYTES]);
    top.ap_clk = 1;
    top.eval();
    if (in_fire) {
      if (first_in < 0) first_in = cycle;
      if (at_frame_start) frame_start = cycle;
      ++in_beat;
    }
    if (out_fire) {
      if (first_out < 0) first_out = cycle;
      ++out_beat;
      if (out_beat % OUT_BEATS == 0) frame_end[out_beat / OUT_BEATS - 1] = cycle;
    }
    idle = (in_fire || out_fire) ? 0 : idle + 1;
    ++cycle;
    if (!progress_path.empty() && (cycle & 0xFFFF) == 0) write_progress(progress_path, out_beat / OUT_BEATS);
    if (idle > timeout) {
      top.final();
      die(3, "deadlock: the design stalled, no stream beat for " + std::to_string(timeout) + " cycles at cycle " +
                 std::to_string(cycle) + " (" + std::to_string(in_beat) +
                 "/" + std::to_string(in_beats_total) + " input beats, " + std::to_string(out_beat) + "/" +
                 std::to_string(out_beats_total) + " output beats)");
    }
  }
  top.final();
  const double loop_wall = std::chrono::duration<double>(std::chrono::steady_clock::now() - wall0).count();
  const double loop_cpu = double(std::clock() - cpu0) / CLOCKS_PER_SEC;
  if (!progress_path.empty()) write_progress(progress_path, out_beat / OUT_BEATS);

  f = std::fopen(out_path.c_str(), "wb");
  if (!f || std::fwrite(out.data(), 1, out.size(), f) != out.size()) die(1, "cannot write " + out_path);
  std::fclose(f);

  // Steady state: frames in the second half of the run (needs >= 2 frames).
  double cpf = 0;
  if (images >= 2) {
    long a = images / 2;
    if (a >= images - 1) a = 0;
    cpf = double(frame_end[images - 1] - frame_end[a]) / double(images - 1 - a);
  }
  if (!stats_path.empty()) {
    f = std::fopen(stats_path.c_str(), "w");
    if (!f) die(1, "cannot write " + stats_path);
    std::fprintf(f,
                 "{\"images\": %ld, \"cycles\": %lld, \"latency_cycles\": %lld, \"cycles_per_frame\": %.3f, "
                 "\"in_stall_prob\": %.6g, \"out_stall_prob\": %.6g, \"in_interval\": %ld, \"seed\": %llu, "
                 "\"loop_wall_s\": %.4f, \"loop_cpu_s\": %.4f, \"frame_end_cycles\": [",
                 images, cycle, first_out - first_in, cpf, 1.0 - in_p, 1.0 - out_p, in_interval,
                 (unsigned long long)seed, loop_wall, loop_cpu);
    for (long i = 0; i < images; ++i) std::fprintf(f, "%s%lld", i ? ", " : "", frame_end[i]);
    std::fprintf(f, "]}\n");
    std::fclose(f);
  }
  return 0;
}
