"""The plan pipeline: the budget, the modes (optimal, fixed, inference-aware, data-constrained, MoE), the stages and
the one Plan.
"""
