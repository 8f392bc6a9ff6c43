"""emtlib: the library of the book *Episodic Memory Theory of Recurrent Neural Networks*.

One module per idea of the book; a lower module never imports a higher one::

    tasks    -> the variable binding task family          (chapter "Variable binding tasks")
    circuit  -> the variable binding circuit              (chapter "The variable binding circuit")
    plots, widgets -> the book's recurring figures and explorers (all chapters)
"""

__version__ = "0.1.0"
