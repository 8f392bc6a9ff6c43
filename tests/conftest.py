"""Shared pytest set-up.

Training tests run torch on one thread, set once for the whole session: changing torch's thread
count back and forth inside one process made later training runs on this 2-core machine many
times slower, and one thread also makes the numbers independent of the machine's core count.
"""

import torch

torch.set_num_threads(1)
