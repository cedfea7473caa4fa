"""Board deploy package: the self-contained PYNQ driver (driver.py) and its packaging."""
