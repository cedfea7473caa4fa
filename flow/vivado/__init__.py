"""Vivado side of the board path: Tcl generation for IP packaging + Zynq block design, and its runner."""
