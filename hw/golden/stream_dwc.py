"""Golden model of stream_dwc (data-width converter): the stream is one bit string, regrouped.

Input beat n holds bits [n*in_bits, (n+1)*in_bits) of the stream, output beat m bits
[m*out_bits, (m+1)*out_bits) (element 0 in the LSBs, hw.golden.stream's packing), so elements of
elem_bits bits stay whole whenever both widths are multiples of elem_bits. A frame's bits must be a
multiple of both widths (then of their lcm), so no beat straddles two frames.

``convert_beats`` works on beat integers with Python's big integers (independent of the RTL's lane
buffer).
"""


def convert_beats(beats, in_bits: int, out_bits: int) -> list[int]:
    """Input beats (ints of ``in_bits`` bits) -> output beats of ``out_bits`` bits."""
    if in_bits < 1 or out_bits < 1:
        raise ValueError(f"widths must be >= 1, got {in_bits} -> {out_bits}")
    total = len(beats) * in_bits
    if total % out_bits:
        raise ValueError(f"{len(beats)} beats of {in_bits} bits do not fill beats of {out_bits} bits")
    stream = 0
    for n, beat in enumerate(beats):
        if not 0 <= int(beat) < 1 << in_bits:
            raise ValueError(f"input beat {n} does not fit {in_bits} bits")
        stream |= int(beat) << (n * in_bits)
    mask = (1 << out_bits) - 1
    return [(stream >> (m * out_bits)) & mask for m in range(total // out_bits)]
