"""Inputs at the edge: human units, the one set of caps, one parser per field, parameter-count conventions, example
budgets.
"""
