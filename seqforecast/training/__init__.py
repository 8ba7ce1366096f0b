"""Training machinery: gradient clipping, optimizers and losses."""
