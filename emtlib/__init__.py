"""emtlib: the library of the book *Episodic Memory Theory of Recurrent Neural Networks*.

One module per idea of the book; a lower module never imports a higher one::

    gsemm    -> the sequence memory model and its reduction (chapters "Bases, dual bases and Dirac
                notation", "The General Sequential Episodic Memory Model", "From GSEMM to RNNs")
    tasks    -> the variable binding task family          (chapter "Variable binding tasks")
    circuit  -> the variable binding circuit              (chapter "The variable binding circuit")
    rnn      -> the bias-free Elman RNN, save and load    (chapter "Training RNNs on variable binding")
    train    -> training loop, curriculum, evaluation      (chapter "Training RNNs on variable binding")
    spectra  -> linearization, eigen-spectra, spectral error (same chapter, and "Universality")
    basis    -> privileged basis, decoding, interventions  (chapters "The privileged basis and hidden
                neurons", "Interventions")
    zoo      -> shipped trained models: build, verify, load (every chapter on trained networks)
    sweep    -> grid sweeps on Dask, resumable results, Table 1 (chapter "Universality", appendix
                "Running the experiments at scale")
    plots, widgets -> the book's recurring figures and explorers (all chapters)
"""

__version__ = "0.1.0"
