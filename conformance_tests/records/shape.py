"""Records for shape manipulation."""

from katman.conformance.records import OpRecord

RECORDS: tuple[OpRecord, ...] = ()
