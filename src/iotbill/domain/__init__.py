"""The pure core of iotbill: the rules of usage billing, with no I/O.

Owns money (currencies, the one rounding rule), time (aware instants, half-open
periods, billing cycles in a customer's zone), usage events and which of them
count, plans and their meters, the aggregations (:mod:`.metering`) and price
models (:mod:`.pricing`), subscriptions and what they owe
(:mod:`.subscription_billing`, :mod:`.documents`), invoices, credit notes and
their numbering (:mod:`.invoices`, :mod:`.numbering`), and the one error
hierarchy (:mod:`.errors`).

Does not own, and never imports: storage, files, the network, the clock or
global randomness. Every instant and every random generator is passed in, so
every result is reproducible; ``tests/unit/test_import_rules.py`` fails if a
module here imports anything of iotbill outside this package.
"""
