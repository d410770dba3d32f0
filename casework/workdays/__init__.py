"""Working days: the official holiday arrangement as data, and deadlines counted on it."""
