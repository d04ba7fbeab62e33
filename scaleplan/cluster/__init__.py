"""Hardware presets, training cost and energy, memory and layout on a cluster, and serving (the roofline)."""
