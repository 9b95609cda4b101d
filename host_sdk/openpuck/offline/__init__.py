"""Work without a puck: recordings, CSV, the detector run on samples, value
checks, the figures of a set, plots."""
