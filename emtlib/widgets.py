"""The book's interactive explorers (ipywidgets).

Every explorer is a function returning a widget; a chapter displays it and, beside it, a static
figure of the same behaviour so that a reader without a kernel still sees it. Widgets sit on top
of the library: this module may import any other emtlib module, and none of them imports it.
"""

from __future__ import annotations
