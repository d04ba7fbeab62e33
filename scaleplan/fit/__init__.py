"""Fitting laws to a user's runs: parametric (Huber grid and variable projection), IsoFLOP, sweeps, checkpoints."""
