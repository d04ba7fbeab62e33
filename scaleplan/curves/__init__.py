"""Training-curve laws: the loss at every step under a learning-rate schedule, fitted from logs."""
