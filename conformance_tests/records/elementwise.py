"""Records for elementwise math, comparisons and logic."""

from katman.conformance.records import OpRecord

RECORDS: tuple[OpRecord, ...] = ()
