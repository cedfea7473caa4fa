# Vivado stand-in for tclsh: `tclsh vivado_stub.tcl SCRIPT CALLS` sources SCRIPT with every Vivado
# command recorded (one line per call, fields separated by \x1f) into CALLS. Real Tcl runs as is, so
# a syntax error or an unset variable fails here as it would in Vivado. The stubs check that every
# file handed to add_files exists, and create the files Vivado would (reports, bitstream, .hwh).
set script [lindex $argv 0]
set ::log [open [lindex $argv 1] w]
set ::stub_dir [file dirname [file normalize [lindex $argv 1]]]
set ::vivado_cmds {^(create_|current_|set_property|set_param|get_|connect_|apply_|ipx::|update_|assign_|validate_|save_|generate_|make_|launch_|wait_|open_|report_|write_|close_project|version|add_files)}

proc touch {path} { close [open $path w]; return $path }

rename unknown _tcl_unknown
proc unknown {cmd args} {
    if {![regexp $::vivado_cmds $cmd]} {
        error "invalid command name \"$cmd\" (neither Tcl nor a stubbed Vivado command)"
    }
    puts $::log [join [concat [list $cmd] $args] "\x1f"]
    switch -glob -- $cmd {
        add_files {
            foreach a $args {
                if {[string match -* $a]} continue
                foreach f $a { if {![file exists $f]} { error "add_files: $f does not exist" } }
            }
            return [lindex $args end]
        }
        get_ipdefs { return [string map {* 9.9} [lindex $args end]] }
        get_property {
            if {[lindex $args 0] eq "PROGRESS"} { return "100%" }
            return $::stub_dir/run
        }
        get_files {
            if {[lsearch $args *.hwh] >= 0} { return [touch $::stub_dir/stub.hwh] }
            return [lindex $args end]
        }
        current_* { return $cmd }
        version { return "2024.2-stub" }
        make_wrapper { return [touch $::stub_dir/wrapper.v] }
        write_bitstream { touch [lindex $args end]; return "" }
        report_* { touch [lindex $args [expr {[lsearch $args -file] + 1}]]; return "" }
        default { return [lindex $args end] }
    }
}

source $script
close $::log
