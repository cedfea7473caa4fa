"""flow.rtl_backend.rtlil: which modules of a netlist yosys may synthesize once."""

import pytest

from flow.rtl_backend.rtlil import identical_modules

pytestmark = pytest.mark.fast


def lane(name: str, auto: int, src: str, op: str = "$and") -> str:
    return (
        f'attribute \\src "{src}"\nattribute \\keep_hierarchy 1\'1\nmodule \\{name}\n'
        f'  attribute \\src "{src}"\n  wire width 2 input 1 \\a\n  wire width 2 output 2 \\y\n'
        f"  wire width 2 $auto${auto}_Y\n  cell {op} $auto${auto}\n    connect \\A \\a\n"
        f"    connect \\Y $auto${auto}_Y\n  end\n  connect \\y $auto${auto}_Y\nend\n"
    )


def test_copies_differing_in_auto_names_and_sources_are_one_module():
    text = (
        lane("lane$top.u0.gen[0].p", 17, "p.sv:1.1")
        + lane("lane$top.u0.gen[1].p", 942, "p.sv:1.1-1.9")
        + lane("lane$top.u1.gen[0].p", 3, "p.sv:1.1", op="$or")  # other logic: its own module
    )
    assert identical_modules(text) == [["\\lane$top.u0.gen[0].p", "\\lane$top.u0.gen[1].p"]]


def test_distinct_modules_form_no_group():
    assert identical_modules(lane("a", 1, "x.sv:1") + lane("b", 1, "x.sv:1", op="$xor")) == []


def test_a_wrapper_of_another_submodule_is_another_module():
    def wrapper(name: str, child: str) -> str:
        return f"module \\{name}\n  wire input 1 \\a\n  cell \\{child} \\u\n    connect \\a \\a\n  end\nend\n"

    text = wrapper("w$top.u0", "fifo$top.u0.f") + wrapper("w$top.u1", "fifo$top.u1.f")
    assert identical_modules(text) == []
