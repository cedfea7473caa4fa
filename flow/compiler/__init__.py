"""The compiler: QONNX -> FINN streamlined, folded HW graph -> verification and reports."""
