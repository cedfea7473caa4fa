# Body of OUTPUT/vivado/build.tcl (flow/vivado/build_bitstream.py writes the header that sets the
# variables used here, then this file). Run: vivado -mode batch -source OUTPUT/vivado/build.tcl
#
#  1. package rtl/ (shiftbnn_top + its sources + memory files) and the TLAST wrapper
#     shiftbnn_dma_top (hw/rtl) as the IP shiftbnn:shiftbnn:shiftbnn_dma_top:1.0;
#  2. block design: Zynq PS with the board preset (processing_system7 or zynq_ultra_ps_e), fabric
#     clock 0 at the board clock, proc_sys_reset, AXI DMA (simple mode, no SG) whose MM2S feeds
#     s_axis and whose S2MM takes m_axis (+ TLAST), AXI-Lite control through a SmartConnect from the
#     PS master port, DMA memory traffic through a SmartConnect into the PS HP0 port; AXIS width
#     converters only where a stream width is not a legal AXI DMA width; with run-time weights
#     ($weight_port), a second AXI DMA (axi_dma_weights, MM2S only, 32 bits) into the accelerator's
#     s_axis_wgt, which the driver fills once at start-up from deploy/runtime_weights.bin;
#  3. synthesis + implementation, reports into report/, bitstream + .hwh into deploy/.
# All paths are relative to this script's folder, so a build folder can be moved.

set here [file dirname [file normalize [info script]]]
set out [file dirname $here]
file mkdir $out/deploy $out/report

proc latest_ip {pattern} {
    # The newest version of an IP in this Vivado's catalog (version numbers differ between releases).
    set defs [lsort -dictionary [get_ipdefs -all $pattern]]
    if {[llength $defs] == 0} { error "IP $pattern not in the Vivado IP catalog" }
    return [lindex $defs end]
}

if {[info exists ::env(SHIFTBNN_BOARD_FILES)]} {
    set_param board.repoPaths [list $::env(SHIFTBNN_BOARD_FILES)]
}

# ---- 1. the accelerator as an IP -------------------------------------------------------------
create_project -force ${name}_ip $here/ip_project -part $part
set sources {}
foreach f $rtl_files { lappend sources [file join $out rtl $f] }
foreach f $helper_files { lappend sources [file join $here $f] }
add_files -norecurse $sources
set mems {}
foreach f $mem_files { lappend mems [file join $out rtl $f] }
if {[llength $mems] > 0} {
    add_files -norecurse $mems
    set_property file_type {Memory File} [get_files $mems]
}
set_property top shiftbnn_dma_top [current_fileset]
update_compile_order -fileset sources_1
ipx::package_project -root_dir $here/ip_repo -vendor shiftbnn -library shiftbnn -taxonomy /UserIP \
    -import_files -set_current true
set core [ipx::current_core]
set_property version 1.0 $core
set_property display_name "shiftbnn accelerator with TLAST" $core
ipx::associate_bus_interfaces -busif s_axis -clock ap_clk $core
ipx::associate_bus_interfaces -busif m_axis -clock ap_clk $core
if {$weight_port} { ipx::associate_bus_interfaces -busif s_axis_wgt -clock ap_clk $core }
ipx::create_xgui_files $core
ipx::update_checksums $core
ipx::check_integrity $core
ipx::save_core $core
close_project

# ---- 2. the block design -----------------------------------------------------------------------
create_project -force $name $here/project -part $part
if {[llength [get_board_parts -quiet $board_part]] == 0} {
    error "board files for $board_part not found: install them (FINN: finn deps update) and set SHIFTBNN_BOARD_FILES"
}
set_property board_part $board_part [current_project]
set_property ip_repo_paths [list $here/ip_repo] [current_project]
update_ip_catalog -rebuild
create_bd_design $name

if {$zynq eq "zynq"} {
    set ps [create_bd_cell -type ip -vlnv [latest_ip xilinx.com:ip:processing_system7:*] ps]
    apply_bd_automation -rule xilinx.com:bd_rule:processing_system7 \
        -config {make_external "FIXED_IO, DDR" apply_board_preset "1"} $ps
    set_property -dict [list CONFIG.PCW_USE_M_AXI_GP0 {1} CONFIG.PCW_USE_S_AXI_HP0 {1} \
        CONFIG.PCW_S_AXI_HP0_DATA_WIDTH {64} CONFIG.PCW_FPGA0_PERIPHERAL_FREQMHZ $clock_mhz] $ps
    set ps_clk ps/FCLK_CLK0
    set ps_rstn ps/FCLK_RESET0_N
    set ps_master ps/M_AXI_GP0
    set ps_hp ps/S_AXI_HP0
    set ps_clk_pins {ps/M_AXI_GP0_ACLK ps/S_AXI_HP0_ACLK}
} elseif {$zynq eq "zynq_us+"} {
    set ps [create_bd_cell -type ip -vlnv [latest_ip xilinx.com:ip:zynq_ultra_ps_e:*] ps]
    apply_bd_automation -rule xilinx.com:bd_rule:zynq_ultra_ps_e -config {apply_board_preset "1"} $ps
    set_property -dict [list CONFIG.PSU__USE__M_AXI_GP0 {1} CONFIG.PSU__USE__M_AXI_GP1 {0} \
        CONFIG.PSU__USE__M_AXI_GP2 {0} CONFIG.PSU__USE__S_AXI_GP2 {1} CONFIG.PSU__SAXIGP2__DATA_WIDTH {64} \
        CONFIG.PSU__FPGA_PL0_ENABLE {1} CONFIG.PSU__CRL_APB__PL0_REF_CTRL__FREQMHZ $clock_mhz] $ps
    set ps_clk ps/pl_clk0
    set ps_rstn ps/pl_resetn0
    set ps_master ps/M_AXI_HPM0_FPD
    set ps_hp ps/S_AXI_HP0_FPD
    set ps_clk_pins {ps/maxihpm0_fpd_aclk ps/saxihp0_fpd_aclk}
} else {
    error "unknown Zynq family $zynq (want zynq or zynq_us+)"
}

set rst [create_bd_cell -type ip -vlnv [latest_ip xilinx.com:ip:proc_sys_reset:*] rst_pl]

# Memory-mapped side at least as wide as the stream (an AXI DMA requirement), 64 bits minimum (HP port).
set dma [create_bd_cell -type ip -vlnv [latest_ip xilinx.com:ip:axi_dma:*] axi_dma_0]
set_property -dict [list CONFIG.c_include_sg {0} CONFIG.c_sg_length_width {26} \
    CONFIG.c_sg_include_stscntrl_strm {0} CONFIG.c_addr_width {32} \
    CONFIG.c_m_axi_mm2s_data_width [expr {max(64, $dma_in_width)}] \
    CONFIG.c_m_axi_s2mm_data_width [expr {max(64, $dma_out_width)}] \
    CONFIG.c_m_axis_mm2s_tdata_width $dma_in_width CONFIG.c_s_axis_s2mm_tdata_width $dma_out_width \
    CONFIG.c_mm2s_burst_size {16} CONFIG.c_s2mm_burst_size {16}] $dma

set accel [create_bd_cell -type ip -vlnv shiftbnn:shiftbnn:shiftbnn_dma_top:1.0 accel]
set_property -dict [list CONFIG.IN_WIDTH $in_width CONFIG.OUT_WIDTH $out_width \
    CONFIG.IN_BEATS $in_beats CONFIG.OUT_BEATS $out_beats] $accel

set ctrl_sc [create_bd_cell -type ip -vlnv [latest_ip xilinx.com:ip:smartconnect:*] ctrl_sc]
set_property -dict [list CONFIG.NUM_SI {1} CONFIG.NUM_MI [expr {1 + $weight_port}]] $ctrl_sc
set mem_sc [create_bd_cell -type ip -vlnv [latest_ip xilinx.com:ip:smartconnect:*] mem_sc]
set_property -dict [list CONFIG.NUM_SI [expr {2 + $weight_port}] CONFIG.NUM_MI {1}] $mem_sc

# Streams: DMA MM2S -> [width converter] -> accel -> [width converter] -> DMA S2MM.
set clocked {axi_dma_0/s_axi_lite_aclk axi_dma_0/m_axi_mm2s_aclk axi_dma_0/m_axi_s2mm_aclk \
    accel/ap_clk ctrl_sc/aclk mem_sc/aclk rst_pl/slowest_sync_clk}
set resets {axi_dma_0/axi_resetn accel/ap_rst_n}
if {$dma_in_width != $in_width} {
    set conv [create_bd_cell -type ip -vlnv [latest_ip xilinx.com:ip:axis_dwidth_converter:*] in_conv]
    set_property -dict [list CONFIG.S_TDATA_NUM_BYTES [expr {$dma_in_width / 8}] \
        CONFIG.M_TDATA_NUM_BYTES [expr {$in_width / 8}] CONFIG.HAS_TLAST {1} CONFIG.HAS_TKEEP {0}] $conv
    connect_bd_intf_net [get_bd_intf_pins axi_dma_0/M_AXIS_MM2S] [get_bd_intf_pins in_conv/S_AXIS]
    connect_bd_intf_net [get_bd_intf_pins in_conv/M_AXIS] [get_bd_intf_pins accel/s_axis]
    lappend clocked in_conv/aclk
    lappend resets in_conv/aresetn
} else {
    connect_bd_intf_net [get_bd_intf_pins axi_dma_0/M_AXIS_MM2S] [get_bd_intf_pins accel/s_axis]
}
if {$dma_out_width != $out_width} {
    set conv [create_bd_cell -type ip -vlnv [latest_ip xilinx.com:ip:axis_dwidth_converter:*] out_conv]
    set_property -dict [list CONFIG.S_TDATA_NUM_BYTES [expr {$out_width / 8}] \
        CONFIG.M_TDATA_NUM_BYTES [expr {$dma_out_width / 8}] CONFIG.HAS_TLAST {1} CONFIG.HAS_TKEEP {0}] $conv
    connect_bd_intf_net [get_bd_intf_pins accel/m_axis] [get_bd_intf_pins out_conv/S_AXIS]
    connect_bd_intf_net [get_bd_intf_pins out_conv/M_AXIS] [get_bd_intf_pins axi_dma_0/S_AXIS_S2MM]
    lappend clocked out_conv/aclk
    lappend resets out_conv/aresetn
} else {
    connect_bd_intf_net [get_bd_intf_pins accel/m_axis] [get_bd_intf_pins axi_dma_0/S_AXIS_S2MM]
}

# Memory-mapped: PS master -> DMA registers; DMA masters -> PS HP0 (DDR).
connect_bd_intf_net [get_bd_intf_pins $ps_master] [get_bd_intf_pins ctrl_sc/S00_AXI]
connect_bd_intf_net [get_bd_intf_pins ctrl_sc/M00_AXI] [get_bd_intf_pins axi_dma_0/S_AXI_LITE]
connect_bd_intf_net [get_bd_intf_pins axi_dma_0/M_AXI_MM2S] [get_bd_intf_pins mem_sc/S00_AXI]
connect_bd_intf_net [get_bd_intf_pins axi_dma_0/M_AXI_S2MM] [get_bd_intf_pins mem_sc/S01_AXI]
connect_bd_intf_net [get_bd_intf_pins mem_sc/M00_AXI] [get_bd_intf_pins $ps_hp]

# Run-time weights: the weight DMA's MM2S streams runtime_weights.bin into accel/s_axis_wgt (32-bit beats).
if {$weight_port} {
    set wdma [create_bd_cell -type ip -vlnv [latest_ip xilinx.com:ip:axi_dma:*] axi_dma_weights]
    set_property -dict [list CONFIG.c_include_sg {0} CONFIG.c_sg_length_width {26} CONFIG.c_include_s2mm {0} \
        CONFIG.c_addr_width {32} CONFIG.c_m_axi_mm2s_data_width {64} CONFIG.c_m_axis_mm2s_tdata_width {32} \
        CONFIG.c_mm2s_burst_size {16}] $wdma
    connect_bd_intf_net [get_bd_intf_pins axi_dma_weights/M_AXIS_MM2S] [get_bd_intf_pins accel/s_axis_wgt]
    connect_bd_intf_net [get_bd_intf_pins ctrl_sc/M01_AXI] [get_bd_intf_pins axi_dma_weights/S_AXI_LITE]
    connect_bd_intf_net [get_bd_intf_pins axi_dma_weights/M_AXI_MM2S] [get_bd_intf_pins mem_sc/S02_AXI]
    lappend clocked axi_dma_weights/s_axi_lite_aclk axi_dma_weights/m_axi_mm2s_aclk
    lappend resets axi_dma_weights/axi_resetn
}

# One clock (the board's fabric clock 0) and one synchronised reset for the whole PL.
connect_bd_net [get_bd_pins $ps_clk] {*}[get_bd_pins [concat $clocked $ps_clk_pins]]
connect_bd_net [get_bd_pins $ps_rstn] [get_bd_pins rst_pl/ext_reset_in]
connect_bd_net [get_bd_pins rst_pl/peripheral_aresetn] {*}[get_bd_pins $resets]
connect_bd_net [get_bd_pins rst_pl/interconnect_aresetn] [get_bd_pins ctrl_sc/aresetn] [get_bd_pins mem_sc/aresetn]

assign_bd_address
validate_bd_design
save_bd_design

# ---- 3. implementation, reports, bitstream + hwh -------------------------------------------------
set bd_file [get_files $name.bd]
set_property synth_checkpoint_mode None $bd_file
generate_target all $bd_file
add_files -norecurse [make_wrapper -files $bd_file -top]
set_property top ${name}_wrapper [current_fileset]
update_compile_order -fileset sources_1

launch_runs synth_1 -jobs $jobs
wait_on_run synth_1
if {[get_property PROGRESS [get_runs synth_1]] ne "100%"} {
    error "synthesis failed: see [get_property DIRECTORY [get_runs synth_1]]/runme.log"
}
launch_runs impl_1 -jobs $jobs
wait_on_run impl_1
if {[get_property PROGRESS [get_runs impl_1]] ne "100%"} {
    error "implementation failed: see [get_property DIRECTORY [get_runs impl_1]]/runme.log"
}
open_run impl_1
report_utilization -file $out/report/vivado_utilization.rpt
report_utilization -hierarchical -file $out/report/vivado_utilization_hier.rpt
report_timing_summary -file $out/report/vivado_timing.rpt
set fh [open $out/report/vivado_version.txt w]
puts $fh [version -short]
close $fh
write_bitstream -force $out/deploy/$name.bit
set hwh [lindex [get_files -all -of_objects $bd_file *.hwh] 0]
if {$hwh eq "" || ![file exists $hwh]} { error "no hardware handoff (.hwh) was generated for $name.bd" }
file copy -force $hwh $out/deploy/$name.hwh
puts "shiftbnn: wrote $out/deploy/$name.bit and $name.hwh"
