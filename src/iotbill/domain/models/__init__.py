"""The IoT business models' pure rules, one file each.

This package owns rules that a business model adds to plain metered pricing
(a risk factor on pay-per-use insurance, ...); each is a frozen value with the
function that applies it. Parsing them from a plan file is
:mod:`iotbill.domain.plan_parsing`'s; billing them is rating's.
"""
