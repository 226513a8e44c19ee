"""Settings for the workorders benchmark's floor server: GridCare's settings with only the bare
intake endpoint of `bench.floor_urls` mounted. Benchmark code; never used by the product."""
from gridcare.settings import *  # noqa: F403

ROOT_URLCONF = "bench.floor_urls"
