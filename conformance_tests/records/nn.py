"""Records for neural-network ops."""

from katman.conformance.records import OpRecord

RECORDS: tuple[OpRecord, ...] = ()
