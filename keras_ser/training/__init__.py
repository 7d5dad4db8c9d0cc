"""Distributed training: strategies and the train loop."""
