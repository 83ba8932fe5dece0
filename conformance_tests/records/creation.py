"""Records for tensor creation."""

from katman.conformance.records import OpRecord

RECORDS: tuple[OpRecord, ...] = ()
