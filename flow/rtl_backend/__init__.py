"""RTL backend: the folded FINN graph as one SystemVerilog top, simulated with Verilator, synthesized
with yosys. Layout and interface of what it writes: docs/rtl_interface.md.

    graph.py  folded graph -> RTL-ready graph (FINN's DWC/FIFO insertion, RTL variants, maxpool and
              add + staircase-requant fusion)
    emit.py   RTL-ready graph -> rtl/ (shiftbnn_top.sv wired by tensor, sources, filelist.f, top.json)
    emitters/  one emitter per block family (mvau, pool, label, residual, finn_rtl)
    sim.py    Verilator build of rtl/ with hw/harness/shiftbnn_sim.cpp, runs, stream packing
    fifo.py   FIFO depths from simulation
    synth.py  yosys synth_xilinx resource counts against the board's budget
    design.py generate rtl/ with sized FIFOs, simulate it (the RTL backend of flow/backends/rtl.py)
"""
