"""verification stage: Django side (rows, batches, progress) around the pure-Python core."""
