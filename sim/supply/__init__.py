"""Suppliers and procurement (ODD 7.6): the suppliers (:mod:`.suppliers`), the newsvendor and
the stock's lots (:mod:`.procurement`), the phase that buys tomorrow's goods (:mod:`.phase`) and
its compiled loops (:mod:`.kernels`)."""
