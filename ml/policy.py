"""Every threshold and weight that turns signals into a verdict, in one place.

docs/verdict.md explains each number and where it comes from. Change both together.
"""

# --- Blinks (Soukupova & Cech 2016 EAR; human rates from published studies) -------------
HUMAN_BLINK_RATE_REST = 17.0  # blinks per minute at rest
HUMAN_BLINK_RATE_TALKING = 26.0
HUMAN_BLINK_RATE_READING = 4.5

# --- Frame → face → media aggregation (DFDC 1st place, selimsef/dfdc_deepfake_challenge) ---
# The "confident strategy": if more than n/2.5 frames (and more than 11) score above 0.8,
# the face's score is the mean of those confident frames; else if more than 90 % of the frames
# score below 0.2 it is the mean of those; else the mean of all frames.
CONFIDENT_FAKE_SCORE = 0.8
CONFIDENT_FAKE_DIVISOR = 2.5  # more than n / 2.5 frames must be confident...
CONFIDENT_FAKE_MIN_FRAMES = 11  # ...and more than this many (tuned for 32 sampled frames)
CONFIDENT_REAL_SCORE = 0.2
CONFIDENT_REAL_FRACTION = 0.9
# A face seen in fewer scored frames than this (in a video) is a likely stray detection: it
# only decides the media score when no face was scored more often.
MIN_SCORED_FRAMES_PER_FACE = 3

# --- Fusion: from scores and blinks to real / fake / inconclusive -------------------------
# Scores within this distance of the classifier's own threshold (from its model card) are
# too close to call: the verdict is "inconclusive".
UNCERTAINTY_BAND = 0.1
