"""The verdict: evidence and policy fused into real, fake or inconclusive, and the Report."""
