"""Every threshold and weight that turns signals into a verdict, in one place.

docs/verdict.md explains each number and where it comes from. Change both together.
"""

# --- Blinks (Soukupova & Cech 2016 EAR; human rates from published studies) -------------
HUMAN_BLINK_RATE_REST = 17.0  # blinks per minute at rest
HUMAN_BLINK_RATE_TALKING = 26.0
HUMAN_BLINK_RATE_READING = 4.5
# The open-eye baseline of a person is this percentile of their EAR series (eyes are open most
# of the time, and a high percentile ignores the dips). An eye is closing when EAR falls below
# BLINK_CLOSED_RATIO x baseline, and has reopened once it is back above BLINK_REOPEN_RATIO x
# baseline (hysteresis, so landmark jitter near the threshold does not split a blink).
BLINK_BASELINE_PERCENTILE = 90
BLINK_CLOSED_RATIO = 0.75
BLINK_REOPEN_RATIO = 0.85
# Open eyes measure about 0.25-0.35; a baseline below this means no open eye was ever seen.
BLINK_MIN_OPEN_EAR = 0.15
# A blink lasts about 100-400 ms; dips shorter than the minimum are landmark noise, closures
# longer than the maximum are not blinks and are reported separately as long closures.
BLINK_MIN_DURATION_S = 0.05
BLINK_MAX_DURATION_S = 0.5
# Missing landmarks up to this long are bridged (they neither create nor split a blink);
# a longer gap ends any closure in progress.
BLINK_MAX_GAP_S = 0.25
# Below this frame rate a blink can fall between two frames.
BLINK_MIN_FPS = 10.0
# Light smoothing ([1, 2, 1] / 4) only at or above this rate, where a blink spans several
# frames; at lower rates it would erase one-frame blinks.
BLINK_SMOOTH_MIN_FPS = 20.0
# Blinks are measured only while the face looks at the camera (ml/faces/pose.py): pitched
# down further than this below the person's own upright pose (this percentile of their pitch),
# or turned further than this, the eye aspect ratio reads "closed" on open eyes. On the GRID
# speakers the pitch of each clip spans at most 7 degrees and the yaw at most 18 degrees off
# straight; the generated 25-degree look-down reads 16 degrees below upright.
BLINK_MAX_PITCH_DOWN_DEG = 12.0
BLINK_UPRIGHT_PERCENTILE = 10
BLINK_MAX_YAW_DEG = 30.0
# Evidence needed for any blink statement.
BLINK_MIN_OBSERVED_S = 5.0
BLINK_MIN_USABLE_FRAMES = 50
# Rates are judged only over at least BLINK_MIN_SPAN_FOR_RATE_S of measurable eyes: a
# 10-second clip holds only about 3 blinks, and its rate is mostly chance.
BLINK_MIN_SPAN_FOR_RATE_S = 20.0
# Published rates of people talking (Doughty, Optometry and Vision Science 2001, a review of
# studies of spontaneous blinking: 10.5-32.5 per minute in conversation). Inside this range a
# rate is normal for a speaker; outside it, a weak finding that never holds a verdict back.
HUMAN_BLINK_RATE_TALKING_MIN = 10.5
HUMAN_BLINK_RATE_TALKING_MAX = 32.5
# Below this (and above zero) the rate is far below even the reading rate: still weak.
BLINK_LOW_RATE_PER_MIN = 3.0
# The one strong finding: no blink at all over this much open-eye time facing the camera. At
# the resting rate a person blinks about 6 times in 20 s, while talking about 9 times.
BLINK_ABSENT_MIN_S = 20.0
# Blink findings (reason codes, ml/signals/blink.py) that turn a classifier's "real" into
# "inconclusive". Only the strong one: rates, however unusual, and long closures are shown
# but never hold a verdict back (on real footage they fired on most real videos). Blinks never
# make a "fake" on their own (docs/verdict.md).
BLINK_HOLDS_BACK_REAL = frozenset({"blink.absent"})
# The EAR curve kept in the report, for the chart.
BLINK_SERIES_MAX_POINTS = 300

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

# --- Frame classifier + temporal model -----------------------------------------------------
# When both scored a face, its score (and the threshold it is compared with) is this weighted
# mean of the two models' scores (and of their card thresholds). Equal weights: neither model
# has been shown better than the other on the same data, and a mean of calibrated
# probabilities stays a probability.
FRAME_MODEL_WEIGHT = 0.5
TEMPORAL_MODEL_WEIGHT = 0.5

# --- People: one identity per person, and which faces may decide ---------------------------
# dlib's documented threshold for its 128-D face descriptor: two faces closer than this are the
# same person (99.38 % on LFW). Fragments seen at the same time are never merged, whatever the
# distance (the mirrored astronaut of the tests is 0.20 from the original).
SAME_PERSON_DISTANCE = 0.6
# Descriptors per fragment, from its sharpest chips: each costs about 0.4 s on one CPU core.
DESCRIPTORS_PER_FRAGMENT = 2
# Size, sharpness and pose are measured on every QUALITY_EVERY-th sighting of a face.
QUALITY_EVERY = 3
# A person may decide the verdict only if the median sighting passes all of these; the values
# were chosen on generated clips, H.264 renderings and real speakers (docs/verdict.md, section 3):
# - the detector box is at least this many pixels on its shorter side (classifiers see 128-380
#   px crops; below 40 px a crop is mostly upscaling, and dlib's detector itself stops near 40);
MIN_JUDGED_FACE_PX = 40
# - the sharpness of the 150 px aligned chip (100 x (1 - Crete's blur effect), contrast-free) is
#   at least this: the same face as H.264 at 480p/720p/1080p and typical bitrates measures
#   43-53, real GRID speakers and MesoNet's sample faces 46-60, generated MJPEG faces of 49-63 px
#   38-43; under a Gaussian blur of sigma 2 px the H.264 renderings measure 16-33;
MIN_JUDGED_SHARPNESS = 35.0
# - the nose tip splits the jaw at worst 1:4 (about 60 degrees of yaw; beyond that frame
#   classifiers trained on frontal faces are unreliable);
MIN_JUDGED_FRONTALNESS = 0.4
# - on videos, the face is seen for at least this long (a stray detection lasts a few frames).
MIN_JUDGED_SEEN_S = 1.0

# --- Provenance: Content Credentials (C2PA) and unsigned hints (ml/signals/provenance.py) ---
# A valid or trusted C2PA manifest that declares AI generation (IPTC trainedAlgorithmicMedia)
# or generative AI edits (compositeWithTrainedAlgorithmicMedia, generative fill) makes "fake"
# whatever the face classifiers say, also when no face is found: the maker of the file states it.
PROVENANCE_MAKES_FAKE = frozenset({"provenance.ai_declared", "provenance.ai_declared_composite"})
# Findings a person should look at; they never decide the verdict. A broken manifest (altered
# after signing, or a bad signature) and unsigned generator metadata are both easy to produce.
PROVENANCE_FLAGS_REVIEW = frozenset({"provenance.invalid", "provenance.hint_ai"})
# Everything else (a capture claim, procedural media, unverifiable or absent credentials) is
# shown only: credentials prove where a file came from, not what it shows.

# --- What a model may say: reliability from its card (docs/verdict.md, section 5) ----------
# A low score from a detector that generalises poorly is weak evidence of "real": DeepfakeBench
# (Yan et al., NeurIPS 2023) reports Meso-4 trained on FF++ at about 0.61 frame AUC on Celeb-DF
# v2 and 0.56 on DFDC. A model may support a confident "real" only when the evidence on its card
# reaches this AUC: measured on this platform's data (its latest evaluation with at least
# MIN_PLATFORM_EVALUATION_ITEMS items), else on every cross-dataset test published for it.
# 0.9 sits above what FF++-trained baselines reach across datasets (EfficientNet-B4 0.749 on
# Celeb-DF v2, 0.696 on DFDC) and below what generalisation-focused models reach on their best
# unseen sets (SBI 93.82 video AUC on Celeb-DF). Unknown evidence counts as weak.
STRONG_EVIDENCE_AUC = 0.9
MIN_PLATFORM_EVALUATION_ITEMS = 50
# A weak model keeps its "fake" at the usual bound (threshold + UNCERTAINTY_BAND), its
# high-precision end: measured on 29 labelled real-world files, meso4-df called no real file fake.

# --- Policy cards: decision bounds calibrated on labelled data (manage.py calibrate) -------
# Without an applicable card, every result is judged under this version of the policy.
DEFAULT_POLICY_VERSION = "default"
# A proposal resting on fewer labelled items than this is marked provisional on its card.
MIN_CALIBRATION_ITEMS = 50

# --- Generated images: whole-image detectors (ml/signals/generated.py, docs/verdict.md) ----
# A whole-image detector's score within this distance of its card's threshold is too close to
# call, as for the face classifiers; the band narrows near 0 and 1 the same way.
GENERATED_UNCERTAINTY_BAND = 0.1
# A confident score makes "fake" on its own, also with no face: the detector was trained on
# millions of generated and real images, not on faces (Park & Owens, CVPR 2025).
GENERATED_MAKES_FAKE = frozenset({"generated.detected"})
# A low score never makes "real" (a face swap on a real photo is not generated); a score too
# close to call turns the face classifiers' "real" into "inconclusive".
GENERATED_HOLDS_BACK_REAL = frozenset({"generated.near_threshold"})
# A video's score is each detector's mean over `generated_frames` evenly spaced frames (an
# option, ml/options.py), so that one odd frame does not decide.
