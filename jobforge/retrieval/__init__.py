"""Title normalisation and the candidate index over the active O*NET release."""
