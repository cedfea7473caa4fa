"""Data sets as uint8 images with labels: the built-in offline ones and the readers of user folders."""
