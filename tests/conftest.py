import os

import matplotlib
from hypothesis import settings

matplotlib.use("Agg")

# CI runs every property test on the same examples: a failure there is a real
# failure, never a draw of the dice. Locally hypothesis explores as usual.
settings.register_profile("ci", derandomize=True, print_blob=True)
settings.load_profile("ci" if os.environ.get("CI") else "default")
