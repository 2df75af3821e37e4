"""Word of mouth (ODD 7.1): the phase (:mod:`.phase`: adoption, awareness, complaints) and its
compiled loops (:mod:`.kernels`)."""
