"""Choice and orders (ODD 7.2): the phase (:mod:`.phase`: occasions, the logit choice of platform,
the order book) and its compiled loops (:mod:`.kernels`)."""
