"""emtlib: the library of the book *Episodic Memory Theory of Recurrent Neural Networks*.

One module per idea of the book, in the order the book builds them; a lower module never imports
a higher one, and every import sits at the top of its file::

    tasks     -> the variable binding task family, ids, sequences   (chapter "Variable binding tasks")
    linalg    -> bases, duals, change of basis      (chapter "Bases, dual bases and Dirac notation")
    gsemm     -> the sequence memory model, its reduction to an RNN, conjugacy (chapters "The
                 General Sequential Episodic Memory Model", "From GSEMM to RNNs")
    circuit   -> Φ, its cycles, long-lived modes, recalled values; the linear and saturating
                 circuits                           (chapter "The variable binding circuit")
    rnn       -> the bias-free Elman RNN (and what every recurrent model shares), saving and
                 loading weights
    architectures -> the Elman RNN with biases, the GRU and the LSTM (chapter "Beyond the Elman RNN")
    train     -> the training loop: curriculum, optimizer, evaluation, stopping, callbacks
                                                    (chapter "Training RNNs on variable binding")
    spectra   -> linearization, eigen-spectra, spectral error (same chapter, and "Universality")
    basis     -> privileged basis, dual, Φ in that basis, decoding, probes and controls
                                                    (chapter "The privileged basis and hidden neurons")
    interventions -> editing a stored variable through a basis (chapter "Interventions")
    plots, widgets -> the book's recurring figures and explorers (all chapters)

The experiments (named training recipes, run records, stores, the zoo of trained models, sweeps
and Table 1) are :mod:`emtlib.lab`, which uses the library like any reader would; no module above
imports it.
"""

__version__ = "0.1.0"
