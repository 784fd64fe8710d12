"""Every threshold and weight that turns signals into a verdict, in one place.

docs/verdict.md explains each number and where it comes from. Change both together.
"""

# --- Blinks (Soukupova & Cech 2016 EAR; human rates from published studies) -------------
HUMAN_BLINK_RATE_REST = 17.0  # blinks per minute at rest
HUMAN_BLINK_RATE_TALKING = 26.0
HUMAN_BLINK_RATE_READING = 4.5
