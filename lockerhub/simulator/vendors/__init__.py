"""Vendor-style simulators: the same simulated World served in the wire style of one locker API each."""
