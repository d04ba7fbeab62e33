"""The trainable model and how to train it: vocabulary, shape (GQA, SwiGLU, divisible), LR and batch, schedules,
FLOPs per token, trainers' configs read back.
"""
