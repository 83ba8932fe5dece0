"""Records for reductions, scans and sorting."""

from katman.conformance.records import OpRecord

RECORDS: tuple[OpRecord, ...] = ()
