"""Our qonnx transformations for what FINN does not do itself (one file per purpose)."""
