"""The bottom of the house: the one error type, values, files (the one way in and out), the runs reader, solvers,
YAML.
"""
