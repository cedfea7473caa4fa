"""Training: data sets, the training loop, evaluation."""
