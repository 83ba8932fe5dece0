"""Records for products and linear algebra."""

from katman.conformance.records import OpRecord

RECORDS: tuple[OpRecord, ...] = ()
