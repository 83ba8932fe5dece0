"""Records for core ops: casting, indexing, scatter and control flow."""

from katman.conformance.records import OpRecord

RECORDS: tuple[OpRecord, ...] = ()
