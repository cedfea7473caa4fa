"""The shift experiment: sweeps, plots, results tables."""
