"""Records for elementwise arithmetic and the basic reductions."""

from katman.conformance.records import OpRecord
from katman.conformance.strategies import FLOATS, NUMERIC, binary, reduction, unary

RECORDS = (
    OpRecord("add", binary(NUMERIC, mixed=True), grad_args=(0, 1)),
    OpRecord("subtract", binary(NUMERIC, mixed=True), grad_args=(0, 1)),
    OpRecord("multiply", binary(NUMERIC, mixed=True), grad_args=(0, 1)),
    OpRecord("divide", binary(NUMERIC, second_domain=(0.5, 10.0), mixed=True), grad_args=(0, 1)),
    OpRecord(
        "divide_no_nan", binary(NUMERIC, second_domain=(0.5, 10.0), mixed=True), grad_args=(0, 1)
    ),
    OpRecord("maximum", binary(NUMERIC, mixed=True), grad_args=(0, 1)),
    OpRecord("minimum", binary(NUMERIC, mixed=True), grad_args=(0, 1)),
    OpRecord("negative", unary(NUMERIC)),
    OpRecord("abs", unary(NUMERIC)),
    OpRecord("square", unary(NUMERIC)),
    OpRecord("sqrt", unary(NUMERIC, domain=(0.01, 100.0))),
    OpRecord("exp", unary(FLOATS, domain=(-10.0, 10.0))),
    OpRecord("log", unary(NUMERIC, domain=(0.01, 100.0))),
    OpRecord("sum", reduction(NUMERIC)),
    OpRecord("mean", reduction(NUMERIC)),
)
