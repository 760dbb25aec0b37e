"""Learning from decisions: codebooks of decided titles, and the vote of the nearest decided titles."""
